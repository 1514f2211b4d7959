/**
 * The fixed prompt and the summary the `/lab/model-check` page prints, shared with the Node export
 * that writes the expected numbers (`tests/unit/lib/model/fixtures/model-check.json`).
 */
import { meanAbs } from './kv';
import type { PrefillResult } from './protocol';

export const MODEL_CHECK_PROMPT =
  'It was a bright cold day in April, and the old house by the river was quiet. She opened the window and listened to the water.';

export interface ModelCheckSummary {
  tokens: number;
  /** `[kvHeads, tokens, headDim]` per layer. */
  keyShapes: [number, number, number][];
  meanAbsK0: number;
  forwardMs: number;
  totalMs: number;
}

export function summarizePrefill(r: PrefillResult): ModelCheckSummary {
  return {
    tokens: r.tokenIds.length,
    keyShapes: r.keys.map((k) => [k.heads, k.tokens, k.headDim]),
    meanAbsK0: meanAbs(r.keys[0]),
    forwardMs: r.timings.forwardMs,
    totalMs: r.timings.totalMs,
  };
}

/** The cache compared with the exact one by the page's second button. */
export const MODEL_CHECK_QUANT = { bits: 2, groupSize: 64, axis: 'token', method: 'minmax' } as const;
export const MODEL_CHECK_RESIDUAL = 4;
export const MODEL_CHECK_NEW_TOKENS = 12;
