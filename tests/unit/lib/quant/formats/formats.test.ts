/**
 * quantizeFormat beyond the reference fixtures: hand-checked grid values, the ENGINE_FORMATS facts against the
 * storage layouts, errors, properties that hold for the real formats (fast-check), and the WebAssembly path against
 * the JS path on random tensors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_FORMATS, engineFormatInfo, quantizeFormat, setWasmEnabled } from '../../../../../src/lib/quant/index';
import type { EngineFormat, FormatScale, KVTensor } from '../../../../../src/lib/quant/index';
import { roundE4m3, roundE5m2 } from '../../../../../src/lib/quant/formats/fp8';
import { castToFp4 } from '../../../../../src/lib/quant/formats/nvfp4';
import { iq4nlIndex, IQ4NL_VALUES } from '../../../../../src/lib/quant/formats/ggml';
import { formatHasWasmKernel, formatsWasmActive } from '../../../../../src/lib/quant/wasm/formats';
import { FORMATS_WASM_BASE64 } from '../../../../../src/lib/quant/wasm/formats.generated';
import { compileKernel } from '../../../../../scripts/build-wasm.mjs';

afterEach(() => setWasmEnabled(true));

const ALL = ENGINE_FORMATS.map((f) => f.id) as EngineFormat[];
const tensor = (data: number[] | Float32Array, heads: number, tokens: number, headDim: number): KVTensor => ({
  data: Float32Array.from(data),
  heads,
  tokens,
  headDim,
});
const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('small-float grids (hand-computed)', () => {
  it('e4m3fn: ties to even, subnormals of 2^-9, past 464 is NaN (c10 scalar rule)', () => {
    expect(roundE4m3(1.0625)).toBe(1); // between 1 and 1.125: even mantissa 000
    expect(roundE4m3(1.1875)).toBe(1.25); // between 1.125 (001) and 1.25 (010)
    expect(roundE4m3(17)).toBe(16); // quantum 2 in [16, 32): 16 (000) vs 18 (001)
    expect(roundE4m3(19)).toBe(20);
    expect(roundE4m3(2 ** -10)).toBe(0); // half the smallest subnormal → 0
    expect(roundE4m3(1.5 * 2 ** -9)).toBe(2 ** -8);
    expect(roundE4m3(448)).toBe(448);
    expect(roundE4m3(463.99)).toBe(448);
    expect(roundE4m3(464)).toBe(448); // tie between 448 (…110) and 480 (…111): even
    expect(roundE4m3(465)).toBeNaN(); // rounds to 480, the bit pattern e4m3fn uses for NaN
    expect(Object.is(roundE4m3(-0.0001), -0)).toBe(true);
  });
  it('e5m2: quantum 2^-16 below 2^-14, overflow to ±inf from 61440', () => {
    expect(roundE5m2(1.125)).toBe(1);
    expect(roundE5m2(1.375)).toBe(1.5);
    expect(roundE5m2(57344)).toBe(57344);
    expect(roundE5m2(61439)).toBe(57344);
    expect(roundE5m2(61440)).toBe(Infinity);
    expect(roundE5m2(-61440)).toBe(-Infinity);
    expect(roundE5m2(3 * 2 ** -17)).toBe(2 ** -15);
  });
  it('e2m1 (cast_to_fp4 thresholds) and torch.sign on zero', () => {
    const cases: [number, number][] = [
      [0.25, 0],
      [0.2500001, 0.5],
      [0.75, 1],
      [1.25, 1],
      [1.75, 2],
      [2.5, 2],
      [2.51, 3],
      [3.5, 4],
      [5, 4],
      [5.01, 6],
      [6, 6],
    ];
    for (const [x, q] of cases) {
      expect(castToFp4(x)).toBe(q);
      expect(castToFp4(-x)).toBe(q === 0 ? -0 : -q);
    }
    expect(Object.is(castToFp4(-0), 0)).toBe(true); // sign(−0) = 0 → +0
    expect(Object.is(castToFp4(-0.1), -0)).toBe(true); // 0 · −1
  });
  it('iq4_nl level choice: the upper level from the midpoint on', () => {
    for (let j = 1; j < 16; j++) {
      const mid = (IQ4NL_VALUES[j - 1] + IQ4NL_VALUES[j]) / 2;
      expect(iq4nlIndex(mid)).toBe(j);
      expect(iq4nlIndex(mid - 0.01)).toBe(j - 1);
    }
    expect(iq4nlIndex(-1000)).toBe(0);
    expect(iq4nlIndex(1000)).toBe(15);
  });
});

describe('ENGINE_FORMATS', () => {
  // Storage of one block as laid out in ggml-common.h (block_q8_0 = fp16 d + 32 int8, …) and NVFP4 (16 e2m1
  // nibbles + one e4m3 byte); bits per element = 8 · bytes / elements.
  const layout: Record<string, [bytes: number, elements: number]> = {
    q8_0: [2 + 32, 32],
    q4_0: [2 + 16, 32],
    q4_1: [2 + 2 + 16, 32],
    q5_0: [2 + 4 + 16, 32],
    q5_1: [2 + 2 + 4 + 16, 32],
    iq4_nl: [2 + 16, 32],
    nvfp4: [8 + 1, 16],
    fp8_e4m3: [1, 1],
    fp8_e5m2: [1, 1],
  };
  it('lists the nine formats once, with bits per element from the block layouts', () => {
    expect(new Set(ALL)).toEqual(new Set(Object.keys(layout)));
    expect(ALL.length).toBe(9);
    for (const f of ENGINE_FORMATS) {
      const [bytes, el] = layout[f.id];
      expect(f.bitsPerElement).toBe((8 * bytes) / el);
      expect(f.blockSize).toBe(el === 1 ? null : el);
      expect(f.engines.length).toBeGreaterThan(0);
    }
  });
  it('quantizeFormat reports the same bits per element', () => {
    const t = tensor(
      Array.from({ length: 64 }, (_, i) => Math.sin(i)),
      1,
      2,
      32,
    );
    for (const f of ALL) expect(quantizeFormat(t, f).bitsPerElement).toBe(engineFormatInfo(f).bitsPerElement);
  });
  it('llama.cpp flags are -ctk/-ctv with the type name; vLLM flags are --kv-cache-dtype', () => {
    for (const f of ENGINE_FORMATS) {
      for (const e of f.engines) {
        if (e.engine === 'llama.cpp') expect(e.flag).toBe(`-ctk ${f.id} -ctv ${f.id}`);
        if (e.engine === 'vLLM') expect(e.flag.startsWith('--kv-cache-dtype ')).toBe(true);
      }
    }
  });
});

describe('errors', () => {
  it('headDim must be a multiple of the block size', () => {
    const t = tensor(new Float32Array(48), 1, 1, 48);
    for (const f of ['q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'iq4_nl'] as const) expect(() => quantizeFormat(t, f)).toThrow(RangeError);
    expect(() => quantizeFormat(t, 'nvfp4')).not.toThrow();
    expect(() => quantizeFormat(tensor(new Float32Array(8), 1, 1, 8), 'nvfp4')).toThrow(RangeError);
    expect(() => quantizeFormat(tensor(new Float32Array(3), 1, 1, 3), 'fp8_e4m3')).not.toThrow();
  });
  it('non-finite data, unknown format, wrong scale mode, malformed tensor', () => {
    const bad = tensor(new Float32Array(32), 1, 1, 32);
    bad.data[5] = NaN;
    expect(() => quantizeFormat(bad, 'q8_0')).toThrow(RangeError);
    bad.data[5] = -Infinity;
    expect(() => quantizeFormat(bad, 'fp8_e4m3')).toThrow(RangeError);
    const ok = tensor(new Float32Array(32), 1, 1, 32);
    expect(() => quantizeFormat(ok, 'int4' as EngineFormat)).toThrow(RangeError);
    expect(() => quantizeFormat(ok, 'nvfp4', { scale: 'dynamic-k' })).toThrow(RangeError);
    expect(() => quantizeFormat(ok, 'fp8_e5m2', { scale: 'channel' as FormatScale })).toThrow(RangeError);
    expect(() => quantizeFormat({ ...ok, tokens: 2 }, 'q8_0')).toThrow(RangeError);
    expect(() => quantizeFormat(ok, 'q8_0', { out: new Float32Array(31) })).toThrow(RangeError);
  });
  it('NaN is reported with its index on both paths', () => {
    const bad = tensor(new Float32Array(64), 1, 2, 32);
    bad.data[40] = NaN;
    for (const wasm of [true, false]) {
      setWasmEnabled(wasm);
      expect(() => quantizeFormat(bad, 'q4_0')).toThrow(/tensor\.data\[40\]/);
    }
  });
  it('opts.out is filled and returned', () => {
    const t = tensor(
      Array.from({ length: 64 }, (_, i) => i / 7),
      2,
      1,
      32,
    );
    const out = new Float32Array(64);
    const r = quantizeFormat(t, 'q8_0', { out });
    expect(r.dequantized).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(quantizeFormat(t, 'q8_0').dequantized));
  });
});

describe('hand-computed blocks', () => {
  it('q8_0: d = amax/127 in fp16, halves away from zero', () => {
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = 0.5;
    x[2] = -0.5;
    x[3] = 2.5;
    x[4] = -1.5;
    const y = quantizeFormat(tensor(x, 1, 1, 32), 'q8_0').dequantized;
    expect(Array.from(y.subarray(0, 5))).toEqual([127, 1, -1, 3, -2]);
  });
  it('q4_0: scale from the first of equal-magnitude extremes; halves round up', () => {
    const x = new Float32Array(32);
    x[0] = 8; // first |x| = 8 → d = 8/−8 = −1
    x[1] = -8;
    x[2] = 0.5; // 0.5·(−1) + 8.5 = 8 → q − 8 = 0 → x̂ = 0·(−1) = −0
    x[3] = -2.5; // 2.5 + 8.5 = 11 → 3 → −3
    const y = quantizeFormat(tensor(x, 1, 1, 32), 'q4_0').dequantized;
    expect(y[0]).toBe(8);
    expect(y[1]).toBe(-7); // −8·(−1) + 8.5 = 16.5 → min(15, 16) = 15 → 7·(−1)
    expect(Object.is(y[2], -0)).toBe(true);
    expect(y[3]).toBe(-3);
  });
  it('q4_1: all-equal block reconstructs its value rounded to fp16', () => {
    const y = quantizeFormat(tensor(new Float32Array(32).fill(0.1), 1, 1, 32), 'q4_1').dequantized;
    expect(y[7]).toBe(Math.fround(0.0999755859375)); // fp16(0.1) = 0x2E66
  });
  it('fp8 unit scale clamps to ±448 / ±57344; tensor scale maps amax to max', () => {
    const x = tensor([1000, -1000, 1.0625, 0.5, 1e5, -7e4, 3, 0], 1, 2, 4);
    expect(Array.from(quantizeFormat(x, 'fp8_e4m3').dequantized)).toEqual([448, -448, 1, 0.5, 448, -448, 3, 0]);
    expect(Array.from(quantizeFormat(x, 'fp8_e5m2').dequantized.subarray(4, 6))).toEqual([57344, -57344]);
    const t = quantizeFormat(x, 'fp8_e4m3', { scale: 'tensor' }).dequantized;
    expect(t[4]).toBe(Math.fround(448 * Math.fround(1e5 / 448)));
  });
});

// ---------- properties ----------

const f32 = (min: number, max: number) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });
/** Blocks with mixed magnitudes, exact halves and zeros. */
const blockValue = fc.oneof(
  f32(-4, 4),
  f32(-300, 300),
  fc.integer({ min: -40, max: 40 }).map((k) => k / 2),
  fc.constant(0),
);
const tensorArb = fc
  .record({ heads: fc.integer({ min: 1, max: 3 }), tokens: fc.integer({ min: 1, max: 3 }), blocks: fc.integer({ min: 1, max: 2 }) })
  .chain(({ heads, tokens, blocks }) =>
    fc
      .array(blockValue, { minLength: heads * tokens * blocks * 32, maxLength: heads * tokens * blocks * 32 })
      .map((v) => tensor(v, heads, tokens, blocks * 32)),
  );

