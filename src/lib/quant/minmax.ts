/**
 * Asymmetric min-max quantization, a port of optimum-quanto's `MaxOptimizer` + `quantize_affine` +
 * `QBitsDequantizer` (`optimum/quanto/tensor/optimizers/max_optimizer.py`, `library/quantize.py`) — the quantizer
 * behind transformers' `QuantoQuantizedCache` — and of KIVI's `quant/new_pack.py` (same formula).
 *
 * Per group: `scale = (max − min) / (2^b − 1)`; `q = clamp(round((x − min) / scale), 0, 2^b − 1)` with
 * round-half-to-even like `torch.round`; `x̂ = q · scale + min`.
 * - Sign convention: quanto stores `shift = −min` and computes `q·scale − shift`; we store `zero = +min` and
 *   compute `q·scale + zero` (same numbers).
 * - Metadata: scale and min are rounded to the metadata dtype first and the rounded values are used for both
 *   quantization and dequantization (quanto computes them in the KV dtype, fp16 in the blog setup).
 * - A constant group (max = min, scale 0) has no guard in quanto (division by zero); here it gets code 0 and
 *   reproduces its value exactly. A scale that rounds to 0 in fp16 is treated the same way (output = zero).
 * - A NaN or ±Infinity element throws a RangeError (detected in the quantize pass at no extra cost).
 *
 * Hot loops are fused (one min/max pass + one quantize/dequantize pass per group) and avoid Math.* calls.
 * Layouts: `minmaxToken` (contiguous runs) and `minmaxChannel` (KIVI); for `strided` and `flat-channel`
 * fakeQuantize.ts gathers each group into a contiguous run and calls the token kernel (min/max do not depend on
 * the order, so this is quanto's MaxOptimizer on `group(base, axis=-1)`'s (G, headDim·R/G) shape, reduced over dim 0).
 */
import { ROUND_MAGIC } from './fp16';

/** Largest finite float32. Groups with |values| ≥ BIG take the clamped path, whose outputs are clamped to ±F32_MAX. */
export const F32_MAX = 3.4028234663852886e38;
export const BIG = 1e38;
import { scratchF64 } from './scratch';

export function nonFiniteError(index: number, value: number): RangeError {
  return new RangeError(`tensor.data[${index}] = ${value} is not allowed: expected finite numbers (no NaN or ±Infinity)`);
}

/** Finds the first non-finite element for the error message (called only on the error path). */
export function findNonFinite(data: Float32Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (!Number.isFinite(data[i])) return i;
  return from;
}

/** Token-axis minmax over `n / G` contiguous groups. */
export function minmaxToken(
  data: Float32Array,
  n: number,
  G: number,
  bits: number,
  round: (x: number) => number,
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): void {
  const qmax = (1 << bits) - 1;
  const M = ROUND_MAGIC;
  for (let g = 0, base = 0; base < n; g++, base += G) {
    const end = base + G;
    let mn = data[base];
    let mx = mn;
    for (let i = base + 1; i < end; i++) {
      const x = data[i];
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
    }
    if ((mx - mn) * 0 !== 0) {
      const k = findNonFinite(data, base, end);
      throw nonFiniteError(k, data[k]);
    }
    const scale = round((mx - mn) / qmax);
    const zero = round(mn);
    const inv = scale > 0 ? 1 / scale : 0;
    scales[g] = scale;
    zeros[g] = zero;
    // v is monotone in x, so if the group's extremes map inside (−0.5, qmax + 0.5) no element needs clamping;
    // the branch-free loop is ~3× faster. NaN elements propagate into `acc` and are reported after the group.
    const lo = (mn - zero) * inv;
    const hi = (mx - zero) * inv;
    let acc = 0;
    if (lo > -0.5 && hi < qmax + 0.5 && mn > -BIG && mx < BIG) {
      for (let i = base; i < end; i++) {
        const q = (data[i] - zero) * inv + M - M;
        acc += q;
        codes[i] = q;
        deq[i] = q * scale + zero;
      }
    } else {
      for (let i = base; i < end; i++) {
        let v = (data[i] - zero) * inv;
        v = v < 0 ? 0 : v > qmax ? qmax : v;
        const q = v + M - M;
        acc += q;
        codes[i] = q;
        const y = q * scale + zero;
        deq[i] = y > F32_MAX ? F32_MAX : y < -F32_MAX ? -F32_MAX : y;
      }
    }
    if (acc !== acc) {
      const k = findNonFinite(data, base, end);
      throw nonFiniteError(k, data[k]);
    }
  }
}

