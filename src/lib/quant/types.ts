/**
 * Shared data shapes of the quantization engine.
 */
import type { Axis, Bits, MetaDtype, Method } from './enums';

/**
 * One layer's keys or values of one sequence, row-major `[heads, tokens, headDim]` (transformers.js
 * `present.{i}.key` is `[batch=1, kvHeads, tokens, headDim]`).
 */
export type KVTensor = { data: Float32Array; heads: number; tokens: number; headDim: number };

/** Tuning of HQQ's proximal optimizer (`hqq/core/optimize.py` `optimize_weights_proximal_legacy` defaults). */
export type HqqParams = { lpNorm: number; beta: number; kappa: number; iters: number };

export type QuantConfig = {
  bits: Bits;
  /** Elements per group (token axis) or tokens per group (channel axis). */
  groupSize: number;
  axis: Axis;
  method: Method;
  /** Precision the scale and zero are stored in; defaults to `'fp16'` like Transformers' cache. */
  metaDtype?: MetaDtype;
  /** Optional overrides for the HQQ optimizer (ignored by other methods). */
  hqq?: Partial<HqqParams>;
};

/**
 * Output of fake quantization. Meaning of `zeros` depends on the method (all values as stored, i.e. after the
 * fp16/fp32 metadata rounding, so `dequantized` can be recomputed exactly from codes + meta):
 * - minmax: `zeros[g]` = group minimum (quanto stores `shift = -min`; we store `+min`):
 *           `x̂ = code · scale + zero`.
 * - hqq:    `zeros[g]` = HQQ's float zero-point in code units: `x̂ = (code − zero) · scale` (scale = 1/s).
 * - absmax: `zeros[g]` = 0; codes are offset by `2^(bits−1)`: `x̂ = (code − 2^(bits−1)) · scale`.
 *
 * Group order: token axis — group g covers flat elements `[g·G, (g+1)·G)`. Channel axis — group index
 * `(head · tokenGroups + tokenGroup) · headDim + channel`, i.e. `[heads, tokenGroups, headDim]`, with
 * `tokenGroups = ceil(tokens / G)` (the last token group may be partial).
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