describe('properties', () => {
  it('sign symmetry: quantize(−x) = −quantize(x) (all but q4_1/q5_1, whose min/max offset is one-sided)', () => {
    const sym: EngineFormat[] = ['fp8_e4m3', 'fp8_e5m2', 'nvfp4', 'q8_0', 'q4_0', 'q5_0', 'iq4_nl'];
    fc.assert(
      fc.property(tensorArb, fc.constantFrom(...sym), (t, f) => {
        const a = quantizeFormat(t, f).dequantized;
        const b = quantizeFormat({ ...t, data: t.data.map((v) => -v) }, f).dequantized;
        for (let i = 0; i < a.length; i++) if (!(a[i] === -b[i])) return false;
        return true;
      }),
      { numRuns: 60 },
    );
  });
  it('q4_1 and q5_1 are not sign symmetric (halves round up, from the minimum)', () => {
    const x = new Float32Array(32);
    x[0] = 0;
    x[1] = 15;
    x[2] = 0.5;
    const t = tensor(x, 1, 1, 32);
    const a = quantizeFormat(t, 'q4_1').dequantized;
    const b = quantizeFormat({ ...t, data: t.data.map((v) => -v) }, 'q4_1').dequantized;
    expect(a[2]).toBe(1);
    expect(b[2]).toBe(0); // −0.5 − (−15) = 14.5 → trunc(15) = 15 → 15·1 − 15 = 0, not −1
  });
  it('idempotence: a dequantized tensor is a fixed point (fp8 unit scale, q8_0, q4_0, q5_0)', () => {
    fc.assert(
      fc.property(tensorArb, fc.constantFrom<EngineFormat>('fp8_e4m3', 'fp8_e5m2', 'q8_0', 'q4_0', 'q5_0'), (t, f) => {
        const a = quantizeFormat(t, f).dequantized;
        const b = quantizeFormat({ ...t, data: a }, f).dequantized;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
        return true;
      }),
      { numRuns: 60 },
    );
  });
  it('error bounds: fp8 unit |x̂−x| ≤ 2^-4|x| (e4m3) / 2^-3|x| (e5m2) in range; q8_0 ≤ 0.6·amax/127; q4_0 ≤ 1.07·amax/8', () => {
    fc.assert(
      fc.property(tensorArb, (t) => {
        const e4 = quantizeFormat(t, 'fp8_e4m3').dequantized;
        const e5 = quantizeFormat(t, 'fp8_e5m2').dequantized;
        const q8 = quantizeFormat(t, 'q8_0').dequantized;
        const q4 = quantizeFormat(t, 'q4_0').dequantized;
        const x = t.data;
        for (let i = 0; i < x.length; i++) {
          const a = Math.abs(x[i]);
          if (a >= 2 ** -6 && a <= 448 && Math.abs(e4[i] - x[i]) > a * 2 ** -4) return false;
          if (a >= 2 ** -14 && a <= 57344 && Math.abs(e5[i] - x[i]) > a * 2 ** -3) return false;
        }
        for (let b = 0; b < x.length; b += 32) {
          let amax = 0;
          for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]));
          if (amax < 1e-2) continue; // fp16 scales lose relative precision below their normal range
          for (let j = 0; j < 32; j++) {
            if (Math.abs(q8[b + j] - x[b + j]) > (0.6 * amax) / 127) return false;
            if (Math.abs(q4[b + j] - x[b + j]) > (1.07 * amax) / 8) return false;
          }
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });
  it('NVFP4 output values are e2m1 levels times the block scale s/gs', () => {
    fc.assert(
      fc.property(tensorArb, (t) => {
        const y = quantizeFormat(t, 'nvfp4', { scale: 'unit' }).dequantized;
        // gs = 1: each block's x̂ / (its largest |x̂| / 6) must be on the grid when the block max maps to 6
        for (let b = 0; b < y.length; b += 16) {
          let m = 0;
          for (let j = 0; j < 16; j++) m = Math.max(m, Math.abs(y[b + j]));
          if (m === 0) continue;
          const s = m / 6;
          for (let j = 0; j < 16; j++) {
            const r = Math.abs(y[b + j]) / s;
            if (![0, 0.5, 1, 1.5, 2, 3, 4, 6].some((g) => Math.abs(r - g) < 1e-6)) return false;
          }
        }
        return true;
      }),
      { numRuns: 40 },
    );
  });
});

describe('WebAssembly path', () => {
  it('the committed formats.generated.ts is what scripts/build-wasm.mjs produces from formats.wat', async () => {
    const dir = join(__dirname, '../../../../../src/lib/quant/wasm');
    const fresh = await compileKernel(readFileSync(join(dir, 'formats.wat'), 'utf8'), 'FORMATS_WASM_BASE64', 'formats.wat');
    expect(fresh).toBe(readFileSync(join(dir, 'formats.generated.ts'), 'utf8'));
    expect(fresh).toContain(FORMATS_WASM_BASE64.slice(0, 60));
  });
  it('is available here and covers every format but iq4_nl', () => {
    expect(formatsWasmActive()).toBe(true);
    for (const f of ALL) expect(formatHasWasmKernel(f)).toBe(f !== 'iq4_nl');
  });
  it('equals the JS path bit for bit on random tensors, every format and scale mode', () => {
    const modes = (f: EngineFormat): (FormatScale | undefined)[] => [undefined, ...(engineFormatInfo(f).scales as readonly FormatScale[])];
    fc.assert(
      fc.property(tensorArb, fc.constantFrom(...ALL), fc.double({ min: -6, max: 6, noNaN: true }), (t0, f, logScale) => {
        const t = { ...t0, data: t0.data.map((v) => v * 10 ** logScale) };
        for (const scale of modes(f)) {
          const opts = scale === undefined ? {} : { scale };
          setWasmEnabled(false);
          const js = quantizeFormat(t, f, opts).dequantized;
          setWasmEnabled(true);
          const wa = quantizeFormat(t, f, opts).dequantized;
          const a = bitsOf(js);
          const b = bitsOf(wa);
          for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(js[i] !== js[i] && wa[i] !== wa[i])) return false;
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });
  it('every fp8 grid midpoint (and its f32 neighbours) rounds to the even neighbour on both paths', () => {
    for (const [f, maxCode, decode] of [
      ['fp8_e4m3', 0x7e, (c: number) => (c < 8 ? c * 2 ** -9 : (1 + (c & 7) / 8) * 2 ** ((c >> 3) - 7))],
      ['fp8_e5m2', 0x7b, (c: number) => (c < 4 ? c * 2 ** -16 : (1 + (c & 3) / 4) * 2 ** ((c >> 2) - 15))],
    ] as const) {
      const xs: number[] = [];
      const want: number[] = [];
      for (let c = 0; c < maxCode; c++) {
        const lo = decode(c);
        const hi = decode(c + 1);
        const mid = (lo + hi) / 2; // exact in f32 (one more bit)
        const even = c % 2 === 0 ? lo : hi;
        const below = new Float32Array([mid]);
        new Uint32Array(below.buffer)[0] -= 1;
        const above = new Float32Array([mid]);
        new Uint32Array(above.buffer)[0] += 1;
        xs.push(mid, below[0], above[0], -mid);
        want.push(even, lo, hi, -even);
      }
      while (xs.length % 4 !== 0) {
        xs.push(0);
        want.push(0);
      }
      const t = tensor(xs, 1, 1, xs.length);
      for (const wasm of [false, true]) {
        setWasmEnabled(wasm);
        expect(Array.from(quantizeFormat(t, f).dequantized)).toEqual(want.map((v) => Math.fround(v)));
      }
    }
  });
  it('NVFP4 e2m1 thresholds (block max 6, global scale 1) and their f32 neighbours on both paths', () => {
    const thr = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5];
    const items: number[] = [];
    for (const v of thr) {
      const f = new Float32Array([v, v, v]);
      const u = new Uint32Array(f.buffer);
      u[0] -= 1;
      u[2] += 1;
      items.push(f[1], f[0], f[2], -v);
    }
    // blocks of 16 that each start with 6, so s = e4m3(6 · fl(1/6)) = 1 and o = 1
    const pos = (i: number): number => Math.floor(i / 15) * 16 + 1 + (i % 15);
    const xs = new Array<number>(16 * Math.ceil(items.length / 15)).fill(0);
    for (let b = 0; b < xs.length; b += 16) xs[b] = 6;
    items.forEach((v, i) => (xs[pos(i)] = v));
    const t = tensor(xs, 1, 1, xs.length);
    setWasmEnabled(false);
    const js = quantizeFormat(t, 'nvfp4', { scale: 'unit' }).dequantized;
    setWasmEnabled(true);
    const wa = quantizeFormat(t, 'nvfp4', { scale: 'unit' }).dequantized;
    expect(Array.from(bitsOf(wa))).toEqual(Array.from(bitsOf(js)));
    // hand-computed: at each threshold the even level, just below it the lower, just above it the upper
    const lv = [
      [0, 0, 0.5],
      [1, 0.5, 1],
      [1, 1, 1.5],
      [2, 1.5, 2],
      [2, 2, 3],
      [4, 3, 4],
      [4, 4, 6],
    ];
    thr.forEach((_, i) => {
      expect(js[pos(4 * i)]).toBe(lv[i][0]);
      expect(js[pos(4 * i + 1)]).toBe(lv[i][1]);
      expect(js[pos(4 * i + 2)]).toBe(lv[i][2]);
      expect(js[pos(4 * i + 3)]).toBe(-lv[i][0]);
    });
  });
  it('blocks so small that the float32 block scale is subnormal (1/d = inf) give the same bits on both paths', () => {
    const data = new Float32Array(8 * 32);
    for (let i = 0; i < data.length; i++) data[i] = (i % 3 === 0 ? 0 : Math.sin(i)) * 10 ** (-36 - (i >> 5) * 0.5);
    const t = tensor(data, 2, 4, 32);
    for (const f of ALL) {
      setWasmEnabled(false);
      const js = quantizeFormat(t, f).dequantized;
      setWasmEnabled(true);
      const wa = quantizeFormat(t, f).dequantized;
      const a = bitsOf(js);
      const b = bitsOf(wa);
      for (let i = 0; i < a.length; i++) if (!(js[i] !== js[i] && wa[i] !== wa[i])) expect([f, i, b[i]]).toEqual([f, i, a[i]]);
    }
  });
  it('FP8 per-head scales with a headDim that is not a multiple of 4 (vector tails cross head boundaries)', () => {
    const data = Float32Array.from(
      { length: 3 * 5 * 7 },
      (_, i) => Math.sin(i * 1.7) * (1 + (i % 35 === 3 ? 40 : 0)) * 10 ** Math.floor(i / 35),
    );
    const t = tensor(data, 3, 5, 7);
    for (const f of ['fp8_e4m3', 'fp8_e5m2'] as const) {
      setWasmEnabled(false);
      const js = quantizeFormat(t, f, { scale: 'head' }).dequantized;
      setWasmEnabled(true);
      const wa = quantizeFormat(t, f, { scale: 'head' }).dequantized;
      expect(Array.from(bitsOf(wa))).toEqual(Array.from(bitsOf(js)));
    }
  });
});
