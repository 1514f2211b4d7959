/**
 * Error metrics between a tensor and its reconstruction, accumulated in float64.
 * (The "relative error" figures in measured.md are ‖x − x̂‖₂ / ‖x‖₂ over the whole tensor.)
 */
import { optionError } from './errors';
import { validateTensor } from './grouping';
import type { KVTensor } from './types';

type Arr = ArrayLike<number>;

function checkSameLength(x: Arr, xHat: Arr): number {
  if (x === null || xHat === null || typeof x !== 'object' || typeof xHat !== 'object') {
    throw optionError('x', x, 'two array-likes of numbers');
  }
  if (x.length !== xHat.length) throw optionError('xHat.length', xHat.length, `the length of x (${x.length})`);
  return x.length;
}

/** ‖x − x̂‖₂ / ‖x‖₂; 0 when both are zero, Infinity when only x is zero. */
export function relativeError(x: Arr, xHat: Arr): number {
  const n = checkSameLength(x, xHat);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i];
    const d = a - xHat[i];
    num += d * d;
    den += a * a;
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}

/**
 * Σ(x − x̂)² and Σx² in float64: relativeError of a tensor split in parts (e.g. one per layer) is
 * `relativeErrorOfSums` of the added sums, without concatenating the parts.
 */
export function squaredErrorSums(x: Arr, xHat: Arr): { error: number; signal: number } {
  const n = checkSameLength(x, xHat);
  let error = 0;
  let signal = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i];
    const d = a - xHat[i];
    error += d * d;
    signal += a * a;
  }
  return { error, signal };
}

/** ‖x − x̂‖ / ‖x‖ from squaredErrorSums (same conventions as relativeError). */
export function relativeErrorOfSums(s: { error: number; signal: number }): number {
  if (s.signal === 0) return s.error === 0 ? 0 : Infinity;
  return Math.sqrt(s.error / s.signal);
}

/** Mean squared error; 0 for empty inputs. */
export function mse(x: Arr, xHat: Arr): number {
  const n = checkSameLength(x, xHat);
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - xHat[i];
    s += d * d;
  }
  return s / n;
}

/** Signal-to-noise ratio 10·log10(Σx² / Σ(x − x̂)²) in dB; Infinity for an exact reconstruction. */
export function snrDb(x: Arr, xHat: Arr): number {
  const n = checkSameLength(x, xHat);
  let sig = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i];
    const d = a - xHat[i];
    sig += a * a;
    noise += d * d;
  }
  if (noise === 0) return Infinity;
  if (sig === 0) return -Infinity;
  return 10 * Math.log10(sig / noise);
}

/** max |x − x̂|. */
export function maxAbsError(x: Arr, xHat: Arr): number {
  const n = checkSameLength(x, xHat);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(x[i] - xHat[i]);
    if (d > m) m = d;
  }
  return m;
}

/**
 * Mean over heads × tokens of the cosine similarity between each token's head vector (length headDim) in `t` and
 * in `tHat`. A pair of zero vectors counts as 1, a zero vector against a non-zero one as 0.
 */
export function meanTokenCosine(t: KVTensor, tHat: KVTensor | Float32Array): number {
  validateTensor(t, 't');
  const hat = tHat instanceof Float32Array ? tHat : tHat.data;
  if (!(tHat instanceof Float32Array)) {
    validateTensor(tHat, 'tHat');
    if (tHat.heads !== t.heads || tHat.tokens !== t.tokens || tHat.headDim !== t.headDim) {
      throw optionError('tHat shape', [tHat.heads, tHat.tokens, tHat.headDim], `the shape of t [${t.heads}, ${t.tokens}, ${t.headDim}]`);
    }
  }
  checkSameLength(t.data, hat);
  const D = t.headDim;
  const rows = t.heads * t.tokens;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = r * D, end = i + D; i < end; i++) {
      const a = t.data[i];
      const b = hat[i];
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    if (na === 0 && nb === 0) sum += 1;
    else if (na > 0 && nb > 0) sum += dot / Math.sqrt(na * nb);
  }
  return sum / rows;
}

/** The four reconstruction metrics the widgets show, for one head or a whole tensor. */
export interface ReconstructionMetrics {
  relativeError: number;
  snrDb: number;
  maxAbsError: number;
  /** Mean per-token cosine similarity (meanTokenCosine). */
  cosine: number;
}

function finish(sig: number, noise: number, maxAbs: number, cosSum: number, rows: number): ReconstructionMetrics {
  return {
    relativeError: sig === 0 ? (noise === 0 ? 0 : Infinity) : Math.sqrt(noise / sig),
    snrDb: noise === 0 ? Infinity : sig === 0 ? -Infinity : 10 * Math.log10(sig / noise),
    maxAbsError: maxAbs,
    cosine: rows === 0 ? NaN : cosSum / rows,
  };
}

/**
 * relativeError, snrDb, maxAbsError and meanTokenCosine of every head of `t` and of the whole tensor in ONE pass
 * (the separate functions would read the data eight times for a widget's head + layer figures). Same definitions
 * and float64 accumulation; only the summation order of the whole-tensor sums differs (per head, then added), so
 * results agree with the separate functions to rounding (tests: ≤ 1e-12 relative).
 */
export function reconstructionMetrics(t: KVTensor, xHat: Float32Array): { heads: ReconstructionMetrics[]; all: ReconstructionMetrics } {
  validateTensor(t, 't');
  checkSameLength(t.data, xHat);
  const x = t.data;
  const D = t.headDim;
  const heads: ReconstructionMetrics[] = [];
  let sigAll = 0;
  let noiseAll = 0;
  let maxAll = 0;
  let cosAll = 0;
  for (let h = 0; h < t.heads; h++) {
    let sig = 0;
    let noise = 0;
    let maxAbs = 0;
    let cosSum = 0;
    for (let r = h * t.tokens, rEnd = r + t.tokens; r < rEnd; r++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let i = r * D, end = i + D; i < end; i++) {
        const a = x[i];
        const b = xHat[i];
        const d = a - b;
        noise += d * d;
        const ad = d < 0 ? -d : d;
        if (ad > maxAbs) maxAbs = ad;
        dot += a * b;
        na += a * a;
        nb += b * b;
      }
      sig += na;
      if (na === 0 && nb === 0) cosSum += 1;
      else if (na > 0 && nb > 0) cosSum += dot / Math.sqrt(na * nb);
    }
    heads.push(finish(sig, noise, maxAbs, cosSum, t.tokens));
    sigAll += sig;
    noiseAll += noise;
    if (maxAbs > maxAll) maxAll = maxAbs;
    cosAll += cosSum;
  }
  return { heads, all: finish(sigAll, noiseAll, maxAll, cosAll, t.heads * t.tokens) };
}
