/**
 * The WebAssembly SIMD HQQ kernel (src/lib/quant/wasm/hqq.ts + hqq.wat) against the float32 JS path
 * (src/lib/quant/hqq.ts `hqqGathered`): both port hqq 0.2.8.post1 `optimize_weights_proximal_legacy` operation for
 * operation in float32, so they must agree BIT FOR BIT — codes, dequantized values, scales, zeros and the number of
 * optimizer steps — on every layout, bit width, group size, metadata dtype and parameter set. (Agreement with the
 * real HQQ code is tested in hqq-reference.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { hqqGathered, pow64 } from '../../../../src/lib/quant/hqq';
import { metaRounder } from '../../../../src/lib/quant/fp16';
import { gatherPlan } from '../../../../src/lib/quant/grouping';
import { AXES } from '../../../../src/lib/quant/enums';
import type { Axis } from '../../../../src/lib/quant/enums';
import { setWasmEnabled } from '../../../../src/lib/quant/wasm/index';
import { hqqPowWasm, hqqWasm, hqqWasmActive } from '../../../../src/lib/quant/wasm/hqq';
import type { HqqParams } from '../../../../src/lib/quant/types';
import { compileKernel } from '../../../../scripts/build-wasm.mjs';
import { keyLikeTensor, mulberry32 } from './reference';

const root = join(__dirname, '../../../..');
const DEFAULT: HqqParams = { lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 };

afterEach(() => setWasmEnabled(true));

type Meta = 'fp16' | 'fp32';
type Out = { it: number | false; codes: Uint8Array; deq: Float32Array; scales: Float32Array; zeros: Float32Array };
type Shape = { data: Float32Array; heads: number; tokens: number; headDim: number };

function alloc(n: number, groups: number): Out {
  return {
    it: false,
    codes: new Uint8Array(n),
    deq: new Float32Array(n),
    scales: new Float32Array(groups),
    zeros: new Float32Array(groups),
  };
}

function runJs(axis: Axis, t: Shape, G: number, bits: number, meta: Meta, params: HqqParams): Out {
  const P = gatherPlan(axis, t, G);
  const o = alloc(t.data.length, P.groups);
  o.it = hqqGathered(t.data, P.idx, P.off, P.groups, bits, params, metaRounder(meta), o.codes, o.deq, o.scales, o.zeros, axis === 'token');
  return o;
}

function runWasm(axis: Axis, t: Shape, G: number, bits: number, meta: Meta, params: HqqParams): Out {
  const P = gatherPlan(axis, t, G);
  const o = alloc(t.data.length, P.groups);
  o.it = hqqWasm(axis, t.data, t.heads, t.tokens, t.headDim, G, bits, params, meta, o.codes, o.deq, o.scales, o.zeros);
  return o;
}

/** Bitwise equality of two float32 arrays (distinguishes −0 from +0). */
function sameBits(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diff = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff++;
  return diff;
}

/** Runs both paths, expects bit-identical outputs; returns the step count. */
function expectIdentical(axis: Axis, t: Shape, G: number, bits: number, meta: Meta, params: HqqParams = DEFAULT): number {
  const js = runJs(axis, t, G, bits, meta, params);
  const wa = runWasm(axis, t, G, bits, meta, params);
  const what = `${axis} bits ${bits} G ${G} ${meta} shape ${t.heads}×${t.tokens}×${t.headDim} ${JSON.stringify(params)}`;
  expect(wa.it, what).toBe(js.it);
  expect(sameBits(wa.scales, js.scales), `${what}: scales`).toBe(0);
  expect(sameBits(wa.zeros, js.zeros), `${what}: zeros`).toBe(0);
  expect(sameBits(wa.deq, js.deq), `${what}: dequantized`).toBe(0);
  expect(Buffer.from(wa.codes).equals(Buffer.from(js.codes)), `${what}: codes`).toBe(true);
  return js.it as number;
}

