/**
 * The WebAssembly SIMD path of fakeQuantizeInto (min-max and absmax) against the JS reference path: bit-identical outputs,
 * same errors, working fallback, and a committed binary that matches kernel.wat.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocateFakeQuantOutput,
  fakeQuantize,
  fakeQuantizeInto,
  roundToFp16Saturating,
  roundToFp32Saturating,
  setWasmEnabled,
  wasmActive,
  wasmSimdSupported,
} from '../../../../src/lib/quant/index';
import type { FakeQuantResult, KVTensor, QuantConfig } from '../../../../src/lib/quant/index';
import { isWasmBacked, roundMetaWasm } from '../../../../src/lib/quant/wasm/index';
import { KERNEL_WASM_BASE64 } from '../../../../src/lib/quant/wasm/kernel.generated';
import { compileKernel } from '../../../../scripts/build-wasm.mjs';
import { mulberry32 } from './reference';

const root = join(__dirname, '../../../..');

afterEach(() => setWasmEnabled(true));

/** Byte view of a typed array (so −0/+0 and NaN payloads count as different). */
const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function run(t: KVTensor, cfg: QuantConfig, wasm: boolean): FakeQuantResult {
  setWasmEnabled(wasm);
  try {
    return fakeQuantize(t, cfg);
  } finally {
    setWasmEnabled(true);
  }
}

/** The WASM path writing into buffers that live in its own memory (what allocateFakeQuantOutput gives). */
function runWasmBacked(t: KVTensor, cfg: QuantConfig): FakeQuantResult {
  const out = allocateFakeQuantOutput(t, cfg);
  expect(isWasmBacked(out.dequantized)).toBe(true);
  return fakeQuantizeInto(t, cfg, out);
}

function expectSame(wa: FakeQuantResult, js: FakeQuantResult, what: string): void {
  expect(wa.groups).toBe(js.groups);
  for (const k of ['dequantized', 'codes', 'scales', 'zeros'] as const) {
    const a = bytes(wa[k]);
    const b = bytes(js[k]);
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
      const i = a.findIndex((v, j) => v !== b[j]);
      throw new Error(`${k} differ (byte ${i}) for ${what}`);
    }
  }
}

/** JS reference vs WASM into plain arrays vs WASM into its own memory: identical bytes. */
function expectIdentical(t: KVTensor, cfg: QuantConfig): void {
  const js = run(t, cfg, false);
  const what = `${JSON.stringify(cfg)} shape ${t.heads}×${t.tokens}×${t.headDim}`;
  expectSame(run(t, cfg, true), js, what);
  expectSame(runWasmBacked(t, cfg), js, `${what} (wasm-backed buffers)`);
}

describe('wasm kernel build', () => {
  it('kernel.generated.ts is a fresh compile of kernel.wat (run node scripts/build-wasm.mjs if this fails)', async () => {
    const wat = readFileSync(join(root, 'src/lib/quant/wasm/kernel.wat'), 'utf8');
    const fresh: string = await compileKernel(wat);
    expect(readFileSync(join(root, 'src/lib/quant/wasm/kernel.generated.ts'), 'utf8')).toBe(fresh);
  });

  it('the module validates, and Node has WebAssembly SIMD, so the WASM path is active', () => {
    expect(WebAssembly.validate(Uint8Array.from(Buffer.from(KERNEL_WASM_BASE64, 'base64')))).toBe(true);
    expect(wasmSimdSupported()).toBe(true);
    expect(wasmActive()).toBe(true);
  });
});

