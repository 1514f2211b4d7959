/**
 * Next-token distributions: log-softmax, KL divergence, arg-max, Transformers'
 * `RepetitionPenaltyLogitsProcessor`, and seeded top-k sampling. Pure functions, no DOM.
 */

/** Natural-log softmax of `logits / temperature`, in float64 for stable sums. */
export function logSoftmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[i] / temperature;
    out[i] = v;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(out[i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] -= lse;
  return out;
}

/** KL(p ‖ q) in nats from two log-probability vectors. */
export function klDivergence(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const lp = logP[i];
    if (lp === -Infinity) continue;
    kl += Math.exp(lp) * (lp - logQ[i]);
  }
  return Math.max(0, kl);
}

/** Index of the largest value (first on ties). */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Transformers' `RepetitionPenaltyLogitsProcessor`: for each distinct token already in `context`,
 * a positive logit is divided by `penalty` and a negative one multiplied by it. Returns a copy.
 */
export function applyRepetitionPenalty(logits: ArrayLike<number>, context: readonly number[], penalty: number): Float32Array {
  const out = Float32Array.from(logits);
  if (penalty === 1) return out;
  for (const t of new Set(context)) {
    if (t < 0 || t >= out.length) continue;
    const v = out[t];
    out[t] = v > 0 ? v / penalty : v * penalty;
  }
  return out;
}

/** mulberry32: a small seeded PRNG returning uniforms in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draw a token from softmax(logits / temperature) restricted to the `topK` most likely tokens
 * (0 = all), using one uniform `u` in [0, 1). Ties in rank are broken by token id, so the
 * result depends only on the logits and `u`.
 */
export function sampleTopK(logits: ArrayLike<number>, temperature: number, topK: number, u: number): number {
  const logp = logSoftmax(logits, temperature);
  const ids = Array.from({ length: logp.length }, (_, i) => i);
  ids.sort((a, b) => logp[b] - logp[a] || a - b);
  const k = topK > 0 ? Math.min(topK, ids.length) : ids.length;
  let total = 0;
  for (let i = 0; i < k; i++) total += Math.exp(logp[ids[i]]);
  let acc = 0;
  const target = u * total;
  for (let i = 0; i < k; i++) {
    acc += Math.exp(logp[ids[i]]);
    if (acc > target) return ids[i];
  }
  return ids[k - 1];
}