/** A group size the layout accepts for this shape (G itself if possible, else the largest accepted one below it). */
function fitG(axis: Axis, t: Omit<Shape, 'data'>, G: number): number {
  const n = t.heads * t.tokens * t.headDim;
  const rows = t.heads * t.tokens;
  for (let g = G; g > 1; g--) {
    if ((axis === 'token' || axis === 'strided') && n % g === 0) return g;
    if (axis === 'flat-channel' && rows % g === 0) return g;
    if (axis === 'channel') return g;
  }
  return 1;
}

const tensor = (values: number[], heads = 1, tokens = 1): Shape => ({
  data: Float32Array.from(values),
  heads,
  tokens,
  headDim: values.length / (heads * tokens),
});

describe.runIf(hqqWasmActive())('hqq wasm kernel', () => {
  it('the committed hqq.generated.ts is what scripts/build-wasm.mjs produces from hqq.wat', async () => {
    const dir = join(root, 'src/lib/quant/wasm');
    const fresh = await compileKernel(readFileSync(join(dir, 'hqq.wat'), 'utf8'), 'HQQ_WASM_BASE64', 'hqq.wat');
    expect(readFileSync(join(dir, 'hqq.generated.ts'), 'utf8')).toBe(fresh);
  });

  it('$pow64 equals hqq.ts pow64 bit for bit, and is the float32-rounded power to within 1 ulp of Math.pow', () => {
    const r = mulberry32(5);
    const a = new Float32Array(4096);
    for (let i = 0; i < a.length; i++) a[i] = Math.exp((r() * 2 - 1) * 70); // ~[4e-31, 2.5e30]
    a.set([0, -0, 1e-45, 1e-39, 2 ** -126, 1, 0.5, 2, 3.4e38, 0.3, 0.7, 1.5]);
    for (const e of [0.7 - 1, 0.5 - 1, 0.95 - 1, 0.05 - 1, 0.999 - 1, Math.fround(0.7 - 1)]) {
      const w = hqqPowWasm(a, e)!;
      let exact = 0;
      for (let i = 0; i < a.length; i++) {
        const js = Math.fround(pow64(a[i], e));
        expect(Object.is(w[i], js), `a = ${a[i]}, e = ${e}`).toBe(true);
        if (a[i] >= 2 ** -126) {
          const ref = Math.pow(a[i], e);
          const ulp = 2 ** (Math.floor(Math.log2(ref)) - 23);
          expect(Math.abs(w[i] - ref), `a = ${a[i]}, e = ${e}`).toBeLessThanOrEqual(ulp); // ≤ 0.5 ulp + rounding
          if (w[i] === Math.fround(ref)) exact++;
        } else {
          // 0 and subnormals: raised to 2^-126, a large finite power (the shrink then relu()s to 0 as with ∞)
          expect(w[i]).toBe(Math.fround(Math.pow(2 ** -126, e)));
        }
      }
      expect(exact).toBeGreaterThanOrEqual(a.length - 16); // the correctly rounded float32 power almost always
    }
  });

  it('bit-identical to the JS path on key-like tensors: every layout, bits 1–8, several G, fp16/fp32 meta', () => {
    const t = keyLikeTensor(7, 2, 48, 32);
    const steps = new Set<number>();
    for (const axis of AXES) {
      for (const bits of [1, 2, 3, 4, 8]) {
        for (const G of [8, 16, 32, 64]) {
          for (const meta of ['fp16', 'fp32'] as const) steps.add(expectIdentical(axis, t, fitG(axis, t, G), bits, meta));
        }
      }
    }
    expect(steps.size).toBeGreaterThan(2); // early and late stops were exercised
  });

  it('odd shapes: partial channel block, G not a multiple of 4, headDim not a multiple of 4, chunks of unequal groups', () => {
    for (const [h, tk, d] of [
      [1, 37, 6],
      [3, 5, 7],
      [2, 9, 3],
      [1, 1, 12],
      [4, 6, 2],
    ]) {
      const t = keyLikeTensor(h * 100 + tk + d, h, tk, d);
      for (const axis of AXES) {
        for (const G of [1, 2, 3, 5, 6, 8]) {
          const g = fitG(axis, t, G);
          for (const bits of [2, 4]) expectIdentical(axis, t, g, bits, 'fp32');
        }
      }
    }
  });

  it('ties, constant groups, ±0, subnormals, tiny (1e-30) and huge (1e30) magnitudes', () => {
    const cases: Shape[] = [
      tensor([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 0.25, 0.25, 0.25, 0.25, 0, -0, 0, -0]),
      tensor([2, 2, 2, 2, 1e-30, -1e-30, 0, 5e-31, 1e-45, -1e-45, 1e-39, 0, 7, 7, 7, 7]),
      tensor([1e30, -1e30, 0, 5e29, 3e38, -3e38, 1, 2, 0, 0.001, 0.0005, 0.00025, 1, 1.00001, 1.00002, 1]),
    ];
    for (const t of cases) {
      for (const axis of ['token', 'strided'] as const) {
        for (const G of [2, 4, 8, 16])
          for (const bits of [1, 2, 3, 4, 8]) for (const meta of ['fp16', 'fp32'] as const) expectIdentical(axis, t, G, bits, meta);
      }
    }
  });

  it('iters 0 and 1, and non-default lpNorm / beta / kappa (κ is unused: same result for any κ)', () => {
    const t = keyLikeTensor(3, 2, 20, 16);
    for (const params of [
      { ...DEFAULT, iters: 0 },
      { ...DEFAULT, iters: 1 },
      { ...DEFAULT, lpNorm: 0.3 },
      { ...DEFAULT, lpNorm: 0.95 },
      { ...DEFAULT, beta: 1 },
      { ...DEFAULT, beta: 1e4 },
      { ...DEFAULT, iters: 100 },
    ]) {
      for (const axis of AXES) expectIdentical(axis, t, 8, 3, 'fp32', params);
    }
    const a = runWasm('strided', t, 8, 2, 'fp32', DEFAULT);
    const b = runWasm('strided', t, 8, 2, 'fp32', { ...DEFAULT, kappa: 3 });
    expect(sameBits(a.deq, b.deq)).toBe(0);
  });

  it('non-finite data: returns false and writes nothing (the JS path throws the RangeError)', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const t = keyLikeTensor(1, 1, 8, 8);
      t.data[13] = bad;
      const o = runWasm('strided', t, 8, 4, 'fp16', DEFAULT);
      expect(o.it).toBe(false);
      expect(o.codes.every((c) => c === 0)).toBe(true);
      expect(() => runJs('strided', t, 8, 4, 'fp16', DEFAULT)).toThrow(/tensor.data\[13\]/);
    }
  });

  it('falls back (false) when switched off with setWasmEnabled(false)', () => {
    setWasmEnabled(false);
    expect(hqqWasmActive()).toBe(false);
    expect(runWasm('token', keyLikeTensor(1, 1, 8, 8), 8, 4, 'fp16', DEFAULT).it).toBe(false);
  });

  it('property: random shapes, layouts and configs are bit-identical', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1e9 }),
          heads: fc.integer({ min: 1, max: 3 }),
          tokens: fc.integer({ min: 1, max: 40 }),
          headDim: fc.integer({ min: 1, max: 24 }),
          G: fc.integer({ min: 1, max: 40 }),
          axis: fc.constantFrom(...AXES),
          bits: fc.constantFrom(1, 2, 3, 4, 8),
          meta: fc.constantFrom('fp16' as const, 'fp32' as const),
          scale: fc.constantFrom(1e-3, 1, 1e3),
        }),
        ({ seed, heads, tokens, headDim, G, axis, bits, meta, scale }) => {
          const t = keyLikeTensor(seed, heads, tokens, headDim);
          for (let i = 0; i < t.data.length; i++) t.data[i] *= scale;
          expectIdentical(axis, t, fitG(axis, t, G), bits, meta);
        },
      ),
      { numRuns: 150 },
    );
  });
});
