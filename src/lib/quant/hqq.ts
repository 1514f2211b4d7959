/**
 * HQQ's zero-point optimizer as used by transformers' `HQQQuantizedCache`, ported from hqq 0.2.8.post1
 * (mobiusml/hqq HEAD e0b1d00): `hqq/core/quantize.py` `Quantizer.quantize` with `optimize=True`, i.e.
 * `hqq/core/optimize.py` `optimize_weights_proximal = optimize_weights_proximal_legacy` (default
 * `opt_params = {lp_norm: 0.7, beta: 1e1, kappa: 1.01, iters: 20}`), in float32 as HQQ computes on CPU.
 *
 * Per group (`Quantizer.quantize`, all float32): `denom = max − min`; inverse scale `s = (2^b − 1)/denom` (evaluated
 * by torch as `denom.reciprocal() * (2^b − 1)`, see below), replaced
 * by 1 where `|denom| ≤ 1e-4`, then clamped to ≤ 2e4; float zero (code units, not rounded) `z = −min · s`.
 * Then up to `iters` steps of `optimize_weights_proximal_legacy` (`optimize_weights_proximal_legacy_step`):
 *   W_q = clamp(round(W·s + z), 0, 2^b − 1);  W_r = (W_q − z) / s;
 *   W_e = shrink_lp_op(W − W_r) = sign(x)·relu(|x| − (1/β)·|x|^(p−1))   (x = 0 gives 0: |0|^(p−1) = ∞);
 *   z   = mean over the group of (W_q − (W − W_e)·s);
 *   err = mean |W − W_r| over the WHOLE tensor; best_error starts at +∞ (a float32 tensor):
 *         if err < best: best = err, continue; else break.
 * Since hqq commit a566c78 (May 2025, in 0.2.7) β stays constant: κ is read from `opt_params` but unused (2024
 * versions multiplied β by κ each step and started best at 1e4). The zero is updated inside the step, before the
 * check, so the loop keeps the zero computed in the breaking step (from the W_r that did not improve). Only z is
 * optimized; s stays fixed. Finally W_q = clamp(round(W·s + z)); meta `scale = 1/s`, `zero = z`, rounded to the
 * metadata dtype (fp16: as Transformers' `HQQQuantizedLayer` moves meta to the fp16 compute dtype; fp32: kept
 * exactly), and `x̂ = (W_q − zero) · scale` in float32 from the stored values (`Quantizer.dequantize`).
 *
 * Float32 the way torch does it on CPU: every elementwise op is rounded to float32 (Math.fround) in the order the
 * Python expression evaluates it; `(1/β)` is a Python float multiplied into a float32 tensor, so it is rounded to
 * float32 first. Where torch's own result is not reproducible bit for bit we pick a fixed, documented rule (both our
 * paths, this file and wasm/hqq.wat, follow it bit for bit; tests/unit/lib/quant/hqq-wasm.test.ts checks):
 * - `|x|^(p−1)`: torch's vectorised lanes call SLEEF's powf (≤ 1 ulp) with the exponent rounded to float32, its
 *   scalar tail `std::pow(float, double)`. We compute |x|^(p−1) with p − 1 as a double, in float64 by `pow64`
 *   below (relative error ~1e-15), rounded once to float32: the correctly rounded float32 power except in rare
 *   near-ties, i.e. within torch's 1 ulp.
 * - sums: a group's mean sums its elements in `groupMembers` order in float32, then divides by the count (torch's
 *   CPU `mean` = `sum(...).div_(n)`); the whole-tensor error sums the per-group float32 sums in group order in
 *   float64, divided by n and rounded to float32. Torch's reduction order (vectorised, cascaded; it depends on the
 *   CPU's vector width) differs, so the zero can differ from torch's by a few float32 ulps.
 * tests/unit/lib/quant/hqq-reference.test.ts compares with outputs of the real hqq code
 * (scripts/reference/hqq_reference.py).
 */
import { ROUND_MAGIC } from './fp16';
import { F32_MAX, nonFiniteError, findNonFinite } from './minmax';
import { scratchF32, scratchU8 } from './scratch';
import type { HqqParams } from './types';

const f = Math.fround;

