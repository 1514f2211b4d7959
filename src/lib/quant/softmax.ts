/**
 * Log-softmax, the one implementation in the project (attention impact here, next-token
 * distributions in `src/lib/model/sampling.ts`). Float64, max subtracted for stability.
 */

/** Log-softmax of `s[0..n)` into `out[0..n)` (`out` may be `s`). */
export function logSoftmaxInto(s: ArrayLike<number>, n: number, out: Float64Array): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < n; j++) if (s[j] > m) m = s[j];
  let z = 0;
  for (let j = 0; j < n; j++) z += Math.exp(s[j] - m);
  const lse = m + Math.log(z);
  for (let j = 0; j < n; j++) out[j] = s[j] - lse;
  return out;
}
