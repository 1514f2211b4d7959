/**
 * The WebAssembly SIMD HQQ kernel (src/lib/quant/wasm/hqq.ts + hqq.wat, f32) against the float64 JS reference
 * (`hqqToken` / `hqqChannel`, HQQ's `optimize_weights_proximal_legacy`).
 *
 * What "agree" means here (the kernel computes in f32 like HQQ on CPU, the reference in f64):
 * - iteration count: identical, unless the reference's own stop test is a near-tie, closer than the f32 rounding
 *   of the per-element errors can resolve: |err − best| ≤ 1e-6·best + 2^-20·mean_g(max_g − min_g) (an f32 code
 *   value carries ≤ 2^-24·qmax code units = 2^-24·range of its group; ×16 for the few operations on it). Such a
 *   decision can go either way — seen with β = 1e6 (the error decreases by ~1e-8 relative per iteration), with
 *   groups of 2 elements (both errors are rounding noise, ~1e-16·|W|) and with tiny tensors (no averaging).
 *   `stopMargins` replays the reference's errors to tell. (Exact plateaus — no code changes, all shrinks 0 — are reproduced: see the z update in hqq.wat.);
 * - scales: bit-identical (s and the meta rounding are computed in f64 exactly as the reference);
 * - zeros: |Δz| ≤ 1e-3 code units (+ one fp16 ulp of z for fp16 meta, whose rounding can land on the adjacent half)
 *   for at least 99 % of the groups. f32 noise alone moves z by ~1e-6; the 1e-3 bound leaves room for 20 iterations
 *   of it. The exceptions are groups where some W·s + z fell within ~1e-5 of a rounding tie in some iteration:
 *   there the two paths round that element differently, which moves the group's next zero by O(1/G) code units;
 * - codes: equal on ≥ 99.9 % of the elements (the same near-ties, at most a few per 10^5 elements);
 * - relative error ‖x − x̂‖/‖x‖ within 1e-4 (relative) of the reference's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { hqqChannel, hqqToken } from '../../../../src/lib/quant/hqq';
import { metaRounder } from '../../../../src/lib/quant/fp16';
import { setWasmEnabled } from '../../../../src/lib/quant/wasm/index';
import { hqqPowWasm, hqqWasm, hqqWasmActive } from '../../../../src/lib/quant/wasm/hqq';
import { HQQ_WASM_BASE64 } from '../../../../src/lib/quant/wasm/hqq.generated';
import type { HqqParams } from '../../../../src/lib/quant/types';
import { compileKernel } from '../../../../scripts/build-wasm.mjs';
import { groupsChannel, groupsToken, keyLikeTensor, mulberry32, roundHalfEven } from './reference';

const root = join(__dirname, '../../../..');
const DEFAULT: HqqParams = { lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 };

afterEach(() => setWasmEnabled(true));

type Axis = 'token' | 'channel';
type Meta = 'fp16' | 'fp32';
type Out = { it: number | false; codes: Uint8Array; deq: Float32Array; scales: Float32Array; zeros: Float32Array };
type Shape = { data: Float32Array; heads: number; tokens: number; headDim: number };

function groupsOf(axis: Axis, t: Shape, G: number): number {
  const n = t.heads * t.tokens * t.headDim;
  return axis === 'token' ? n / G : t.heads * Math.ceil(t.tokens / G) * t.headDim;
}

function alloc(n: number, groups: number): Out {
  return { it: false, codes: new Uint8Array(n), deq: new Float32Array(n), scales: new Float32Array(groups), zeros: new Float32Array(groups) };
}

function runJs(axis: Axis, t: Shape, G: number, bits: number, meta: Meta, params: HqqParams): Out {
  const n = t.heads * t.tokens * t.headDim;
  const o = alloc(n, groupsOf(axis, t, G));
  const round = metaRounder(meta);
  o.it =
    axis === 'token'
      ? hqqToken(t.data, n, G, bits, params, round, o.codes, o.deq, o.scales, o.zeros)
      : hqqChannel(t.data, t.heads, t.tokens, t.headDim, G, bits, params, round, o.codes, o.deq, o.scales, o.zeros);
  return o;
}

function runWasm(axis: Axis, t: Shape, G: number, bits: number, meta: Meta, params: HqqParams): Out {
  const n = t.heads * t.tokens * t.headDim;
  const o = alloc(n, groupsOf(axis, t, G));
  o.it = hqqWasm(axis, t.data, t.heads, t.tokens, t.headDim, G, bits, params, meta, o.codes, o.deq, o.scales, o.zeros);
  return o;
}

/** One fp16 ulp at |z| (the spacing of halves there). */
const ulp16 = (z: number): number => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(z) || 2 ** -24)), -14) - 10);

