/** Pure data for the growth sketch: KV-cache bytes of Llama-2-7B against context length. */
export const LLAMA2_7B = { layers: 32, kvHeads: 32, headDim: 128 } as const;

/** Bytes per token of a cache with `bits` per element (no scales/zeros: a sketch). */
export function bytesPerToken(bits: number, cfg = LLAMA2_7B): number {
  return (2 * cfg.layers * cfg.kvHeads * cfg.headDim * bits) / 8;
}

export interface GrowthPoint {
  tokens: number;
  gigabytes: number;
}

export function growthSeries(bits: number, maxTokens = 32_000, step = 1_000): GrowthPoint[] {
  const out: GrowthPoint[] = [];
  for (let t = 0; t <= maxTokens; t += step) out.push({ tokens: t, gigabytes: (bytesPerToken(bits) * t) / 1e9 });
  return out;
}