describe('wasm metadata rounding = fp16.ts', () => {
  it('matches roundToFp16Saturating / roundToFp32Saturating on edge cases and random doubles', () => {
    const rnd = mulberry32(7);
    const edge = [
      0,
      -0,
      1,
      -1,
      65504,
      65519.99,
      65520,
      -65520,
      1e6,
      2 ** -14,
      2 ** -24,
      2 ** -25,
      1.5 * 2 ** -24,
      2 ** -25 * 1.0001,
      3 * 2 ** -26,
      1e-300,
      3.4028234663852886e38,
      3.5e38,
      -3.5e38,
      1e300,
      0.1,
      1 / 3,
      2049,
      2051,
      4097,
    ];
    const v = new Float64Array(60000);
    const u = new Uint32Array(v.buffer);
    for (let i = 0; i < v.length; i++) {
      if (i < edge.length) v[i] = edge[i];
      else if (i % 3 === 0) {
        u[2 * i] = (rnd() * 2 ** 32) >>> 0;
        u[2 * i + 1] = (rnd() * 2 ** 32) >>> 0;
        if (!Number.isFinite(v[i])) v[i] = rnd();
      } else if (i % 3 === 1) v[i] = (rnd() - 0.5) * 2 ** (Math.floor(rnd() * 70) - 45);
      else v[i] = ((Math.round(rnd() * 2 ** 20) / 64) * (rnd() < 0.5 ? -1 : 1)) / 2 ** Math.floor(rnd() * 30); // ties
    }
    for (const [meta, f] of [
      ['fp16', roundToFp16Saturating],
      ['fp32', roundToFp32Saturating],
    ] as const) {
      const r = roundMetaWasm(v, meta);
      expect(r).not.toBeNull();
      for (let i = 0; i < v.length; i++) {
        if (!Object.is(r![i], f(v[i]))) throw new Error(`${meta}(${v[i]}): wasm ${r![i]}, js ${f(v[i])}`);
      }
    }
  });
});

describe.each(['minmax', 'absmax'] as const)('wasm %s = JS, bit for bit', (method) => {
  // absmax needs a sign bit: b ≥ 2
  const BITS = method === 'minmax' ? ([1, 2, 3, 4, 8] as const) : ([2, 3, 4, 8] as const);
  const arbCase = (values: fc.Arbitrary<number>) =>
    fc
      .record({
        heads: fc.integer({ min: 1, max: 3 }),
        tokens: fc.integer({ min: 1, max: 40 }),
        headDim: fc.constantFrom(1, 2, 3, 4, 5, 8, 12, 16, 20, 64),
        bits: fc.constantFrom(...BITS),
        axis: fc.constantFrom('token' as const, 'channel' as const),
        metaDtype: fc.constantFrom('fp16' as const, 'fp32' as const),
        gPick: fc.nat(),
      })
      .chain((c) => {
        const n = c.heads * c.tokens * c.headDim;
        const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
        const groupSize = c.axis === 'token' ? divisors[c.gPick % divisors.length] : (c.gPick % (c.tokens + 2)) + 1;
        return fc.array(values, { minLength: n, maxLength: n }).map((arr) => ({
          t: { data: Float32Array.from(arr), heads: c.heads, tokens: c.tokens, headDim: c.headDim } as KVTensor,
          cfg: { bits: c.bits, groupSize, axis: c.axis, method, metaDtype: c.metaDtype } as QuantConfig,
        }));
      });

  it('any finite float32 (incl. ±0, subnormals, ±3.4e38)', () => {
    fc.assert(
      fc.property(arbCase(fc.float({ noNaN: true, noDefaultInfinity: true })), ({ t, cfg }) => expectIdentical(t, cfg)),
      {
        numRuns: 400,
      },
    );
  });

  it('moderate values on a fine grid (many exact rounding ties → exact fallback lanes)', () => {
    const grid = fc.integer({ min: -64, max: 64 }).map((i) => i / 4);
    fc.assert(
      fc.property(arbCase(grid), ({ t, cfg }) => expectIdentical(t, cfg)),
      { numRuns: 400 },
    );
  });

  it('signed zeros and small sets of values (zero minimum, constant and all-zero groups)', () => {
    const z = fc.constantFrom(0, -0, 1, -1, 0.5, 2 ** -30, -(2 ** -30));
    fc.assert(
      fc.property(arbCase(z), ({ t, cfg }) => expectIdentical(t, cfg)),
      { numRuns: 400 },
    );
  });

  it('mixed magnitudes (fp16 underflow/saturation of scale and zero)', () => {
    const mixed = fc
      .tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -30, max: 40 }))
      .map(([m, e]) => Math.fround(m * 2 ** e));
    fc.assert(
      fc.property(arbCase(mixed), ({ t, cfg }) => expectIdentical(t, cfg)),
      { numRuns: 400 },
    );
  });

  it('real-looking keys: [2, 300, 64] with ×10 outlier channels, every bit width, both axes, G 16–128, fp16/fp32', () => {
    const rnd = mulberry32(99);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const heads = 2;
    const tokens = 300;
    const D = 64;
    const data = new Float32Array(heads * tokens * D);
    const outliers = new Set([3, 17, 42]);
    for (let i = 0; i < data.length; i++) data[i] = gauss() * (outliers.has(i % D) ? 10 : 1) + (i % D === 9 ? 4 : 0);
    const t: KVTensor = { data, heads, tokens, headDim: D };
    for (const bits of BITS) {
      for (const axis of ['token', 'channel'] as const) {
        for (const groupSize of [16, 32, 64, 128]) {
          for (const metaDtype of ['fp16', 'fp32'] as const) expectIdentical(t, { bits, groupSize, axis, method, metaDtype });
        }
      }
    }
  });

  it('data already on the quantization grid (re-quantizing a dequantized tensor) is reproduced identically', () => {
    const rnd = mulberry32(5);
    const data = Float32Array.from({ length: 2 * 64 * 64 }, () => rnd() * 4 - 2);
    const t: KVTensor = { data, heads: 2, tokens: 64, headDim: 64 };
    for (const axis of ['token', 'channel'] as const) {
      const cfg: QuantConfig = { bits: 2, groupSize: 32, axis, method };
      const once = fakeQuantize(t, cfg);
      expectIdentical({ ...t, data: once.dequantized }, cfg);
    }
  });

  it('in place (out.dequantized === t.data) gives the same result as out of place', () => {
    const rnd = mulberry32(11);
    const src = Float32Array.from({ length: 2 * 50 * 16 }, () => rnd() - 0.5);
    for (const axis of ['token', 'channel'] as const) {
      const cfg: QuantConfig = { bits: 3, groupSize: 16, axis, method };
      const ref = run({ data: src, heads: 2, tokens: 50, headDim: 16 }, cfg, false);
      const data = src.slice();
      const t: KVTensor = { data, heads: 2, tokens: 50, headDim: 16 };
      const out = allocateFakeQuantOutput(t, cfg);
      fakeQuantizeInto(t, cfg, { ...out, dequantized: data });
      expect(bytes(data)).toEqual(bytes(ref.dequantized));
    }
  });

  it('longer output buffers: only the first n / groups entries are written', () => {
    const t: KVTensor = { data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), heads: 1, tokens: 4, headDim: 16 };
    const cfg: QuantConfig = { bits: 4, groupSize: 16, axis: 'token', method };
    const out = {
      dequantized: new Float32Array(70).fill(7),
      codes: new Uint8Array(70).fill(7),
      scales: new Float32Array(6).fill(7),
      zeros: new Float32Array(6).fill(7),
    };
    fakeQuantizeInto(t, cfg, out);
    const ref = run(t, cfg, false);
    expect(Array.from(out.dequantized.subarray(0, 64))).toEqual(Array.from(ref.dequantized));
    expect(Array.from(out.dequantized.subarray(64))).toEqual([7, 7, 7, 7, 7, 7]);
    expect(Array.from(out.scales.subarray(4))).toEqual([7, 7]);
  });
});

