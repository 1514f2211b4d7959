/**
 * Symmetric absmax quantization (the classic int8 "absmax" scheme, cf. QuaRot's symmetric KV option
 * `--k_asym False`): per group `scale = max|x| / (2^(b−1) − 1)`, `q = clamp(round(x / scale), −(2^(b−1) − 1),
 * 2^(b−1) − 1)` (round-half-to-even), `x̂ = q · scale`. Needs b ≥ 2 (one bit is the sign).
 *
 * Codes are stored offset by `2^(b−1)` so they fit in uint8: `code = q + 2^(b−1)` ∈ [1, 2^b − 1]
 * (code 0 is never used: the grid is restricted-symmetric). `zeros` are stored as 0. An all-zero group has
 * scale 0 and reconstructs to 0. Layouts as in minmax.ts (`strided` / `flat-channel` via gather + the token kernel).
 */
import { ROUND_MAGIC } from './fp16';
import { BIG, F32_MAX, findNonFinite, nonFiniteError } from './minmax';
import { scratchF64 } from './scratch';

export function absmaxToken(
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
  const qmax = (1 << (bits - 1)) - 1;
  const off = 1 << (bits - 1);
  const M = ROUND_MAGIC;
  for (let g = 0, base = 0; base < n; g++, base += G) {
    const end = base + G;
    let am = 0;
    for (let i = base; i < end; i++) {
      const x = data[i];
      const a = x < 0 ? -x : x;
      am = a > am ? a : am;
    }
    if (am * 0 !== 0) {
      const k = findNonFinite(data, base, end);
      throw nonFiniteError(k, data[k]);
    }
    const scale = round(am / qmax);
    const inv = scale > 0 ? 1 / scale : 0;
    scales[g] = scale;
    zeros[g] = 0;
    let acc = 0;
    if (am * inv < qmax + 0.5 && am < BIG) {
      // |x|·inv ≤ max|x|·inv: no element needs clamping (branch-free loop).
      for (let i = base; i < end; i++) {
        const q = data[i] * inv + M - M;
        acc += q;
        codes[i] = q + off;
        deq[i] = q * scale;
      }
    } else {
      for (let i = base; i < end; i++) {
        let v = data[i] * inv;
        v = v < -qmax ? -qmax : v > qmax ? qmax : v;
        const q = v + M - M;
        acc += q;
        codes[i] = q + off;
        const y = q * scale;
        deq[i] = y > F32_MAX ? F32_MAX : y < -F32_MAX ? -F32_MAX : y;
      }
    }
    if (acc !== acc) {
      const k = findNonFinite(data, base, end);
      throw nonFiniteError(k, data[k]);
    }
  }
}

export function absmaxChannel(
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
  const qmax = (1 << (bits - 1)) - 1;
  const off = 1 << (bits - 1);
  const M = ROUND_MAGIC;
  const am = scratchF64(0, D);
  const sc = scratchF64(1, D);
  const inv = scratchF64(2, D);
  const tgs = Math.ceil(tokens / G);
  for (let h = 0; h < heads; h++) {
    for (let tg = 0; tg < tgs; tg++) {
      const t0 = tg * G;
      const len = t0 + G <= tokens ? G : tokens - t0;
      const rowBase = (h * tokens + t0) * D;
      const end = rowBase + len * D;
      const gBase = (h * tgs + tg) * D;
      am.fill(0, 0, D);
      for (let r = rowBase; r < end; r += D) {
        for (let d = 0; d < D; d++) {
          const x = data[r + d];
          const a = x < 0 ? -x : x;
          const m = am[d];
          am[d] = a > m ? a : m;
        }
      }
      let inRange = true;
      for (let d = 0; d < D; d++) {
        if (am[d] * 0 !== 0) {
          const k = findNonFinite(data, rowBase, end);
          throw nonFiniteError(k, data[k]);
        }
        const scale = round(am[d] / qmax);
        scales[gBase + d] = scale;
        zeros[gBase + d] = 0;
        sc[d] = scale;
        const iv = scale > 0 ? 1 / scale : 0;
        inv[d] = iv;
        if (!(am[d] * iv < qmax + 0.5 && am[d] < BIG)) inRange = false;
      }
      let acc = 0;
      if (inRange) {
        for (let r = rowBase; r < end; r += D) {
          for (let d = 0; d < D; d++) {
            const i = r + d;
            const q = data[i] * inv[d] + M - M;
            acc += q;
            codes[i] = q + off;
            deq[i] = q * sc[d];
          }
        }
      } else {
        for (let r = rowBase; r < end; r += D) {
          for (let d = 0; d < D; d++) {
            const i = r + d;
            let v = data[i] * inv[d];
            v = v < -qmax ? -qmax : v > qmax ? qmax : v;
            const q = v + M - M;
            acc += q;
            codes[i] = q + off;
            const y = q * sc[d];
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