// log2(m) for m ∈ [√½, √2): u = (m − 1)/(m + 1), log2 m = u · Σ_{j<8} L[j]·u^(2j), L[j] = 2/((2j + 1)·ln 2) (atanh
// series; |u| ≤ 0.1716, the first omitted term is < 4e-14 relative). 2^φ for φ ∈ [−½, ½]: Σ_{j≤10} E[j]·φ^j,
// E[j] = ln2^j/j! (Taylor; first omitted term < 3e-13). Both polynomials are evaluated in Estrin's scheme (pairs,
// then powers t², t⁴), which the SIMD kernel runs faster than Horner's; wasm/hqq.wat holds the same decimal constants
// and the same operation order.
const L0 = 2.8853900817779268;
const L1 = 0.96179669392597567;
const L2 = 0.57707801635558531;
const L3 = 0.41219858311113244;
const L4 = 0.3205988979753252;
const L5 = 0.26230818925253879;
const L6 = 0.2219530832136867;
const L7 = 0.19235933878519512;
const E1 = 0.69314718055994529;
const E2 = 0.24022650695910069;
const E3 = 0.055504108664821576;
const E4 = 0.0096181291076284769;
const E5 = 0.0013333558146428441;
const E6 = 0.00015403530393381606;
const E7 = 0.000015252733804059838;
const E8 = 0.0000013215486790144305;
const E9 = 1.0178086009239696e-7;
const E10 = 7.0549116208011209e-9;

const bitsF = new Float32Array(1);
const bitsI = new Int32Array(bitsF.buffer);
// 2^n for integer n ∈ [−256, 256], exact (powers of two by repeated doubling/halving).
const POW2 = new Float64Array(513);
POW2[256] = 1;
for (let i = 1; i <= 256; i++) {
  POW2[256 + i] = POW2[255 + i] * 2;
  POW2[256 - i] = POW2[257 - i] / 2;
}
/** Smallest normal float32; smaller bases are raised to it (with e < 0 their power only grows, see `pow64`). */
const F32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * a^e for a float32 value a ≥ 0 and −1 < e < 0, in float64 (log2 by exponent bits + atanh series, exp2 by
 * 2^n · Taylor), returned as a double (the caller rounds it to float32). a below the smallest normal float32 (0,
 * subnormals) is raised to it: the result (≥ 2^37.8 for e ≤ −0.3) still makes HQQ's shrink relu() to 0, as |0|^(p−1)
 * = ∞ does. The same operations, in the same order, run in wasm/hqq.wat (`$pow64`), so both paths agree bit for bit.
 */
export function pow64(a: number, e: number): number {
  bitsF[0] = a < F32_MIN_NORMAL ? F32_MIN_NORMAL : a;
  const b = bitsI[0];
  const k = (b - 0x3f3504f3) >> 23;
  bitsI[0] = b - (k << 23);
  const m = bitsF[0];
  const u = (m - 1) / (m + 1);
  const u2 = u * u;
  const t2 = u2 * u2;
  const lg = L0 + L1 * u2 + (L2 + L3 * u2) * t2 + (L4 + L5 * u2 + (L6 + L7 * u2) * t2) * (t2 * t2);
  const y = e * (k + u * lg);
  const n = y + ROUND_MAGIC - ROUND_MAGIC;
  const p = y - n;
  const p2 = p * p;
  const p4 = p2 * p2;
  const q = 1 + E1 * p + (E2 + E3 * p) * p2 + (E4 + E5 * p + (E6 + E7 * p) * p2) * p4 + (E8 + E9 * p + E10 * p2) * (p4 * p4);
  return q * POW2[256 + n];
}

/** Shrink threshold: rows whose |W − W_r| are all ≤ this have shrink exactly 0 (see `hqqGroups`). */
export function shrinkThreshold(invBeta: number, p: number): number {
  // |x| − c·|x|^(p−1) > 0 ⇔ |x| > c^(1/(2−p)); the margin 1e-4 is far above the float32 rounding of the test.
  return f(Math.pow(invBeta, 1 / (2 - p)) * (1 - 1e-4));
}