describe('wasm-backed output buffers', () => {
  it('groups that need the clamp (zero far from the group: |min| ≫ range) and groups that do not', () => {
    const rnd = mulberry32(21);
    // Every third token row and channel hold 1000.3 + [0, 0.5): the stored zero fp16(≈1000.3) = 1000.5 lies inside
    // the group, so v = (x − zero)/scale goes below 0 (down to −0.4·qmax) and only the clamp gives code 0; other
    // groups (and token groups spanning both kinds of rows) take the clamp-free loop.
    const data = Float32Array.from({ length: 3 * 40 * 12 }, (_, i) =>
      Math.floor(i / 12) % 3 === 0 || (i % 12) % 3 === 0 ? 1000.3 + rnd() * 0.5 : rnd() * 2 - 1,
    );
    const t: KVTensor = { data, heads: 3, tokens: 40, headDim: 12 };
    for (const bits of [2, 4, 8] as const) {
      for (const [axis, groupSize] of [
        ['token', 4],
        ['token', 12],
        ['token', 24],
        ['channel', 8],
        ['channel', 16],
        ['channel', 40],
      ] as const) {
        expectIdentical(t, { bits, groupSize, axis, method: 'minmax' });
      }
    }
  });

  it('one allocation serves a later config with fewer groups, and in-place use of its own x̂', () => {
    const rnd = mulberry32(8);
    const src = Float32Array.from({ length: 2 * 64 * 32 }, () => rnd() * 3 - 1);
    const t: KVTensor = { data: src, heads: 2, tokens: 64, headDim: 32 };
    const small: QuantConfig = { bits: 4, groupSize: 16, axis: 'channel', method: 'minmax' };
    const out = allocateFakeQuantOutput(t, small);
    expect(isWasmBacked(out.dequantized)).toBe(true);
    const absmax = { ...small, method: 'absmax' as const };
    for (const cfg of [
      small,
      { ...small, groupSize: 64 },
      { ...small, axis: 'token' as const, groupSize: 32 },
      { ...small, bits: 2 as const },
      absmax,
      { ...absmax, groupSize: 64 },
      { ...absmax, axis: 'token' as const, groupSize: 32 },
      { ...absmax, groupSize: 48 },
    ]) {
      out.scales.fill(7);
      out.zeros.fill(7);
      const r = fakeQuantizeInto(t, cfg, out);
      const ref = run(t, cfg, false);
      // entries past this config's groups are left alone
      expect([...r.scales.subarray(ref.groups)].every((v) => v === 7)).toBe(true);
      expect([...r.zeros.subarray(ref.groups)].every((v) => v === 7)).toBe(true);
      expect(bytes(r.dequantized)).toEqual(bytes(ref.dequantized));
      expect(bytes(r.codes)).toEqual(bytes(ref.codes));
      expect(bytes(r.scales.subarray(0, ref.groups))).toEqual(bytes(ref.scales));
      expect(bytes(r.zeros.subarray(0, ref.groups))).toEqual(bytes(ref.zeros));
    }
    // in place: the input is the buffer's own x̂ (copied into the kernel's input region first)
    out.dequantized.set(src);
    const again = fakeQuantizeInto({ ...t, data: out.dequantized }, small, out);
    expect(bytes(again.dequantized)).toEqual(bytes(run(t, small, false).dequantized));
  });

  it('plain buffers when the WASM path is off; a wasm-backed buffer then takes the JS path unchanged', () => {
    const t: KVTensor = { data: Float32Array.from({ length: 4 * 8 }, (_, i) => Math.cos(i)), heads: 1, tokens: 4, headDim: 8 };
    const cfg: QuantConfig = { bits: 3, groupSize: 8, axis: 'token', method: 'minmax' };
    setWasmEnabled(false);
    expect(isWasmBacked(allocateFakeQuantOutput(t, cfg).dequantized)).toBe(false);
    setWasmEnabled(true);
    const out = allocateFakeQuantOutput(t, cfg);
    setWasmEnabled(false);
    const r = fakeQuantizeInto(t, cfg, out);
    setWasmEnabled(true);
    expect(bytes(r.dequantized)).toEqual(bytes(run(t, cfg, false).dequantized));
  });
});

