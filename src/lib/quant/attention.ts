/**
 * How much a quantized cache changes attention: softmax(q·kᵀ/√d) with the reference keys vs the reconstructed ones,
 * and the attention outputs Σ p·v vs Σ p̂·v̂. Grouped-query attention maps query head h to kv head
 * ⌊h / (queryHeads / kvHeads)⌋ (transformers `repeat_kv`). With `causal`, the i-th of the `qTokens` queries sits at
 * key position `tokens − qTokens + i` and sees keys 0 … that position (the queries are the LAST qTokens positions,
 * as in a decode step). Softmax is computed stably (max subtracted) in float64, KL from log-probabilities so it is
 * finite even when a probability underflows.
 */
import { logSoftmaxInto } from './softmax';
import { checkPositiveInteger, optionError } from './errors';
import { validateTensor } from './grouping';
import type { KVTensor } from './types';

export const defaults = { causal: true };

export type AttentionImpactOptions = { kvHeads?: number; queryHeads?: number; causal?: boolean };

export type AttentionImpact = {
  /** Mean over query heads and query tokens of KL(p_ref ‖ p_hat) in nats. */
  kl: number;
  /** Mean total-variation distance ½·Σ|p_ref − p_hat|. */
  tv: number;
  /** ‖O − Ô‖ / ‖O‖ over all query heads and tokens (0 when both are zero). */
  outputRelError: number;
  perHead: { kl: Float64Array; tv: Float64Array; outputRelError: Float64Array };
  /** For a single query token: per query head, the reference and reconstructed attention probabilities. */
  probsRef: Float64Array[] | null;
  probsHat: Float64Array[] | null;
};

function dataOf(x: KVTensor | Float32Array, like: KVTensor, name: string): Float32Array {
  if (x instanceof Float32Array) {
    if (x.length !== like.data.length) throw optionError(`${name}.length`, x.length, `${like.data.length} (same shape as the reference)`);
    return x;
  }
  validateTensor(x, name);
  if (x.heads !== like.heads || x.tokens !== like.tokens || x.headDim !== like.headDim) {
    throw optionError(`${name} shape`, [x.heads, x.tokens, x.headDim], `[${like.heads}, ${like.tokens}, ${like.headDim}]`);
  }
  return x.data;
}

export function attentionImpact(
  q: KVTensor,
  kRef: KVTensor,
  kHat: KVTensor | Float32Array,
  vRef: KVTensor,
  vHat: KVTensor | Float32Array,
  opts: AttentionImpactOptions = {},
): AttentionImpact {
  validateTensor(q, 'q');
  validateTensor(kRef, 'kRef');
  validateTensor(vRef, 'vRef');
  const kvHeads = checkPositiveInteger('kvHeads', opts.kvHeads ?? kRef.heads);
  const queryHeads = checkPositiveInteger('queryHeads', opts.queryHeads ?? q.heads);
  const causal = opts.causal ?? defaults.causal;
  if (typeof causal !== 'boolean') throw optionError('causal', causal, 'true or false');
  if (q.heads !== queryHeads) throw optionError('queryHeads', queryHeads, `q.heads (${q.heads})`);
  if (kRef.heads !== kvHeads) throw optionError('kvHeads', kvHeads, `kRef.heads (${kRef.heads})`);
  if (queryHeads % kvHeads !== 0) throw optionError('queryHeads', queryHeads, `a multiple of kvHeads (${kvHeads})`);
  const D = kRef.headDim;
  if (q.headDim !== D) throw optionError('q.headDim', q.headDim, `kRef.headDim (${D})`);
  if (vRef.heads !== kvHeads || vRef.tokens !== kRef.tokens || vRef.headDim !== D) {
    throw optionError('vRef shape', [vRef.heads, vRef.tokens, vRef.headDim], `[${kvHeads}, ${kRef.tokens}, ${D}] like kRef`);
  }
  const T = kRef.tokens;
  const nq = q.tokens;
  if (causal && nq > T) throw optionError('q.tokens', nq, `at most kRef.tokens (${T}) when causal`);
  const kh = dataOf(kHat, kRef, 'kHat');
  const vh = dataOf(vHat, vRef, 'vHat');
  const kr = kRef.data;
  const vr = vRef.data;
  const group = queryHeads / kvHeads;
  const inv = 1 / Math.sqrt(D);
  const sR = new Float64Array(T);
  const sH = new Float64Array(T);
  const lR = new Float64Array(T);
  const lH = new Float64Array(T);
  const oR = new Float64Array(D);
  const oH = new Float64Array(D);
  const perKl = new Float64Array(queryHeads);
  const perTv = new Float64Array(queryHeads);
  const perOut = new Float64Array(queryHeads);
  const probsRef: Float64Array[] | null = nq === 1 ? [] : null;
  const probsHat: Float64Array[] | null = nq === 1 ? [] : null;
  let num = 0;
  let den = 0;
  for (let h = 0; h < queryHeads; h++) {
    const kvh = Math.floor(h / group);
    let hNum = 0;
    let hDen = 0;
    for (let i = 0; i < nq; i++) {
      const len = causal ? T - nq + i + 1 : T;
      const qBase = (h * nq + i) * D;
      for (let j = 0; j < len; j++) {
        const kBase = (kvh * T + j) * D;
        let a = 0;
        let b = 0;
        for (let d = 0; d < D; d++) {
          const qd = q.data[qBase + d];
          a += qd * kr[kBase + d];
          b += qd * kh[kBase + d];
        }
        sR[j] = a * inv;
        sH[j] = b * inv;
      }
      logSoftmaxInto(sR, len, lR);
      logSoftmaxInto(sH, len, lH);
      let kl = 0;
      let tv = 0;
      oR.fill(0);
      oH.fill(0);
      for (let j = 0; j < len; j++) {
        const p = Math.exp(lR[j]);
        const ph = Math.exp(lH[j]);
        kl += p * (lR[j] - lH[j]);
        tv += Math.abs(p - ph);
        const vBase = (kvh * T + j) * D;
        for (let d = 0; d < D; d++) {
          oR[d] += p * vr[vBase + d];
          oH[d] += ph * vh[vBase + d];
        }
      }
      perKl[h] += kl > 0 ? kl : 0; // KL ≥ 0; clamp float rounding below zero
      perTv[h] += tv / 2;
      for (let d = 0; d < D; d++) {
        const e = oR[d] - oH[d];
        hNum += e * e;
        hDen += oR[d] * oR[d];
      }
      if (probsRef !== null && probsHat !== null) {
        const pr = new Float64Array(len);
        const pq = new Float64Array(len);
        for (let j = 0; j < len; j++) {
          pr[j] = Math.exp(lR[j]);
          pq[j] = Math.exp(lH[j]);
        }
        probsRef.push(pr);
        probsHat.push(pq);
      }
    }
    perKl[h] /= nq;
    perTv[h] /= nq;
    perOut[h] = hDen > 0 ? Math.sqrt(hNum / hDen) : hNum === 0 ? 0 : Infinity;
    num += hNum;
    den += hDen;
  }
  let kl = 0;
  let tv = 0;
  for (let h = 0; h < queryHeads; h++) {
    kl += perKl[h];
    tv += perTv[h];
  }
  return {
    kl: kl / queryHeads,
    tv: tv / queryHeads,
    outputRelError: den > 0 ? Math.sqrt(num / den) : num === 0 ? 0 : Infinity,
    perHead: { kl: perKl, tv: perTv, outputRelError: perOut },
    probsRef,
    probsHat,
  };
}
