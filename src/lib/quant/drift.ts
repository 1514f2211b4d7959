/**
 * Re-quantization drift of Transformers' quantized cache, on real tensors.
 *
 * Transformers 5.x `QuantizedLayer.update` (src/transformers/cache_utils.py) quantizes the whole prompt at the
 * first update, and at every flush it dequantizes the stored part, appends the residual and the new token, and
 * quantizes the concatenation again (`self._quantize(torch.cat([self._dequantize(...), self.keys, key_states]))`).
 * The oldest tokens are therefore quantized once per flush. KIVI's streaming scheme quantizes each token once.
 *
 * `requantizationDrift` follows that schedule on one `[heads, tokens, headDim]` tensor: prefill `prefill` tokens,
 * then a flush every `period` tokens (Transformers flushes every max(R, 2) decode steps), and reports after each
 * flush the relative error of the first `prefill` tokens under Transformers' scheme and under a quantize-once
 * scheme (each block quantized once, on its own, with the same settings). Whether drift appears depends on the
 * layout: min-max per-token groups are nearly idempotent (a group's min and max survive dequantization), while
 * HQQ's strided axis 0 regroups the whole flattened tensor at every flush.
 */
import { fakeQuantize } from './fakeQuantize';
import { optionError } from './errors';
import type { KVTensor, QuantConfig } from './types';

export interface DriftOptions {
  /** Prompt tokens quantized at the first update (the tokens whose error is followed). */
  prefill: number;
  /** Tokens between flushes: max(R, 2) for Transformers' residual length R. */
  period: number;
  /** Flushes to simulate (bounded by the tensor's tokens: prefill + flushes · period ≤ tokens). */
  flushes: number;
}

export interface DriftPoint {
  /** 0 = after the prefill's quantization, k = after the k-th flush. */
  flush: number;
  /** Tokens quantized at this point. */
  tokens: number;
  /** ‖x − x̂‖ / ‖x‖ over the first `prefill` tokens, Transformers' re-quantizing scheme. */
  transformers: number;
  /** The same with each token quantized once (KIVI-style streaming). */
  once: number;
}

function sliceTokens(t: KVTensor, from: number, to: number): KVTensor {
  const n = to - from;
  const data = new Float32Array(t.heads * n * t.headDim);
  for (let h = 0; h < t.heads; h++)
    data.set(t.data.subarray((h * t.tokens + from) * t.headDim, (h * t.tokens + to) * t.headDim), h * n * t.headDim);
  return { data, heads: t.heads, tokens: n, headDim: t.headDim };
}

function concatTokens(a: KVTensor, b: KVTensor): KVTensor {
  const n = a.tokens + b.tokens;
  const data = new Float32Array(a.heads * n * a.headDim);
  for (let h = 0; h < a.heads; h++) {
    data.set(a.data.subarray(h * a.tokens * a.headDim, (h + 1) * a.tokens * a.headDim), h * n * a.headDim);
    data.set(b.data.subarray(h * b.tokens * b.headDim, (h + 1) * b.tokens * b.headDim), (h * n + a.tokens) * a.headDim);
  }
  return { data, heads: a.heads, tokens: n, headDim: a.headDim };
}

/** Relative error of the first `n` tokens of `hat` against `x` (both `[heads, ≥ n, headDim]`). */
function headError(x: KVTensor, hat: KVTensor, n: number): number {
  let num = 0;
  let den = 0;
  for (let h = 0; h < x.heads; h++) {
    const xo = h * x.tokens * x.headDim;
    const ho = h * hat.tokens * hat.headDim;
    for (let i = 0; i < n * x.headDim; i++) {
      const d = x.data[xo + i] - hat.data[ho + i];
      num += d * d;
      den += x.data[xo + i] * x.data[xo + i];
    }
  }
  return den > 0 ? Math.sqrt(num / den) : 0;
}

export function requantizationDrift(t: KVTensor, cfg: QuantConfig, o: DriftOptions): DriftPoint[] {
  for (const [name, v, min] of [
    ['prefill', o.prefill, 1],
    ['period', o.period, 1],
    ['flushes', o.flushes, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw optionError(name, v, `an integer ≥ ${min}`);
  }
  if (o.prefill + o.flushes * o.period > t.tokens) {
    throw optionError(
      'flushes',
      o.flushes,
      `at most ${Math.floor((t.tokens - o.prefill) / o.period)} for ${t.tokens} tokens (prefill ${o.prefill}, period ${o.period})`,
    );
  }
  const q = (x: KVTensor): KVTensor => ({ ...x, data: fakeQuantize(x, cfg).dequantized });
  const first = q(sliceTokens(t, 0, o.prefill));
  let stored = first;
  const out: DriftPoint[] = [
    { flush: 0, tokens: o.prefill, transformers: headError(t, stored, o.prefill), once: headError(t, first, o.prefill) },
  ];
  for (let k = 1; k <= o.flushes; k++) {
    const end = o.prefill + k * o.period;
    // dequant(stored) ‖ the residual and the new token (exact) → quantized again, all of it.
    stored = q(concatTokens(stored, sliceTokens(t, stored.tokens, end)));
    out.push({ flush: k, tokens: end, transformers: headError(t, stored, o.prefill), once: out[0].once });
  }
  return out;
}