describe('non-finite input and fallback', () => {
  it('NaN / ±Infinity throw the same RangeError with and without WASM', () => {
    const rnd = mulberry32(3);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const pos of [0, 5, 77, 255]) {
        for (const [axis, method] of [
          ['token', 'minmax'],
          ['channel', 'minmax'],
          ['token', 'absmax'],
          ['channel', 'absmax'],
        ] as const) {
          const data = Float32Array.from({ length: 256 }, () => rnd());
          data[pos] = bad;
          if (pos !== 255) data[255] = NaN; // a later bad group must not be the one reported
          const t: KVTensor = { data, heads: 2, tokens: 8, headDim: 16 };
          const cfg: QuantConfig = { bits: 4, groupSize: 4, axis, method };
          const msg = (wasm: boolean): string => {
            try {
              run(t, cfg, wasm);
            } catch (e) {
              expect(e).toBeInstanceOf(RangeError);
              return (e as Error).message;
            }
            return 'no error';
          };
          expect(msg(true)).toBe(msg(false));
          expect(msg(true)).toMatch(/is not allowed/);
        }
      }
    }
  });

  it('setWasmEnabled(false) forces the JS path, which still gives the same results', () => {
    setWasmEnabled(false);
    expect(wasmActive()).toBe(false);
    const t: KVTensor = { data: Float32Array.from({ length: 128 }, (_, i) => Math.cos(i * 0.37) * 3), heads: 2, tokens: 4, headDim: 16 };
    const cfg: QuantConfig = { bits: 2, groupSize: 4, axis: 'channel', method: 'minmax' };
    const js = fakeQuantize(t, cfg);
    setWasmEnabled(true);
    expect(wasmActive()).toBe(true);
    const wa = fakeQuantize(t, cfg);
    expect(bytes(wa.dequantized)).toEqual(bytes(js.dequantized));
    expect(bytes(wa.codes)).toEqual(bytes(js.codes));
  });
});

