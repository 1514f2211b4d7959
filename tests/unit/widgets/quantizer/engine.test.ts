/**
 * The quantizer's engine formats (model.ts, view.ts): the state → format mapping, re-quantization through the
 * Requantizer and wholeCacheMetrics against quantizeFormat called here, llama.cpp's Hadamard rotation against an
 * explicit Sylvester–Hadamard matrix product, memory against hand counts from the block layouts, and the FP8 grids
 * against the casts of src/lib/quant/formats/fp8.ts.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_FORMATS, quantizeFormat, relativeError, type EngineFormat, type KVTensor } from '../../../../src/lib/quant/index';
import { roundE4m3, roundE5m2 } from '../../../../src/lib/quant/formats/fp8';
import {
  formatFor,
  formatMemory,
  quantFor,
  quantizeSpec,
  Requantizer,
  wholeCacheMetrics,
  type FormatSpec,
} from '../../../../src/widgets/quantizer/model';
import { quantizerCodec, type QuantizerState } from '../../../../src/widgets/quantizer/state';
import { blockStructure, fp8Values, gridIn } from '../../../../src/widgets/quantizer/view';

/** A deterministic tensor with one outlier channel (channel 3 is ×20), like real keys. */
function tensor(heads = 2, tokens = 8, headDim = 64, seed = 1): KVTensor {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) data[i] = rnd() * (i % headDim === 3 ? 20 : 1);
  return { data, heads, tokens, headDim };
}

const state = (patch: Partial<QuantizerState>): QuantizerState => ({ ...quantizerCodec.defaults, ...patch });

describe('formatFor / quantFor', () => {
  it('vLLM: one dtype for K and V; dynamic = calc_kv_scales (K /200 → dynamic-k, V /100 → dynamic-v)', () => {
    const s = state({ engine: 'vllm', dtype: 'fp8_e4m3', fp8scale: 'dynamic' });
    expect(formatFor(s, 'k')).toEqual({ kind: 'format', format: 'fp8_e4m3', scale: 'dynamic-k', hadamard: false });
    expect(formatFor(s, 'v')).toEqual({ kind: 'format', format: 'fp8_e4m3', scale: 'dynamic-v', hadamard: false });
    expect(formatFor(state({ engine: 'vllm', dtype: 'fp8_e5m2', fp8scale: 'head' }), 'v')).toMatchObject({
      format: 'fp8_e5m2',
      scale: 'head',
    });
  });
  it('vLLM NVFP4 takes no FP8 scale (its global scale is per tensor)', () => {
    expect(formatFor(state({ engine: 'vllm', dtype: 'nvfp4', fp8scale: 'dynamic' }), 'k')).toEqual({
      kind: 'format',
      format: 'nvfp4',
      hadamard: false,
    });
  });
  it('llama.cpp: K and V separately, f16 = unquantized, rotation only when on', () => {
    const s = state({ engine: 'llamacpp', kfmt: 'q4_0', vfmt: 'f16', hadamard: 'on' });
    expect(formatFor(s, 'k')).toEqual({ kind: 'format', format: 'q4_0', hadamard: true });
    expect(formatFor(s, 'v')).toBeNull();
    expect(formatFor({ ...s, hadamard: 'off' }, 'k')).toEqual({ kind: 'format', format: 'q4_0', hadamard: false });
  });
  it('Transformers: the QuantConfig of the bits/group/axis/method controls', () => {
    expect(quantFor(state({ bits: 2, group: 32, kaxis: 'channel' }), 'k')).toMatchObject({
      bits: 2,
      groupSize: 32,
      axis: 'channel',
      method: 'minmax',
    });
    expect(formatFor(state({}), 'k')).toBeNull();
  });
});

/** Sylvester's Hadamard matrix of order n (a power of two), normalised by 1/√n. */
function hadamardMatrix(n: number): Float64Array {
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let b = i & j;
      let parity = 0;
      while (b) {
        parity ^= b & 1;
        b >>= 1;
      }
      h[i * n + j] = (parity ? -1 : 1) / Math.sqrt(n);
    }
  }
  return h;
}

function rotateByMatrix(data: Float32Array, d: number): Float32Array {
  const h = hadamardMatrix(d);
  const out = new Float32Array(data.length);
  for (let base = 0; base < data.length; base += d) {
    for (let i = 0; i < d; i++) {
      let acc = 0;
      for (let j = 0; j < d; j++) acc += h[i * d + j] * data[base + j];
      out[base + i] = acc;
    }
  }
  return out;
}

