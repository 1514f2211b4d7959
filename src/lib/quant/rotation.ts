/**
 * Orthonormal fast Walsh–Hadamard transform over head_dim, as QuaRot's `QKRotationWrapper`
 * (`fake_quant/rotation_utils.py`: `hadamard_transform(q|k, scale=1/sqrt(d))` after RoPE, power-of-two head_dim).
 * H/√d is symmetric and orthogonal, so it is its own inverse, and rotating both q and k leaves qᵀk unchanged.
 * Spreading an outlier channel over all channels flattens the per-channel ranges that hurt per-token key quantization.
 */
import { optionError } from './errors';
import { validateTensor } from './grouping';
import type { KVTensor } from './types';

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** In-place orthonormal Walsh–Hadamard transform of `buf[offset .. offset + n)`; n must be a power of two. */
export function fwhtInPlace(buf: Float32Array | Float64Array, offset: number, n: number): void {
  if (!isPowerOfTwo(n)) throw optionError('headDim', n, 'a power of two (1, 2, 4, …, 64, 128, …) for the Hadamard rotation');
  for (let h = 1; h < n; h <<= 1) {
    for (let i = offset, end = offset + n; i < end; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const a = buf[j];
        const b = buf[j + h];
        buf[j] = a + b;
        buf[j + h] = a - b;
      }
    }
  }
  const s = 1 / Math.sqrt(n);
  for (let i = offset, end = offset + n; i < end; i++) buf[i] *= s;
}

/**
 * Rotates every token vector (length headDim) of `t` with H/√d. Writes into `out` (which may be `t.data` for in-place)
 * or a new array; returns a tensor of the same shape. Applying it twice gives back the input (up to rounding).
 */
export function hadamardRotate(t: KVTensor, out?: Float32Array): KVTensor {
  validateTensor(t);
  const D = t.headDim;
  if (!isPowerOfTwo(D)) throw optionError('headDim', D, 'a power of two (1, 2, 4, …, 64, 128, …) for the Hadamard rotation');
  const n = t.data.length;
  const dst = out ?? new Float32Array(n);
  if (!(dst instanceof Float32Array) || dst.length < n) throw optionError('out.length', dst.length, `a Float32Array of length ≥ ${n}`);
  if (dst !== t.data) dst.set(t.data);
  // Transform in float64 per vector to avoid compounding float32 rounding across log2(d) stages.
  const tmp = new Float64Array(D);
  for (let base = 0; base < n; base += D) {
    for (let d = 0; d < D; d++) tmp[d] = dst[base + d];
    fwhtInPlace(tmp, 0, D);
    for (let d = 0; d < D; d++) dst[base + d] = tmp[d];
  }
  return { data: dst, heads: t.heads, tokens: t.tokens, headDim: D };
}

/** The inverse rotation: identical to `hadamardRotate` because H/√d is its own inverse. */
export const inverseHadamardRotate = hadamardRotate;
