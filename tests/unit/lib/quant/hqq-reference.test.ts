/**
 * src/lib/quant/hqq.ts (float32 JS) and its WASM twin against the real HQQ code: tests/fixtures/hqq-reference.json
 * is written by scripts/reference/hqq_reference.py, which runs hqq 0.2.8.post1 (mobiusml/hqq e0b1d00)
 * `Quantizer.quantize(optimize=True)` + `Quantizer.dequantize` (float32 meta) under torch 2.13.0+cpu.
 *
 * Expected agreement: codes, scales and the optimizer's step count exactly; zeros (and so dequantized values) to a
 * few float32 ulps, because torch's float32 sums run in a vectorised, cascaded order (it depends on the CPU's vector
 * width) and its vectorised `pow` is SLEEF's (≤ 1 ulp) — neither is reproducible bit for bit, see hqq.ts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeQuantize, roundToFp16, setWasmEnabled } from '../../../../src/lib/quant/index';
import type { Axis, Bits, FakeQuantResult } from '../../../../src/lib/quant/index';
import { gatherPlan } from '../../../../src/lib/quant/grouping';
import { hqqGathered } from '../../../../src/lib/quant/hqq';
import { hqqWasm, hqqWasmActive } from '../../../../src/lib/quant/wasm/hqq';
import { roundToFp32Saturating } from '../../../../src/lib/quant/fp16';

type Case = {
  name: string;
  heads: number;
  tokens: number;
  headDim: number;
  layout: Axis;
  bits: Bits;
  groupSize: number;
  input: number[];
  codes: number[];
  scales: number[];
  zeros: number[];
  dequantized: number[];
  steps: number;
};
const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/hqq-reference.json', import.meta.url), 'utf8')) as {
  source: string;
  cases: Case[];
};
const PARAMS = { lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 };

type Run = FakeQuantResult & { steps: number };
function run(c: Case, path: 'js' | 'wasm', meta: 'fp16' | 'fp32' = 'fp32'): Run | null {
  const data = Float32Array.from(c.input);
  const n = data.length;
  const P = gatherPlan(c.layout, c, c.groupSize);
  const out = {
    dequantized: new Float32Array(n),
    codes: new Uint8Array(n),
    scales: new Float32Array(P.groups),
    zeros: new Float32Array(P.groups),
  };
  const round = meta === 'fp32' ? roundToFp32Saturating : (x: number) => roundToFp16(x);
  const steps =
    path === 'js'
      ? hqqGathered(
          data,
          P.idx,
          P.off,
          P.groups,
          c.bits,
          PARAMS,
          round,
          out.codes,
          out.dequantized,
          out.scales,
          out.zeros,
          c.layout === 'token',
        )
      : hqqWasm(
          c.layout,
          data,
          c.heads,
          c.tokens,
          c.headDim,
          c.groupSize,
          c.bits,
          PARAMS,
          meta,
          out.codes,
          out.dequantized,
          out.scales,
          out.zeros,
        );
  if (steps === false) return null;
  return { ...out, groups: P.groups, steps };
}

afterEach(() => setWasmEnabled(true));

describe(`HQQ against ${fixture.source}`, () => {
  it('the fixture covers every layout, bit width 1/2/3/4/8 and group sizes 4/8/16, with early and late stops', () => {
    expect(new Set(fixture.cases.map((c) => c.layout))).toEqual(new Set(['token', 'strided', 'flat-channel', 'channel']));
    expect(new Set(fixture.cases.map((c) => c.bits))).toEqual(new Set([1, 2, 3, 4, 8]));
    expect(new Set(fixture.cases.map((c) => c.groupSize))).toEqual(new Set([4, 8, 16]));
    const steps = fixture.cases.map((c) => c.steps);
    expect(Math.min(...steps)).toBeLessThanOrEqual(2);
    expect(Math.max(...steps)).toBe(20);
  });

  const paths = hqqWasmActive() ? (['js', 'wasm'] as const) : (['js'] as const);
  for (const path of paths) {
    it(`${path}: exact codes and scales everywhere; step counts, zeros and dequantized values as torch's float32 allows`, () => {
      let stepsOff = 0;
      let zerosExact = 0;
      let zerosTotal = 0;
      let worstZero = 0;
      let worstDeq = 0;
      for (const c of fixture.cases) {
        const r = run(c, path)!;
        const where = `${c.name} ${c.layout} G${c.groupSize} ${c.bits}b`;
        expect([...r.codes], where).toEqual(c.codes);
        expect([...r.scales], where).toEqual(c.scales);
        // The early stop compares two float32 means that can be equal to within torch's summation order: a step
        // more or less, never more than one.
        expect(Math.abs(r.steps - c.steps), where).toBeLessThanOrEqual(1);
        if (r.steps !== c.steps) {
          stepsOff++;
          continue;
        }
        // zeros are in code units [0, 2^b − 1]: measure in float32 ulps at 2^b (an ulp of a zero near 0 is tiny)
        const unit = 2 ** c.bits * 2 ** -23;
        for (let g = 0; g < r.groups; g++) {
          zerosTotal++;
          if (r.zeros[g] === c.zeros[g]) zerosExact++;
          worstZero = Math.max(worstZero, Math.abs(r.zeros[g] - c.zeros[g]) / unit);
        }
        const P = gatherPlan(c.layout, c, c.groupSize);
        for (let g = 0; g < r.groups; g++) {
          for (let k = P.off[g]; k < P.off[g + 1]; k++) {
            const i = P.idx[k];
            worstDeq = Math.max(worstDeq, Math.abs(r.dequantized[i] - c.dequantized[i]) / (c.scales[g] * unit));
          }
        }
      }
      console.log(
        `${path}: ${stepsOff}/${fixture.cases.length} cases one step off; zeros bit-exact ${zerosExact}/${zerosTotal}, ` +
          `worst zero ${worstZero.toFixed(2)} ulp(2^b), worst x̂ ${worstDeq.toFixed(2)} scale·ulp(2^b)`,
      );
      expect(stepsOff).toBeLessThanOrEqual(6);
      expect(zerosExact / zerosTotal).toBeGreaterThan(0.8);
      expect(worstZero).toBeLessThanOrEqual(8);
      expect(worstDeq).toBeLessThanOrEqual(8);
    });
  }

  it("fp16 meta: the stored scale and zero are HQQ's float32 values rounded once to fp16 (Transformers casts meta)", () => {
    let checked = 0;
    for (const c of fixture.cases) {
      const r32 = run(c, 'js', 'fp32')!;
      if (r32.steps !== c.steps) continue;
      const r16 = run(c, 'js', 'fp16')!;
      expect([...r16.codes]).toEqual(c.codes);
      for (let g = 0; g < r16.groups; g++) {
        expect(r16.scales[g]).toBe(roundToFp16(c.scales[g]));
        if (r32.zeros[g] === c.zeros[g]) {
          expect(r16.zeros[g]).toBe(roundToFp16(c.zeros[g]));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("fakeQuantize (either path) gives the fixture's codes with metaDtype fp32 on every layout", () => {
    for (const wasm of [true, false]) {
      setWasmEnabled(wasm);
      for (const c of fixture.cases.filter((_, i) => i % 7 === 0)) {
        const r = fakeQuantize(
          { data: Float32Array.from(c.input), heads: c.heads, tokens: c.tokens, headDim: c.headDim },
          { bits: c.bits, groupSize: c.groupSize, axis: c.layout, method: 'hqq', metaDtype: 'fp32' },
        );
        expect([...r.codes]).toEqual(c.codes);
        expect([...r.scales]).toEqual(c.scales);
      }
    }
  });
});