describe('quantizeSpec', () => {
  const t = tensor();
  it.each(ENGINE_FORMATS.map((f) => f.id))('%s without rotation is quantizeFormat', (format) => {
    const got = quantizeSpec(t, { kind: 'format', format, hadamard: false }, new Float32Array(t.data.length));
    expect(Array.from(got)).toEqual(Array.from(quantizeFormat(t, format).dequantized));
  });

  it('with rotation: H·Q(H·x) with the explicit 64×64 Hadamard matrix (float64 products, within float32 rounding)', () => {
    for (const format of ['q4_0', 'q8_0', 'iq4_nl'] as EngineFormat[]) {
      const rotated = { ...t, data: rotateByMatrix(t.data, 64) };
      const ref = rotateByMatrix(quantizeFormat(rotated, format).dequantized, 64);
      const got = quantizeSpec(t, { kind: 'format', format, hadamard: true }, new Float32Array(t.data.length));
      // The FWHT and the matrix product round differently (≤ a few float32 ulps), which can move a value across a
      // rounding boundary of the 4-bit grid: compare the whole result, not element by element.
      expect(relativeError(ref, got)).toBeLessThan(1e-3);
    }
  });

  it('rotation spreads the outlier channel: q4_0 error drops on a tensor with a ×20 channel', () => {
    const plain = relativeError(
      t.data,
      quantizeSpec(t, { kind: 'format', format: 'q4_0', hadamard: false }, new Float32Array(t.data.length)),
    );
    const rot = relativeError(t.data, quantizeSpec(t, { kind: 'format', format: 'q4_0', hadamard: true }, new Float32Array(t.data.length)));
    expect(rot).toBeLessThan(plain);
  });
});

describe('Requantizer and wholeCacheMetrics with formats', () => {
  const keys = [tensor(2, 8, 64, 1), tensor(2, 8, 64, 2)];
  const values = [tensor(2, 8, 64, 3), tensor(2, 8, 64, 4)];
  const k: FormatSpec = { kind: 'format', format: 'fp8_e4m3', scale: 'dynamic-k', hadamard: false };
  const v: FormatSpec = { kind: 'format', format: 'q4_0', hadamard: false };

  it('run() gives quantizeFormat’s values and reports the format as used', () => {
    const r = new Requantizer().run('k', keys[0], k);
    expect(r.used).toBe(k);
    expect(Array.from(r.dequantized)).toEqual(Array.from(quantizeFormat(keys[0], 'fp8_e4m3', { scale: 'dynamic-k' }).dequantized));
  });

  it('the whole-cache relative error is that of every K and V quantized with its format', () => {
    const orig: number[] = [];
    const deq: number[] = [];
    for (const t of keys) {
      orig.push(...t.data);
      deq.push(...quantizeFormat(t, 'fp8_e4m3', { scale: 'dynamic-k' }).dequantized);
    }
    for (const t of values) {
      orig.push(...t.data);
      deq.push(...quantizeFormat(t, 'q4_0').dequantized);
    }
    let e = 0;
    let s = 0;
    for (let i = 0; i < orig.length; i++) {
      e += (orig[i] - deq[i]) ** 2;
      s += orig[i] ** 2;
    }
    expect(wholeCacheMetrics(keys, values, k, v).relativeError).toBeCloseTo(Math.sqrt(e / s), 9);
  });
});

describe('formatMemory', () => {
  const info = { layers: 8, kvHeads: 2, headDim: 64 };
  it('q4_0 keys and f16 values: 18 bytes per 32 key elements, 2 bytes per value element', () => {
    const tokens = 100;
    const per = 8 * 2 * 64 * tokens;
    const m = formatMemory(info, tokens, { kind: 'format', format: 'q4_0', hadamard: true }, null);
    expect(m.total).toBe((per / 32) * 18 + per * 2);
    expect(m.meta).toBe((per / 32) * 2); // one fp16 d per block
    expect(m.fp16Total).toBe(per * 4);
    expect(m.bitsPerElement).toBeCloseTo((4.5 + 16) / 2, 12);
  });
  it('NVFP4 K and V: 9 bytes per 16 elements (8 of E2M1 codes, 1 E4M3 block scale)', () => {
    const per = 8 * 2 * 64 * 10;
    const f: FormatSpec = { kind: 'format', format: 'nvfp4', hadamard: false };
    const m = formatMemory(info, 10, f, f);
    expect(m.payload).toBe(2 * (per / 16) * 8);
    expect(m.meta).toBe(2 * (per / 16));
    expect(m.ratio).toBeCloseTo(16 / 4.5, 12);
  });
});

describe('format pictures', () => {
  it.each([
    ['e4m3', roundE4m3, 127, 448, 2 ** -9],
    ['e5m2', roundE5m2, 124, 57344, 2 ** -16],
  ] as const)(
    'fp8Values(%s): every value is a fixed point of the cast; count, max and smallest subnormal',
    (kind, round, count, max, tiny) => {
      const vals = fp8Values(kind);
      expect(vals).toHaveLength(count);
      for (const v of vals) expect(round(v)).toBe(v);
      expect(Math.max(...vals)).toBe(max);
      expect(vals.filter((v) => v > 0).reduce((a, b) => Math.min(a, b))).toBe(tiny);
      // midpoints between neighbours are not representable: the list has no gaps
      const sorted = [...vals].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]).toBeGreaterThan(sorted[i - 1]);
    },
  );

  it('gridIn keeps ±v·scale inside the domain, 0 once, ascending', () => {
    expect(gridIn([0, 0.5, 1, 6], 2, [-3, 3])).toEqual([-2, -1, 0, 1, 2]);
  });

  it.each(ENGINE_FORMATS.filter((f) => f.blockSize !== null).map((f) => [f.id, f.bitsPerElement] as const))(
    'blockStructure(%s) states bytes per token vector = headDim · bits per element / 8',
    (id, bpe) => {
      const text = blockStructure(id, 64);
      expect(text).toContain(`(${(64 * bpe) / 8} bytes per token vector)`);
    },
  );
});
