/**
 * Every widget, in one place: its name (the embed route /embed/<name>), custom
 * element tag, title, and the chapter it belongs to. Adding a widget takes one
 * entry here and one loader in loader.ts.
 */
export const WIDGET_NAMES = ['kv-explorer', 'quantizer', 'residual', 'tradeoff', 'memory', 'attention', 'generation', 'perplexity'] as const;
export type WidgetName = (typeof WIDGET_NAMES)[number];

export interface WidgetInfo {
  name: WidgetName;
  tag: `kv-${string}`;
  title: string;
  /** What the widget shows, one sentence (instructors' page, oEmbed). */
  description: string;
  /** Slug of the chapter that explains it (content/articles/<slug>.mdx). */
  chapter: string;
  /** Default iframe height in CSS pixels. */
  height: number;
}

export const WIDGETS: Readonly<Record<WidgetName, WidgetInfo>> = {
  'kv-explorer': { name: 'kv-explorer', tag: 'kv-explorer', title: 'KV explorer', description: 'Heatmaps of a layer’s real keys and values and their per-channel magnitudes.', chapter: 'keys-and-values', height: 900 },
  quantizer: { name: 'quantizer', tag: 'kv-quantizer', title: 'Quantizer playground', description: 'Quantize real keys and values: original, dequantized and error side by side, with metrics and memory.', chapter: 'keys-and-values', height: 1000 },
  residual: { name: 'residual', tag: 'kv-residual', title: 'Residual cache step-through', description: 'How Transformers’ quantized cache moves tokens from the full-precision residual into the quantized part.', chapter: 'groups-bits-residual', height: 620 },
  tradeoff: { name: 'tradeoff', tag: 'kv-tradeoff', title: 'Error–memory trade-off', description: 'Every combination of bits, group size, axis and method on the real cache, with the Pareto frontier.', chapter: 'tradeoff', height: 820 },
  memory: { name: 'memory', tag: 'kv-memory', title: 'KV-cache memory calculator', description: 'Memory of a (quantized) KV cache for real models, and how many tokens fit on a GPU.', chapter: 'kv-cache-memory', height: 780 },
  attention: { name: 'attention', tag: 'kv-attention', title: 'Attention under quantized keys', description: 'One query’s attention over past tokens with original and quantized keys and values.', chapter: 'does-the-model-notice', height: 820 },
  generation: { name: 'generation', tag: 'kv-generation', title: 'Side-by-side generation', description: 'The model continues a prompt with the full-precision and the quantized cache, side by side.', chapter: 'does-the-model-notice', height: 760 },
  perplexity: { name: 'perplexity', tag: 'kv-perplexity', title: 'Perplexity sweep', description: 'Running perplexity of a held-out passage for several cache configurations.', chapter: 'does-the-model-notice', height: 820 },
};

export function isWidgetName(s: string): s is WidgetName {
  return (WIDGET_NAMES as readonly string[]).includes(s);
}
