/**
 * HQQ's zero-point optimizer as used by transformers' `HQQQuantizedCache`: `hqq.core.quantize.Quantizer.quantize`
 * with `optimize=True`, i.e. `optimize_weights_proximal = optimize_weights_proximal_legacy`
 * (`hqq/core/optimize.py`, default `opt_params = {lp_norm: 0.7, beta: 1e1, kappa: 1.01, iters: 20}`).
 *
 * Per group (`Quantizer.quantize`): inverse scale `s = (2^b − 1) / (max − min)`, replaced by 1 where
 * `|max − min| ≤ 1e-4`, then capped at 2e4; float zero (code units, not rounded) `z = −min · s`.
 * Then up to `iters` iterations over the whole tensor (`optimize_weights_proximal_legacy`), in this order:
 *   W_q = clamp(round(W·s + z), 0, 2^b − 1);  W_r = (W_q − z) / s;
 *   W_e = shrink_lp(W − W_r) = sign(x)·relu(|x| − |x|^(p−1)/β)   (x = 0 gives 0: |0|^(p−1) = ∞, relu(−∞) = 0);
 *   z   = mean over the group of (W_q − (W − W_e)·s);   β ← β·κ;
 *   err = mean |W − W_r| over the WHOLE tensor (all groups), compared with best_error (initially 1e4):
 *         if err < best: best = err, continue; else break.
 * Our reading of the early stop: the zero is updated BEFORE the check, so when the loop breaks it keeps the zero
 * computed in the breaking iteration (from the W_r that did not improve) — the legacy code does not restore the
 * previous zero (only `optimize_weights_proximal_v2` keeps `zero_prev`). We follow the legacy code. Note also that
 * the legacy loop does multiply β by κ each iteration (the facts sheet says κ is unused; the hqq source we read,
 * commit b21fe87, has `beta *= kappa`). If the very first error is ≥ 1e4 (huge magnitudes) the loop stops after
 * one zero update, exactly as HQQ does. Only z is optimized; s stays fixed.
 * Finally W_q = clamp(round(W·s + z)) with the final z; stored meta is `scale = 1/s` and `zero = z`
 * (rounded to the metadata dtype, as `Quantizer.cuda` casts meta to the fp16 compute dtype) and
 * `x̂ = (W_q − zero) · scale` uses the stored values.
 *
 * Differences: HQQ computes in fp32 on CPU (fp16 on CUDA); we compute in float64. Stored meta saturates at the
 * dtype's maximum instead of overflowing (see fp16.ts).
 */
import { ROUND_MAGIC } from './fp16';
import { F32_MAX, nonFiniteError, findNonFinite } from './minmax';
import { scratchF32, scratchF64, scratchI32, scratchU8 } from './scratch';
import type { HqqParams } from './types';

/**
 * HQQ on groups stored contiguously: group g is `w[off[g] .. off[g+1])`. Codes and dequantized values are written
 * at the same positions; returns the number of optimizer iterations that ran (including the breaking one).
 */
