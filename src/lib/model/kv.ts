/**
 * Plain KV tensors as the model layer moves them around: row-major `[heads, tokens, headDim]`
 * `Float32Array`s, the shape `src/lib/quant` works on (`KVTensor`). Batch is always 1.
 *
 * Helpers here only copy and slice; no quantization math.
 */
import type { KVTensor, QuantConfig } from '../quant/index';

export type { KVTensor, QuantConfig };

/** A tensor with `tokens` = 0. */
export function emptyKV(heads: number, headDim: number): KVTensor {
  return { data: new Float32Array(0), heads, tokens: 0, headDim };
}

/** Concatenate along the token axis (Transformers' `torch.cat(..., dim=-2)`). */
export function concatTokens(...parts: KVTensor[]): KVTensor {
  const nonEmpty = parts.filter((p) => p.tokens > 0);
  if (parts.length === 0) throw new RangeError('concatTokens needs at least one tensor');
  const { heads, headDim } = parts[0];
  for (const p of parts) {
    if (p.heads !== heads || p.headDim !== headDim) {
      throw new RangeError(`cannot concatenate KV tensors of shape [${p.heads}, *, ${p.headDim}] and [${heads}, *, ${headDim}]`);
    }
  }
  if (nonEmpty.length === 1) return { ...nonEmpty[0], data: nonEmpty[0].data.slice() };
  const tokens = nonEmpty.reduce((n, p) => n + p.tokens, 0);
  const out = new Float32Array(heads * tokens * headDim);
  for (let h = 0; h < heads; h++) {
    let offset = h * tokens * headDim;
    for (const p of nonEmpty) {
      const rowLen = p.tokens * headDim;
      out.set(p.data.subarray(h * rowLen, (h + 1) * rowLen), offset);
      offset += rowLen;
    }
  }
  return { data: out, heads, tokens, headDim };
}

/** Tokens `[start, end)` of every head (a copy). */
export function sliceTokens(t: KVTensor, start: number, end: number = t.tokens): KVTensor {
  const s = Math.max(0, Math.min(start, t.tokens));
  const e = Math.max(s, Math.min(end, t.tokens));
  const n = e - s;
  const out = new Float32Array(t.heads * n * t.headDim);
  for (let h = 0; h < t.heads; h++) {
    const src = (h * t.tokens + s) * t.headDim;
    out.set(t.data.subarray(src, src + n * t.headDim), h * n * t.headDim);
  }
  return { data: out, heads: t.heads, tokens: n, headDim: t.headDim };
}

/**
 * View an ONNX output `[1, heads, tokens, headDim]` as a KVTensor. The data is shared, not copied;
 * float16 outputs (`Float16Array` or raw `Uint16Array` bits) are widened to float32.
 */
export function kvFromDims(data: ArrayLike<number> & { length: number }, dims: readonly number[]): KVTensor {
  if (dims.length !== 4 || dims[0] !== 1) {
    throw new RangeError(`expected a KV tensor of shape [1, heads, tokens, headDim], got [${dims.join(', ')}]`);
  }
  const [, heads, tokens, headDim] = dims;
  let f32: Float32Array;
  if (data instanceof Float32Array) f32 = data;
  else if (data instanceof Uint16Array) f32 = halfBitsToFloat32(data);
  else f32 = Float32Array.from(data as ArrayLike<number>);
  return { data: f32, heads, tokens, headDim };
}

/** Decode IEEE-754 half-precision bit patterns. */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]);
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Round a float to the nearest half-precision bit pattern (round-half-to-even, saturating to ±Inf). */
export function floatToHalf(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Mean absolute value of all elements (used by the model check page and its tests). */
export function meanAbs(t: KVTensor): number {
  let s = 0;
  for (let i = 0; i < t.data.length; i++) s += Math.abs(t.data[i]);
  return t.data.length ? s / t.data.length : 0;
}
