/**
 * LongBench scores from the Hugging Face post "Unlocking Longer Generation with Key-Value Cache
 * Quantization" (Turganbay, 2024), higher is better. null = not reported ("NA" in the post).
 * Columns: KIVI's own fp16 baseline and int2, Transformers' fp16 cache, quanto int4 and int2.
 */
export const LONGBENCH_COLUMNS = ['KIVI fp16', 'KIVI int2', 'Transformers fp16', 'Quanto int4', 'Quanto int2'] as const;

export const LONGBENCH_ROWS: ReadonlyArray<{ dataset: string; scores: ReadonlyArray<number | null> }> = [
  { dataset: 'TREC', scores: [63.0, 67.5, 63.0, 63.0, 55.0] },
  { dataset: 'SAMSum', scores: [41.12, 42.18, 41.12, 41.3, 14.04] },
  { dataset: 'TriviaQA', scores: [null, null, 84.28, 84.76, 63.64] },
  { dataset: 'HotPotQA', scores: [null, null, 30.08, 30.04, 17.3] },
  { dataset: 'Passage retrieval (en)', scores: [null, null, 8.5, 9.5, 4.82] },
];
