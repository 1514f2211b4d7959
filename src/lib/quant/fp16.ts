/**
 * Rounding to IEEE 754 binary16 ("half", `torch.float16`), the dtype Transformers stores the cache's scale and
 * zero in (quanto: `scale.dtype == base.dtype`; HQQ: `Quantizer.cuda(...)` casts meta to `compute_dtype`).
 *
 * Rounding is to nearest, ties to even, directly from float64 (no double rounding through float32), with
 * gradual underflow (subnormals, quantum 2^-24) and overflow to ±Infinity at |x| ≥ 65520.
 */

/** Largest finite half: 65504. */
export const FP16_MAX = 65504;
/** Smallest positive normal half: 2^-14. */
export const FP16_MIN_NORMAL = 2 ** -14;
/** Smallest positive subnormal half: 2^-24. */
export const FP16_MIN_SUBNORMAL = 2 ** -24;

/** 2^52 + 2^51: adding and subtracting it rounds a float64 with |v| < 2^51 to an integer, ties to even. */
export const ROUND_MAGIC = 6755399441055744;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Index of the high word (sign + exponent) of a float64 in a Uint32Array view: 1 on little-endian hosts. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** POW2[e + 24] = 2^e for e in [-24, 5]: the quantum of halves with exponent e + 10. */
const POW2 = new Float64Array(30);
for (let e = -24; e <= 5; e++) POW2[e + 24] = 2 ** e;

/** Rounds `x` to the nearest IEEE half (ties to even); NaN stays NaN, |x| ≥ 65520 gives ±Infinity, −0 stays −0. */
export function roundToFp16(x: number): number {
  if (x !== x) return NaN;
  const neg = x < 0 || (x === 0 && 1 / x < 0);
  const a = neg ? -x : x;
  if (a >= 65520) return neg ? -Infinity : Infinity;
  let r: number;
  if (a < FP16_MIN_NORMAL) {
    // Subnormal range: multiples of 2^-24.
    r = (a * 16777216 + ROUND_MAGIC - ROUND_MAGIC) / 16777216;
  } else {
    f64[0] = a;
    const e = ((u32[HI] >>> 20) & 0x7ff) - 1023; // floor(log2 a), in [-14, 15]
    const q = POW2[e - 10 + 24]; // spacing of halves in [2^e, 2^(e+1))
    r = (a / q + ROUND_MAGIC - ROUND_MAGIC) * q;
  }
  return neg ? -r : r;
}

/**
 * Rounds to half but saturates at ±65504 instead of overflowing: used for stored metadata so a scale or zero that
 * fp16 cannot hold gives a (wrong but) finite reconstruction instead of Inf/NaN. Real fp16 would overflow.
 */
export function roundToFp16Saturating(x: number): number {
  const r = roundToFp16(x);
  if (r === Infinity) return FP16_MAX;
  if (r === -Infinity) return -FP16_MAX;
  return r;
}

const F32_MAX = 3.4028234663852886e38;

/** Math.fround, saturating at the largest finite float32 (for fp32 metadata). */
export function roundToFp32Saturating(x: number): number {
  const r = Math.fround(x);
  if (r === Infinity) return F32_MAX;
  if (r === -Infinity) return -F32_MAX;
  return r;
}

/** The rounding applied to stored scale/zero for a metadata dtype. */
export function metaRounder(metaDtype: 'fp16' | 'fp32'): (x: number) => number {
  return metaDtype === 'fp16' ? roundToFp16Saturating : roundToFp32Saturating;
}
