/**
 * Next-token distributions: log-softmax, KL divergence, arg-max, Transformers'
 * `RepetitionPenaltyLogitsProcessor`, and seeded top-k sampling. Pure functions, no DOM.
 */
import { logSoftmaxInto } from '../quant/softmax';

/** Natural-log softmax of `logits / temperature`, in float64 for stable sums. */
export function logSoftmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = logits[i] / temperature;
  return logSoftmaxInto(out, n, out);
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

/**
 * Quantile `p` (0–1) of `sorted` (ascending) with linear interpolation between order statistics,
 * numpy's default (`np.quantile(..., method='linear')`): position `p · (n − 1)`.
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(1, Math.max(0, p)) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Mean, median, 90th and 99th percentile and maximum of per-position values (e.g. KL in nats). */
export function distributionOf(values: ArrayLike<number>): {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
} {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    count: n,
    mean: n ? sum / n : NaN,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    max: n ? sorted[n - 1] : NaN,
  };
}

/**
 * A KL divergence (nats) or another small non-negative quantity as text: plain decimals from 0.01
 * up (three decimals below 0.1), scientific notation below 0.01 (`3.1e-4`), never SI prefixes
 * ("310µ" is what d3's default `s` format would print).
 */
export function formatNats(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 0.01 && a < 1e4) return x.toFixed(a < 0.1 ? digits + 1 : digits);
  const [m, e] = x.toExponential(digits - 1).split('e');
  return `${m}e${Number(e)}`;
}