export function hqqGroups(
  w: Float32Array,
  off: Int32Array,
  groups: number,
  bits: number,
  params: HqqParams,
  round: (x: number) => number,
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): number {
  const qmax = (1 << bits) - 1;
  const M = ROUND_MAGIC;
  const S = scratchF64(3, groups);
  const Z = scratchF64(4, groups);
  const n = off[groups] - off[0];
  // Initialisation (Quantizer.quantize).
  for (let g = 0; g < groups; g++) {
    const a = off[g];
    const b = off[g + 1];
    let mn = w[a];
    let mx = mn;
    let sum = 0;
    for (let i = a; i < b; i++) {
      const x = w[i];
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
      sum += x;
    }
    if (sum * 0 !== 0) {
      const k = findNonFinite(w, a, b);
      throw nonFiniteError(k, w[k]);
    }
    const denom = mx - mn;
    let s = qmax / denom;
    if (Math.abs(denom) <= 1e-4) s = 1;
    if (s > 2e4) s = 2e4;
    S[g] = s;
    Z[g] = -mn * s;
  }
  // Proximal iterations (optimize_weights_proximal_legacy).
  const p = params.lpNorm;
  let beta = params.beta;
  let best = 1e4;
  let it = 0;
  while (it < params.iters) {
    it++;
    // |x| − |x|^(p−1)/β > 0  ⇔  |x| > β^(−1/(2−p)); below that the shrink is exactly 0, so skip Math.pow there.
    const thr = Math.pow(beta, -1 / (2 - p)) * (1 - 1e-9);
    const invBeta = 1 / beta;
    const pm1 = p - 1;
    let errSum = 0;
    for (let g = 0; g < groups; g++) {
      const a = off[g];
      const b = off[g + 1];
      const s = S[g];
      const z = Z[g];
      const invS = 1 / s;
      let zacc = 0;
      for (let i = a; i < b; i++) {
        const x = w[i];
        let v = x * s + z;
        v = v < 0 ? 0 : v > qmax ? qmax : v;
        const q = v + M - M;
        const e = x - (q - z) * invS;
        const ae = e < 0 ? -e : e;
        errSum += ae;
        let we = 0;
        if (ae > thr) {
          // |e|^(p−1) as exp((p−1)·ln|e|): within 1 ulp of Math.pow and about twice as fast in V8.
          const t = ae - Math.exp(pm1 * Math.log(ae)) * invBeta;
          if (t > 0) we = e < 0 ? -t : t;
        }
        zacc += q - (x - we) * s;
      }
      Z[g] = zacc / (b - a);
    }
    beta *= params.kappa;
    const err = errSum / n;
    if (err < best) best = err;
    else break;
  }
  // Final quantization with the optimized zero; dequantize with the stored (rounded) meta.
  for (let g = 0; g < groups; g++) {
    const a = off[g];
    const b = off[g + 1];
    const s = S[g];
    const z = Z[g];
    const scale = round(1 / s);
    const zero = round(z);
    scales[g] = scale;
    zeros[g] = zero;
    for (let i = a; i < b; i++) {
      let v = w[i] * s + z;
      v = v < 0 ? 0 : v > qmax ? qmax : v;
      const q = v + M - M;
      codes[i] = q;
      const y = (q - zero) * scale;
      deq[i] = y > F32_MAX ? F32_MAX : y < -F32_MAX ? -F32_MAX : y;
    }
  }
  return it;
}

/** Token axis: groups are already contiguous runs of G elements. */
export function hqqToken(
  data: Float32Array,
  n: number,
  G: number,
  bits: number,
  params: HqqParams,
  round: (x: number) => number,
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): number {
  const groups = n / G;
  const off = scratchI32(groups + 1);
  for (let g = 0; g <= groups; g++) off[g] = g * G;
  return hqqGroups(data, off, groups, bits, params, round, codes, deq, scales, zeros);
}

/**
 * Channel axis: gathers each (head, token block, channel) group into a contiguous scratch buffer in group order,
 * runs `hqqGroups`, and scatters codes and dequantized values back to `[heads, tokens, headDim]`.
 */
export function hqqChannel(
  data: Float32Array,
  heads: number,
  tokens: number,
  D: number,
  G: number,
  bits: number,
  params: HqqParams,
  round: (x: number) => number,
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): number {
  const n = heads * tokens * D;
  const tgs = Math.ceil(tokens / G);
  const groups = heads * tgs * D;
  const w = scratchF32(0, n);
  const dq = scratchF32(1, n);
  const cq = scratchU8(n);
  const off = scratchI32(groups + 1);
  let k = 0;
  let g = 0;
  let sum = 0;
  for (let h = 0; h < heads; h++) {
    for (let tg = 0; tg < tgs; tg++) {
      const t0 = tg * G;
      const len = t0 + G <= tokens ? G : tokens - t0;
      const rowBase = (h * tokens + t0) * D;
      for (let d = 0; d < D; d++) {
        off[g++] = k;
        for (let r = 0, i = rowBase + d; r < len; r++, i += D) {
          const x = data[i];
          sum += x;
          w[k++] = x;
        }
      }
    }
  }
  off[g] = k;
  if (sum * 0 !== 0) {
    const bad = findNonFinite(data, 0, n);
    throw nonFiniteError(bad, data[bad]);
  }
  const it = hqqGroups(w, off, groups, bits, params, round, cq, dq, scales, zeros);
  k = 0;
  for (let h = 0; h < heads; h++) {
    for (let tg = 0; tg < tgs; tg++) {
      const t0 = tg * G;
      const len = t0 + G <= tokens ? G : tokens - t0;
      const rowBase = (h * tokens + t0) * D;
      for (let d = 0; d < D; d++) {
        for (let r = 0, i = rowBase + d; r < len; r++, i += D, k++) {
          codes[i] = cq[k];
          deq[i] = dq[k];
        }
      }
    }
  }
  return it;
}