/**
 * Channel-axis minmax (KIVI per-channel keys): for each head and block of G tokens, per-channel running min/max
 * arrays are filled token-major, so memory is read sequentially.
 */
export function minmaxChannel(
  data: Float32Array,
  heads: number,
  tokens: number,
  D: number,
  G: number,
  bits: number,
  round: (x: number) => number,
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): void {
  const qmax = (1 << bits) - 1;
  const M = ROUND_MAGIC;
  const mn = scratchF64(0, D);
  const mx = scratchF64(1, D);
  const inv = scratchF64(2, D);
  const tgs = Math.ceil(tokens / G);
  for (let h = 0; h < heads; h++) {
    for (let tg = 0; tg < tgs; tg++) {
      const t0 = tg * G;
      const len = t0 + G <= tokens ? G : tokens - t0;
      const rowBase = (h * tokens + t0) * D;
      const end = rowBase + len * D;
      const gBase = (h * tgs + tg) * D;
      for (let d = 0; d < D; d++) {
        const x = data[rowBase + d];
        mn[d] = x;
        mx[d] = x;
      }
      for (let r = rowBase + D; r < end; r += D) {
        for (let d = 0; d < D; d++) {
          const x = data[r + d];
          const a = mn[d];
          const b = mx[d];
          mn[d] = x < a ? x : a;
          mx[d] = x > b ? x : b;
        }
      }
      let inRange = true;
      for (let d = 0; d < D; d++) {
        if ((mx[d] - mn[d]) * 0 !== 0) {
          const k = findNonFinite(data, rowBase, end);
          throw nonFiniteError(k, data[k]);
        }
        const scale = round((mx[d] - mn[d]) / qmax);
        const zero = round(mn[d]);
        const iv = scale > 0 ? 1 / scale : 0;
        if (!((mn[d] - zero) * iv > -0.5 && (mx[d] - zero) * iv < qmax + 0.5 && mn[d] > -BIG && mx[d] < BIG)) inRange = false;
        scales[gBase + d] = scale;
        zeros[gBase + d] = zero;
        // Reuse the arrays: mn ← stored zero, mx ← stored scale.
        mn[d] = zero;
        mx[d] = scale;
        inv[d] = iv;
      }
      let acc = 0;
      if (inRange) {
        for (let r = rowBase; r < end; r += D) {
          for (let d = 0; d < D; d++) {
            const i = r + d;
            const zero = mn[d];
            const q = (data[i] - zero) * inv[d] + M - M;
            acc += q;
            codes[i] = q;
            deq[i] = q * mx[d] + zero;
          }
        }
      } else {
        for (let r = rowBase; r < end; r += D) {
          for (let d = 0; d < D; d++) {
            const i = r + d;
            const zero = mn[d];
            let v = (data[i] - zero) * inv[d];
            v = v < 0 ? 0 : v > qmax ? qmax : v;
            const q = v + M - M;
            acc += q;
            codes[i] = q;
            const y = q * mx[d] + zero;
            deq[i] = y > F32_MAX ? F32_MAX : y < -F32_MAX ? -F32_MAX : y;
          }
        }
      }
      if (acc !== acc) {
        const k = findNonFinite(data, rowBase, end);
        throw nonFiniteError(k, data[k]);
      }
    }
  }
}