function relErr(x: Float32Array, y: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += x[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/**
 * The reference optimizer's stop tests, |err_k − best_{k−1}| and best_{k−1} per iteration (float64 replay of
 * optimize_weights_proximal_legacy on the groups, written independently of src).
 */
function stopMargins(axis: Axis, t: Shape, G: number, bits: number, params: HqqParams): { diff: number; best: number }[] {
  const { values } = axis === 'token' ? groupsToken(t.data, G) : groupsChannel(t.data, t.heads, t.tokens, t.headDim, G);
  const n = t.data.length;
  const qmax = 2 ** bits - 1;
  const S = values.map((g) => {
    const d = Math.max(...g) - Math.min(...g);
    return Math.min(Math.abs(d) <= 1e-4 ? 1 : qmax / d, 2e4);
  });
  let Z = values.map((g, i) => -Math.min(...g) * S[i]);
  let beta = params.beta;
  let best = 1e4;
  const out: { diff: number; best: number }[] = [];
  for (let it = 0; it < params.iters; it++) {
    let err = 0;
    Z = values.map((g, gi) => {
      let acc = 0;
      for (const w of g) {
        const q = Math.min(qmax, Math.max(0, roundHalfEven(w * S[gi] + Z[gi])));
        const e = w - (q - Z[gi]) / S[gi];
        err += Math.abs(e);
        const we = Math.sign(e) * Math.max(0, Math.abs(e) - Math.pow(Math.abs(e), params.lpNorm - 1) / beta);
        acc += q - (w - we) * S[gi];
      }
      return acc / g.length;
    });
    beta *= params.kappa;
    err /= n;
    out.push({ diff: Math.abs(err - best), best });
    if (err < best) best = err;
    else break;
  }
  return out;
}

/** Mean over the groups of max − min. */
function meanRange(axis: Axis, t: Shape, G: number): number {
  const { values } = axis === 'token' ? groupsToken(t.data, G) : groupsChannel(t.data, t.heads, t.tokens, t.headDim, G);
  return values.reduce((a, g) => a + Math.max(...g) - Math.min(...g), 0) / values.length;
}

type Agreement = { codeMismatch: number; zeroOutliers: number; maxDz: number; relJs: number; relWasm: number };

/** Runs both paths and checks the agreement documented at the top; returns the measured figures. */
function expectAgree(
  axis: Axis, t: Shape, G: number, bits: number, meta: Meta, params: HqqParams = DEFAULT,
  limits = { codes: 1e-3, zeros: 0.01 },
): Agreement {
  const js = runJs(axis, t, G, bits, meta, params);
  const wa = runWasm(axis, t, G, bits, meta, params);
  const what = `${axis} bits ${bits} G ${G} ${meta} shape ${t.heads}×${t.tokens}×${t.headDim} ${JSON.stringify(params)}`;
  expect(wa.scales, what).toEqual(js.scales);
  if (wa.it !== js.it) {
    // Only a near-tie of the reference's stop test may end the loop at a different iteration.
    expect(typeof wa.it, what).toBe('number');
    const k = Math.min(wa.it as number, js.it as number);
    const { diff, best } = stopMargins(axis, t, G, bits, params)[k - 1];
    expect(diff, `${what}: iterations ${wa.it} vs ${js.it}`).toBeLessThanOrEqual(1e-6 * best + 2 ** -20 * meanRange(axis, t, G));
    stopTies++;
  }
  let codeMismatch = 0;
  let bad = 0;
  const qmax = (1 << bits) - 1;
  for (let i = 0; i < js.codes.length; i++) {
    if (wa.codes[i] !== js.codes[i]) codeMismatch++;
    if (!(wa.codes[i] <= qmax && Number.isFinite(wa.deq[i]))) bad++;
  }
  expect(bad, `${what}: codes out of range or non-finite x̂`).toBe(0);
  let zeroOutliers = 0;
  let maxDz = 0;
  for (let g = 0; g < js.zeros.length; g++) {
    const dz = Math.abs(wa.zeros[g] - js.zeros[g]);
    maxDz = Math.max(maxDz, dz);
    if (!(dz <= 1e-3 + (meta === 'fp16' ? ulp16(js.zeros[g]) : 0))) zeroOutliers++;
  }
  expect(codeMismatch, `${what}: codes differ`).toBeLessThanOrEqual(Math.floor(limits.codes * js.codes.length));
  expect(zeroOutliers, `${what}: zeros differ`).toBeLessThanOrEqual(Math.floor(limits.zeros * js.zeros.length));
  const relJs = relErr(t.data, js.deq);
  const relWasm = relErr(t.data, wa.deq);
  expect(Math.abs(relWasm - relJs), `${what}: relative error`).toBeLessThanOrEqual(1e-4 * relJs + 1e-12);
  return { codeMismatch, zeroOutliers, maxDz, relJs, relWasm };
}

/** How many comparisons ended at a different iteration (reference near-tie), for the summary test. */
let stopTies = 0;

const tensor = (values: number[], heads = 1, tokens = 1): Shape => ({
  data: Float32Array.from(values), heads, tokens, headDim: values.length / (heads * tokens),
});

describe.runIf(hqqWasmActive())('hqq wasm kernel', () => {
  it('the committed hqq.generated.ts is what scripts/build-wasm.mjs produces from hqq.wat', async () => {
    const dir = join(root, 'src/lib/quant/wasm');
    const fresh = await compileKernel(readFileSync(join(dir, 'hqq.wat'), 'utf8'), 'HQQ_WASM_BASE64', 'hqq.wat');
    expect(readFileSync(join(dir, 'hqq.generated.ts'), 'utf8')).toBe(fresh);
    expect(HQQ_WASM_BASE64.length).toBeGreaterThan(100);
  });

  it('|x|^(p−1) (the hot loop power) is within 1e-5 relative of Math.pow over [1e-30, 1e6]', () => {
    const N = 100_000;
    const a = new Float32Array(N);
    for (let i = 0; i < N; i++) a[i] = Math.pow(10, -30 + (36 * i) / (N - 1));
    // default p = 0.7 and the ends of the range the kernel accepts (0.05 ≤ p < 1; |p − 1| ≤ 0.95)
    for (const [e, bound] of [[-0.3, 7e-6], [-0.05, 5e-6], [-0.5, 1e-5], [-0.95, 1.5e-5]] as const) {
      const r = hqqPowWasm(a, e, true);
      expect(r).not.toBeNull();
      let worst = 0;
      for (let i = 0; i < N; i++) {
        const ref = Math.pow(a[i], e);
        worst = Math.max(worst, Math.abs(r![i] - ref) / ref);
      }
      expect(worst, `p − 1 = ${e}`).toBeLessThanOrEqual(bound);
    }
  });

  it('the power is finite and positive for 0, subnormals and the extremes (the shrink then relu()s to 0)', () => {
    const a = Float32Array.from([0, -0, 1e-45, 1e-40, 1.1754942e-38, 3.4028234e38, 1]);
    for (const e of [-0.3, -0.95, -0.05]) {
      for (const v of hqqPowWasm(a, e, true)!) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
    }
  });

  it('s^(2−p) (clamped power, once per group) over [1e-38, 2e4] stays finite, within 2e-5 where normal', () => {
    const N = 20_000;
    const a = new Float32Array(N);
    for (let i = 0; i < N; i++) a[i] = Math.pow(10, -38 + (42.3 * i) / (N - 1));
    for (const e of [1.3, 1.05, 1.95]) {
      const r = hqqPowWasm(a, e, false)!;
      let bad = 0;
      let worst = 0;
      for (let i = 0; i < N; i++) {
        const ref = Math.pow(a[i], e);
        if (!(Number.isFinite(r[i]) && r[i] > 0)) bad++;
        if (ref > 1e-37) worst = Math.max(worst, Math.abs(r[i] - ref) / ref);
      }
      expect(bad).toBe(0);
      expect(worst, `e = ${e}`).toBeLessThanOrEqual(2e-5);
    }
  });

  it('agrees with hqqToken / hqqChannel on key-like tensors: bits 1–8, G 16–128, both axes, fp16/fp32 meta', () => {
    const t = keyLikeTensor(11, 2, 256, 64);
    let mism = 0;
    let total = 0;
    for (const axis of ['token', 'channel'] as const) {
      for (const bits of [1, 2, 3, 4, 8]) {
        for (const G of [16, 32, 64, 128]) {
          for (const meta of ['fp16', 'fp32'] as const) {
            mism += expectAgree(axis, t, G, bits, meta).codeMismatch;
            total += t.data.length;
          }
        }
      }
    }
    expect(mism / total).toBeLessThan(1e-4);
  });

  it('odd shapes: partial channel block, G not a multiple of 4, headDim not a multiple of 4, headDim 32', () => {
    const a = keyLikeTensor(3, 2, 100, 32); // channel: blocks of 32 tokens, the last one 4 tokens
    for (const bits of [2, 4]) {
      expectAgree('channel', a, 32, bits, 'fp16');
      expectAgree('channel', a, 64, bits, 'fp32');
      expectAgree('token', a, 32, bits, 'fp16');
    }
    const b = keyLikeTensor(4, 1, 30, 32); // n = 960
    for (const G of [6, 10, 3]) expectAgree('token', b, G, 2, 'fp16');
    const c = keyLikeTensor(5, 2, 45, 6, [1]); // D = 6: chunks of 4 channels with 2 padding lanes
    for (const G of [16, 45, 7]) expectAgree('channel', c, G, 3, 'fp16');
    const d = keyLikeTensor(6, 3, 17, 3, [0]); // D = 3 < 4
    expectAgree('channel', d, 5, 2, 'fp32');
    expectAgree('token', d, 17, 2, 'fp32');
  });

  it('constant groups, ±0, tiny (1e-30) and huge (1e30) magnitudes match the reference', () => {
    const cases: number[][] = [
      [2, 2, 2, 2, 2, 2, 2, 2],
      [0, -0, 0, -0, 0, -0, 0, -0],
      [0, 1, 2, 3, 0, 1, 2, 3],
      [1e-30, -1e-30, 0, 5e-31, 2e-30, -3e-30, 1e-31, 0],
      [1e30, -1e30, 0, 5e29, 1e30, -1e30, 0, 5e29],
      [3e38, -3e38, 0, 1e38, 2, 2, 2, 2],
      [0, 0.05, 0.25, 3, 100, 100.001, 100.0005, 100.00025],
    ];
    for (const v of cases) {
      for (const meta of ['fp16', 'fp32'] as const) {
        for (const bits of [2, 8]) {
          const t = tensor(v, 1, 2);
          const js = runJs('token', t, 4, bits, meta, DEFAULT);
          const wa = runWasm('token', t, 4, bits, meta, DEFAULT);
          const what = `${JSON.stringify(v)} ${meta} ${bits}`;
          expect(wa.it, what).toBe(js.it);
          expect([...wa.codes], what).toEqual([...js.codes]);
          expect([...wa.scales], what).toEqual([...js.scales]);
          for (let g = 0; g < 2; g++) expect(Math.abs(wa.zeros[g] - js.zeros[g]), what).toBeLessThanOrEqual(1e-3 + Math.abs(js.zeros[g]) * 1e-3);
          for (let i = 0; i < 8; i++) {
            expect(Number.isFinite(wa.deq[i])).toBe(true);
            expect(Math.abs(wa.deq[i] - js.deq[i]), what).toBeLessThanOrEqual(1e-5 * Math.abs(js.deq[i]) + 1e-3 * Math.abs(js.scales[i >> 2]));
          }
        }
      }
    }
  });

  it('non-finite data: returns false and writes nothing (the JS path throws the RangeError)', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const t = keyLikeTensor(1, 1, 16, 8);
      t.data[37] = bad;
      for (const axis of ['token', 'channel'] as const) {
        const o = runWasm(axis, t, 8, 4, 'fp16', DEFAULT);
        expect(o.it).toBe(false);
        expect(o.deq.every((v) => v === 0) && o.codes.every((v) => v === 0) && o.scales.every((v) => v === 0)).toBe(true);
        expect(() => runJs(axis, t, 8, 4, 'fp16', DEFAULT)).toThrow(RangeError);
      }
    }
  });

  it('iters: 0 and non-default lpNorm / beta / kappa agree with the reference', () => {
    const t = keyLikeTensor(21, 2, 64, 32);
    const sets: HqqParams[] = [
      { ...DEFAULT, iters: 0 },
      { ...DEFAULT, iters: 1 },
      { lpNorm: 0.5, beta: 3, kappa: 1.1, iters: 7 },
      { lpNorm: 0.9, beta: 100, kappa: 1, iters: 30 },
      { lpNorm: 0.05, beta: 1, kappa: 1.5, iters: 12 },
      { lpNorm: 0.3, beta: 1e6, kappa: 1.01, iters: 20 },
    ];
    for (const params of sets) {
      for (const axis of ['token', 'channel'] as const) {
        expectAgree(axis, t, 16, 2, 'fp16', params);
        expectAgree(axis, t, 32, 4, 'fp32', params);
      }
    }
    expect(runWasm('token', t, 16, 2, 'fp16', { ...DEFAULT, iters: 0 }).it).toBe(0);
  });

  it('falls back (false) for lpNorm < 0.05 and when switched off with setWasmEnabled(false)', () => {
    const t = keyLikeTensor(2, 1, 16, 8);
    expect(runWasm('token', t, 8, 2, 'fp16', { ...DEFAULT, lpNorm: 0.01 }).it).toBe(false);
    setWasmEnabled(false);
    expect(hqqWasmActive()).toBe(false);
    expect(runWasm('token', t, 8, 2, 'fp16', DEFAULT).it).toBe(false);
    setWasmEnabled(true);
    expect(runWasm('token', t, 8, 2, 'fp16', DEFAULT).it).toBe(20);
  });

  it('property: random shapes and configs give finite output, codes in range and agreement with the reference', () => {
    const arb = fc.record({
      seed: fc.integer({ min: 1, max: 1e9 }),
      heads: fc.integer({ min: 1, max: 3 }),
      tokens: fc.integer({ min: 1, max: 80 }),
      headDim: fc.integer({ min: 1, max: 40 }),
      G: fc.integer({ min: 1, max: 70 }),
      bits: fc.constantFrom(1, 2, 3, 4, 8),
      axis: fc.constantFrom<Axis>('token', 'channel'),
      meta: fc.constantFrom<Meta>('fp16', 'fp32'),
      scale: fc.constantFrom(1e-3, 1, 1e3),
    });
    fc.assert(
      fc.property(arb, ({ seed, heads, tokens, headDim, G, bits, axis, meta, scale }) => {
        const t = keyLikeTensor(seed, heads, tokens, headDim);
        const r = mulberry32(seed);
        for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(t.data[i] * scale * (r() < 0.1 ? 0 : 1));
        const n = t.data.length;
        if (axis === 'token' && n % G !== 0) G = [1, 2, 4, headDim].filter((g) => n % g === 0).pop()!;
        // Small tensors: one near-tie flip is a large fraction, so allow 2 flipped codes and zero-point outliers.
        const groups = groupsOf(axis, t, G);
        expectAgree(axis, t, G, bits, meta, DEFAULT, { codes: Math.max(1e-3, 2 / n), zeros: Math.max(0.01, 2 / groups) });
      }),
      { numRuns: 120, seed: 20240611 },
    );
  });
});