describe('wasm absmax: ties, clamps, zeros and magnitudes', () => {
  const BITS = [2, 3, 4, 8] as const;
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  /** x moved by k float32 ulps (k may be negative; x ≠ 0). */
  const ulps = (x: number, k: number): number => {
    f32[0] = x;
    u32[0] += k;
    return f32[0];
  };
  /** Every group of a token-axis tensor (G = 16) and of a channel-axis one (G = 7 on 20 tokens: a partial block). */
  const shapes = (fill: (i: number, group: number) => number): { t: KVTensor; axis: 'token' | 'channel'; G: number }[] => {
    const tok = Float32Array.from({ length: 2 * 12 * 16 }, (_, i) => fill(i, Math.floor(i / 16)));
    const D = 13; // not a multiple of 4: 3 channels through the scalar exact path
    const ch = Float32Array.from({ length: 2 * 20 * D }, (_, i) => {
      const d = i % D;
      const tok = Math.floor(i / D) % 20;
      const h = Math.floor(i / (D * 20));
      return fill(i, (h * 3 + Math.floor(tok / 7)) * D + d);
    });
    return [
      { t: { data: tok, heads: 2, tokens: 12, headDim: 16 }, axis: 'token', G: 16 },
      { t: { data: ch, heads: 2, tokens: 20, headDim: D }, axis: 'channel', G: 7 },
    ];
  };
  const all = (fill: (i: number, group: number, bits: number) => number, metas: ('fp16' | 'fp32')[] = ['fp16', 'fp32']): void => {
    for (const bits of BITS) {
      for (const { t, axis, G } of shapes((i, g) => fill(i, g, bits))) {
        for (const metaDtype of metas) expectIdentical(t, { bits, groupSize: G, axis, method: 'absmax', metaDtype });
      }
    }
  };

  it('exact ties: a power-of-two scale and values on the half-integer grid (positive and negative ties)', () => {
    const rnd = mulberry32(31);
    all((i, g, bits) => {
      const qmax = (1 << (bits - 1)) - 1;
      const s = 2 ** ((g % 9) - 4);
      // every 5th element ±qmax·s (each group, either axis, holds one: max|x| = qmax·s, scale s, inv 1/s exact),
      // random multiples of s/2 in [−qmax, qmax]·s elsewhere: x·inv = k + 0.5 exactly, both signs
      if (i % 5 === 0) return (rnd() < 0.5 ? -qmax : qmax) * s;
      return (Math.floor(rnd() * (4 * qmax + 1)) - 2 * qmax) * 0.5 * s;
    });
  });

  it('near ties: odd fp16 scales (inverse not exact) and values within a few ulps of (k + 0.5)·scale', () => {
    const rnd = mulberry32(32);
    all((i, g, bits) => {
      const qmax = (1 << (bits - 1)) - 1;
      const m = 1025 + 2 * ((g * 97) % 511); // odd 11-bit significand
      const s = m * 2 ** ((g % 7) - 14);
      if (i % 5 === 0) return qmax * s * (rnd() < 0.5 ? -1 : 1); // in every group: max|x| = qmax·s, scale = s
      const k = Math.floor(rnd() * 2 * qmax) - qmax; // k + 0.5 ∈ [−qmax + 0.5, qmax − 0.5]
      return ulps(Math.fround((k + 0.5) * s), Math.floor(rnd() * 7) - 3);
    });
  });

  it('the near-tie data holds values whose f32 and float64 roundings of x·inv disagree (so a missing redo shows)', () => {
    // Data made like the test above's: if no value's f32 fast-path rounding differed from the JS one, the near-tie
    // test could not catch a fast path that skips the redo (a kernel without it fails that test).
    const rnd = mulberry32(32);
    let disagree = 0;
    for (const bits of BITS) {
      const qmax = (1 << (bits - 1)) - 1;
      for (let g = 0; g < 60; g++) {
        const s = (1025 + 2 * ((g * 97) % 511)) * 2 ** ((g % 7) - 14);
        const inv = 1 / s;
        for (let j = 0; j < 40; j++) {
          const k = Math.floor(rnd() * 2 * qmax) - qmax;
          const x = ulps(Math.fround((k + 0.5) * s), Math.floor(rnd() * 7) - 3);
          const v64 = x * inv;
          const v32 = Math.fround(x * Math.fround(inv));
          const M = 6755399441055744;
          if (v64 + M - M !== v32 + M - M) disagree++;
        }
      }
    }
    expect(disagree).toBeGreaterThan(0);
  });

  it('all-zero groups (scale 0), ±0 everywhere, tiny negatives that round to +0', () => {
    const rnd = mulberry32(33);
    all((_i, g) => {
      if (g % 3 === 0) return rnd() < 0.5 ? 0 : -0; // all-zero group
      const r = rnd();
      if (r < 0.3) return -0;
      if (r < 0.5) return 0;
      if (r < 0.8) return -1e-3 * rnd(); // q = +0 (JS: v + M − M), x̂ = +0
      return (rnd() - 0.5) * 4;
    });
  });

  it('groups that need the clamp: fp16 scale rounded far below max|x|/qmax (subnormal) or saturated at 65504', () => {
    const rnd = mulberry32(34);
    all((i, g, bits) => {
      const qmax = (1 << (bits - 1)) - 1;
      const r = rnd() * 2 - 1;
      switch (g % 4) {
        case 0: // max|x|/qmax = 1.4·2^-24 → scale 2^-24: |x·inv| up to 1.4·qmax
          return Math.fround(r * 1.4 * qmax * 2 ** -24);
        case 1: // max|x|/qmax ≥ 65520 → scale 65504
          return Math.fround(r * 3e5 * qmax);
        case 2: // huge values up to ±F32_MAX (scale saturates)
          return i % 7 === 0 ? (r < 0 ? -3.4028234663852886e38 : 3.4028234663852886e38) : Math.fround(r * 1e38);
        default:
          return r;
      }
    });
    // the clamp is really needed: fp16(max/qmax) < max/(qmax + 0.5) for the subnormal case
    expect(roundToFp16Saturating((1.4 * 7 * 2 ** -24) / 7) * 7.5).toBeLessThan(1.4 * 7 * 2 ** -24);
  });

  it('subnormal and huge magnitudes, one scale per group spanning 2^-149 … 2^127', () => {
    const rnd = mulberry32(35);
    all((_i, g) => Math.fround((rnd() - 0.5) * 2 ** (((g * 13) % 277) - 149)));
  });

  it('fp32 metadata on ties and ordinary data (exact path throughout)', () => {
    const rnd = mulberry32(36);
    all(
      (_i, g, bits) => {
        const qmax = (1 << (bits - 1)) - 1;
        return g % 2 === 0 ? (Math.floor(rnd() * (4 * qmax + 1)) - 2 * qmax) * 0.5 * 3 : Math.fround(rnd() * 10 - 5);
      },
      ['fp32'],
    );
  });

  it('shapes: G not a multiple of 4 or 8, head dims 1–7, partial token blocks, chunks of the token driver', () => {
    const rnd = mulberry32(37);
    for (const [heads, tokens, headDim] of [
      [1, 1, 1],
      [1, 5, 3],
      [2, 9, 5],
      [3, 17, 6],
      [1, 33, 7],
      [2, 600, 16],
    ] as const) {
      const n = heads * tokens * headDim;
      const data = Float32Array.from({ length: n }, () => Math.fround((rnd() - 0.5) * 8));
      const t: KVTensor = { data, heads, tokens, headDim };
      const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0 && d <= 256);
      for (const bits of BITS) {
        for (const G of divisors) expectIdentical(t, { bits, groupSize: G, axis: 'token', method: 'absmax' });
        for (const G of [1, 2, 3, 4, 7, 16, 64]) expectIdentical(t, { bits, groupSize: G, axis: 'channel', method: 'absmax' });
      }
    }
  });
});
