/**
 * Shared data shapes of the quantization engine.
 */
import type { Axis, Bits, MetaDtype, Method } from './enums';

/**
 * One layer's keys or values of one sequence, row-major `[heads, tokens, headDim]` (transformers.js
 * `present.{i}.key` is `[batch=1, kvHeads, tokens, headDim]`).
 */
export type KVTensor = { data: Float32Array; heads: number; tokens: number; headDim: number };

/**
 * Tuning of HQQ's proximal optimizer (hqq 0.2.8.post1 `hqq/core/optimize.py` `optimize_weights_proximal_legacy`
 * `opt_params`). `kappa` is accepted and validated but unused, as upstream since hqq a566c78 (β stays constant).
 */
export type HqqParams = { lpNorm: number; beta: number; kappa: number; iters: number };

export type QuantConfig = {
  bits: Bits;
  /** Elements per group (G): consecutive elements (token), tokens (channel), strided elements (strided) or rows (flat-channel). */
  groupSize: number;
  /** Grouping layout (enums.ts `AXES`; grouping.ts documents each). */
  axis: Axis;
  method: Method;
  /**
   * Precision the scale and zero are stored in. A real cache keeps them in its own dtype (Transformers'
   * `QuantizedLayer` casts HQQ's meta to the compute dtype; quanto computes them in the tensor's dtype), so the
   * caller should pass the cache dtype: `'fp16'` for an fp16 cache, `'fp32'` for an fp32 one. With `'fp32'` the
   * stored values are exactly float32 for every method and layout (for HQQ, bit-identical to hqq's own float32
   * scale and zero up to the optimizer's float32 summation order). Defaults to `'fp16'`.
   */
  metaDtype?: MetaDtype;
  /** Optional overrides for the HQQ optimizer (ignored by other methods). */
  hqq?: Partial<HqqParams>;
};

/**
 * Output of fake quantization. Meaning of `zeros` depends on the method (all values as stored, i.e. after the
 * fp16/fp32 metadata rounding, so `dequantized` can be recomputed exactly from codes + meta):
 * - minmax: `zeros[g]` = group minimum (quanto stores `shift = -min`; we store `+min`):
 *           `x̂ = code · scale + zero`.
 * - hqq:    `zeros[g]` = HQQ's float zero-point in code units: `x̂ = (code − zero) · scale` (scale = 1/s), evaluated
 *           in float32 as `Quantizer.dequantize` (both operations rounded to float32).
 * - absmax: `zeros[g]` = 0; codes are offset by `2^(bits−1)`: `x̂ = (code − 2^(bits−1)) · scale`.
 *
 * Group order (grouping.ts `groupMembers(layout, shape, G, g)` lists group g's elements; N = heads·tokens·headDim):
 * - `token`: group g covers flat elements `[g·G, (g+1)·G)`; N/G groups.
 * - `channel`: group index `(head · tokenGroups + tokenGroup) · headDim + channel`, i.e. `[heads, tokenGroups,
 *   headDim]`, with `tokenGroups = ceil(tokens / G)` (the last token group may be partial).
 * - `strided` (HQQ axis 0): group j ∈ [0, N/G) holds flat elements `j + i·N/G`, i ∈ [0, G) — HQQ's `[1, N/G]`
 *   meta order.
 * - `flat-channel` (quanto axis −1): with R = heads·tokens rows, group `d · (R/G) + a` holds channel d of rows
 *   `[a·G, (a+1)·G)` of the flattened (head, token) index — quanto's `(1, headDim · R/G)` scale order.
 */
export type FakeQuantResult = {
  dequantized: Float32Array;
  codes: Uint8Array;
  scales: Float32Array;
  zeros: Float32Array;
  groups: number;
};

/** Caller-owned reusable buffers for `fakeQuantizeInto` (see `allocateFakeQuantOutput`). */
export type FakeQuantBuffers = Omit<FakeQuantResult, 'groups'>;
