/**
 * llama.cpp's KV-cache block formats, as ggml's reference quantizers (`quantize_row_*_ref` and `dequantize_row_*`
 * in ggml/src/ggml-quants.c, llama.cpp commit 01243c5). The CPU backend's cache writes go through
 * ggml-cpu/quants.c `quantize_row_*`, which forward to the `_ref` functions (iq4_nl included) — except q8_0, whose
 * x86 SIMD version (ggml-cpu/arch/x86/quants.c) uses id = 127/amax and `_mm256_round_ps(_MM_ROUND_NEAREST)`, i.e.
 * ties to even and a differently rounded inverse: it can differ from the reference in the last code on ties.
 * GPU backends have their own copy kernels. Blocks of 32 consecutive values (here: along headDim of one
 * (head, token) row); the block scale `d` (and the q4_1/q5_1 minimum `m`) are stored as fp16, rounded to nearest
 * even (`GGML_FP32_TO_FP16`), while the codes are computed with the float32 scale before that rounding — as ggml.
 * Every step is float32 (Math.fround after each operation), as the C code and gguf-py's numpy port
 * (gguf-py/gguf/quants.py, gguf 0.19.0) compute it; the C code is assumed compiled without FMA contraction of
 * `x*d + m` / `sumqx += w*q*x` (gguf-py never fuses; a -march=native build of the C code may, in the last bit).
 *
 * Tie and rounding rules, per format:
 * - q8_0: d = amax/127; q = roundf(x·(1/d)) — halves away from zero; x̂ = q·d.
 * - q4_0 / q5_0: d = max/−8 (−16) where max is the signed value of the FIRST element with the largest |x|;
 *   q = MIN(15 (31), (int8_t)(x·(1/d) + 8.5 (16.5))) — truncation, so halves round up; x̂ = (q − 8 (16))·d.
 * - q4_1 / q5_1: d = (max − min)/15 (31); q = trunc((x − min)·(1/d) + 0.5); x̂ = q·d + m with d, m as fp16.
 * - iq4_nl: 16 non-linear levels `kvalues_iq4nl`; `quantize_row_iq4_nl_ref` = `quantize_row_iq4_nl_impl(32, 32,
 *   16, …, ntry = −1)`: codes from the scale max/−127 with `best_index_int8` (a level is chosen once 2x reaches
 *   the sum of its two neighbours: ties go up), then the stored scale is the weighted least-squares
 *   d = Σ w·q·x / Σ w·q² with w = x² over those codes (no scale search at ntry = −1; `quantize_iq4_nl`, used when
 *   converting weights with an imatrix, searches ±7 steps — not what the cache writer calls).
 */
import { roundToFp16 } from '../fp16';

const fl = Math.fround;

/** `kvalues_iq4nl` (ggml-common.h). */
export const IQ4NL_VALUES: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
const FLT_MAX = 3.4028234663852886e38;
const GROUP_MAX_EPS = fl(1e-15);

/** q8_0 over data[from, to) (multiple of 32) into out. */
export function q8_0(data: Float32Array, out: Float32Array, from: number, to: number): void {
  for (let b = from; b < to; b += 32) {
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(data[b + j]);
      if (a > amax) amax = a; // MAX(amax, fabsf(v))
    }
    const d = fl(amax / 127);
    const id = d ? fl(1 / d) : 0;
    const dh = roundToFp16(d);
    for (let j = 0; j < 32; j++) {
      const v = fl(data[b + j] * id);
      // roundf: half away from zero (|v| ≤ 127.0…, so floor(|v| + 0.5) is exact in float64)
      const q = v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
      out[b + j] = fl((q === 0 ? 0 : q) * dh); // the int8 code has no −0
    }
  }
}

/** q4_0 (bits 4) or q5_0 (bits 5) over data[from, to). */
export function qx_0(data: Float32Array, out: Float32Array, from: number, to: number, bits: 4 | 5): void {
  const half = bits === 4 ? 8 : 16;
  const top = 2 * half - 1;
  const off = half + 0.5;
  for (let b = from; b < to; b += 32) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = data[b + j];
      const a = Math.abs(v);
      if (amax < a) {
        amax = a;
        max = v;
      }
    }
    const d = fl(max / -half);
    const id = d ? fl(1 / d) : 0;
    const dh = roundToFp16(d);
    for (let j = 0; j < 32; j++) {
      const t = Math.trunc(fl(fl(data[b + j] * id) + off));
      const q = t < top ? t : top;
      out[b + j] = fl((q - half) * dh);
    }
  }
}

/** q4_1 (bits 4) or q5_1 (bits 5) over data[from, to). */
export function qx_1(data: Float32Array, out: Float32Array, from: number, to: number, bits: 4 | 5): void {
  const top = (1 << bits) - 1;
  for (let b = from; b < to; b += 32) {
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = data[b + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fl(fl(max - min) / top);
    const id = d ? fl(1 / d) : 0;
    const dh = roundToFp16(d);
    const mh = roundToFp16(min);
    for (let j = 0; j < 32; j++) {
      const t = Math.trunc(fl(fl(fl(data[b + j] - min) * id) + 0.5));
      const q = t < top ? t : top;
      out[b + j] = fl(fl(q * dh) + mh);
    }
  }
}

/** ggml `best_index_int8(16, kvalues_iq4nl, x)`: branch-free binary search on 2x against neighbour sums. */
export function iq4nlIndex(x: number): number {
  const x2 = fl(x + x);
  let idx = 0;
  for (let step = 8; step > 0; step >>= 1) {
    const j = idx + step;
    if (x2 >= IQ4NL_VALUES[j - 1] + IQ4NL_VALUES[j]) idx = j;
  }
  return idx;
}

const L = new Uint8Array(32);

/** iq4_nl over data[from, to), as `quantize_row_iq4_nl_ref` then `dequantize_row_iq4_nl`. */
export function iq4_nl(data: Float32Array, out: Float32Array, from: number, to: number): void {
  for (let b = from; b < to; b += 32) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = data[b + j];
      const a = Math.abs(v);
      if (a > amax) {
        amax = a;
        max = v;
      }
    }
    let d = 0;
    if (amax < GROUP_MAX_EPS) {
      L.fill(0);
    } else {
      const id = fl(1 / fl(max / IQ4NL_VALUES[0]));
      let sumqx = 0;
      let sumq2 = 0;
      for (let j = 0; j < 32; j++) {
        const x = data[b + j];
        const l = iq4nlIndex(fl(id * x));
        L[j] = l;
        const q = IQ4NL_VALUES[l];
        const w = fl(x * x);
        const wq = fl(w * q);
        sumqx = fl(sumqx + fl(wq * x));
        sumq2 = fl(sumq2 + fl(wq * q));
      }
      d = sumq2 > 0 ? fl(sumqx / sumq2) : 0;
    }
    const dh = roundToFp16(d);
    for (let j = 0; j < 32; j++) out[b + j] = fl(dh * IQ4NL_VALUES[L[j]]);
  }
}
