/**
 * Published architecture values of the models the memory calculator knows
 * (from each model's config.json: num_hidden_layers, num_key_value_heads,
 * head_dim = hidden_size / num_attention_heads) and parameter counts from the model cards.
 */
export const MEMORY_PRESETS = [
  { id: 'llama-2-7b', label: 'Llama-2-7B', layers: 32, kvHeads: 32, headDim: 128, params: 6.74e9 },
  { id: 'llama-3-8b', label: 'Llama-3-8B', layers: 32, kvHeads: 8, headDim: 128, params: 8.03e9 },
  { id: 'llama-3.1-70b', label: 'Llama-3.1-70B', layers: 80, kvHeads: 8, headDim: 128, params: 70.6e9 },
  { id: 'mistral-7b', label: 'Mistral-7B', layers: 32, kvHeads: 8, headDim: 128, params: 7.24e9 },
  { id: 'qwen2.5-7b', label: 'Qwen2.5-7B', layers: 28, kvHeads: 4, headDim: 128, params: 7.62e9 },
  { id: 'smollm2-135m', label: 'SmolLM2-135M', layers: 30, kvHeads: 3, headDim: 64, params: 0.135e9 },
  { id: 'kvlab-16m', label: 'KV Cache Lab 16M (this site)', layers: 8, kvHeads: 2, headDim: 64, params: 15.7e6 },
] as const;

export type MemoryPreset = (typeof MEMORY_PRESETS)[number];
export const MEMORY_MODEL_IDS = [...MEMORY_PRESETS.map((p) => p.id), 'custom'] as const;