/**
 * HQQ on groups stored contiguously: group g is `w[off[g] .. off[g+1])` (gathered in `groupMembers` order).
 * Codes and dequantized values are written at the same positions; returns the number of optimizer steps that ran
 * (including the breaking one). `round` rounds a float32 value to the metadata dtype (fp16.ts `metaRounder`).
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
  const S = scratchF32(2, groups);
  const Z = scratchF32(3, groups);
  const n = off[groups] - off[0];
  // Initialisation (Quantizer.quantize), float32.
  for (let g = 0; g < groups; g++) {
    const a = off[g];
    const b = off[g + 1];
    let mn = w[a];
    let mx = mn;
    let bad = 0;
    for (let i = a; i < b; i++) {
      const x = w[i];
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
      bad += x - x;
    }
    if (bad !== 0 || bad !== bad) {
      const k = findNonFinite(w, a, b);
      throw nonFiniteError(k, w[k]);
    }
    const denom = f(mx - mn);
    // `max_v / denom` is Python int / tensor: torch's `__rtruediv__` = `denom.reciprocal() * max_v` (two roundings)
    let s = f(f(1 / denom) * qmax);
    if (Math.abs(denom) <= 1e-4) s = 1; // |denom| ≤ float32(1e-4) ⇔ ≤ 1e-4 for float32 denom
    if (s > 2e4) s = 2e4;
    S[g] = s;
    Z[g] = f(-mn * s);
  }
  // optimize_weights_proximal_legacy: β constant (κ unused), best starts at +∞.
  const p = params.lpNorm;
  const pm1 = p - 1;
  const invBeta = f(1 / params.beta);
  const thr = shrinkThreshold(invBeta, p);
  let best = Infinity;
  let it = 0;
  while (it < params.iters) {
    it++;
    let errSum = 0; // float64 over the per-group float32 sums
    for (let g = 0; g < groups; g++) {
      const a = off[g];
      const b = off[g + 1];
      const s = S[g];
      const z = Z[g];
      let ea = 0;
      let zacc = 0;
      for (let i = a; i < b; i++) {
        const x = w[i];
        let v = f(f(x * s) + z);
        v = v < 0 ? 0 : v > qmax ? qmax : v;
        const q = v + M - M;
        const e = f(x - f(f(q - z) / s));
        const ae = e < 0 ? -e : e;
        ea = f(ea + ae);
        let we = 0;
        if (ae > thr) {
          const u = f(ae - f(invBeta * f(pow64(ae, pm1))));
          if (u > 0) we = e < 0 ? -u : u;
        }
        zacc = f(zacc + f(q - f(f(x - we) * s)));
      }
      Z[g] = f(zacc / (b - a));
      errSum += ea;
    }
    const err = f(errSum / n);
    if (err < best) best = err;
    else break;
  }
  // Final quantization with the optimized zero; dequantize with the stored (rounded) meta in float32.
  for (let g = 0; g < groups; g++) {
    const a = off[g];
    const b = off[g + 1];
    const s = S[g];
    const z = Z[g];
    const scale = f(round(f(1 / s)));
    const zero = f(round(z));
    scales[g] = scale;
    zeros[g] = zero;
    for (let i = a; i < b; i++) {
      let v = f(f(w[i] * s) + z);
      v = v < 0 ? 0 : v > qmax ? qmax : v;
      const q = v + M - M;
      codes[i] = q;
      const y = f(f(q - zero) * scale);
      deq[i] = y > F32_MAX ? F32_MAX : y < -F32_MAX ? -F32_MAX : y;
    }
  }
  return it;
}

/**
 * HQQ on any layout: gathers the groups (`idx`/`off` from grouping.ts `gatherPlan`; identity for `token`) into a
 * contiguous scratch buffer, runs `hqqGroups`, and scatters codes and dequantized values back.
 */
export function hqqGathered(
  data: Float32Array,
  idx: Int32Array,
  off: Int32Array,
  groups: number,
  bits: number,
  params: HqqParams,
  round: (x: number) => number,
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
  identity = false,
): number {
  const n = idx.length;
  if (identity) return hqqGroups(data, off, groups, bits, params, round, codes, deq, scales, zeros);
  // Report a NaN/±Infinity by its index in `data` (hqqGroups would report the gathered position).
  let bad = 0;
  for (let i = 0; i < n; i++) bad += data[i] - data[i];
  if (bad !== 0 || bad !== bad) {
    const k = findNonFinite(data, 0, n);
    throw nonFiniteError(k, data[k]);
  }
  const w = scratchF32(0, n);
  const dq = scratchF32(1, n);
  const cq = scratchU8(n);
  for (let k = 0; k < n; k++) w[k] = data[idx[k]];
  const it = hqqGroups(w, off, groups, bits, params, round, cq, dq, scales, zeros);
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    codes[i] = cq[k];
    deq[i] = dq[k];
  }
  return it;
}
