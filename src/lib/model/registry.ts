/**
 * Models KV Cache Lab can run, in one frozen table (after transformers.js `DATA_TYPES`
 * and `SUPPORTED_TASKS`): adding a model takes one entry here.
 *
 * Only the bundled `kvlab-16m` is served by the site itself and works offline; the Hub
 * models are opt-in downloads (sizes from the Hub file listings, kv-quant-facts §4d).
 * Layer, head and head-dimension counts are NOT stored here: they are read from each
 * model's `config.json` at load time.
 */

/** Every model id the lab knows, default first. */
export const MODEL_IDS = [
  'kvlab-16m',
  'onnx-community/SmolLM2-135M-Instruct',
  'onnx-community/Qwen2.5-0.5B-Instruct',
] as const;

export type ModelId = (typeof MODEL_IDS)[number];

/** The transformers.js `dtype` values we load with (a subset of its `DATA_TYPES`). */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

export interface ModelEntry {
  /** Id passed to `from_pretrained` (a folder under `models/` for local models). */
  readonly id: ModelId;
  /** Human-readable name for menus. */
  readonly label: string;
  /** `local`: served from the site's `models/` folder, works offline; `hub`: downloaded from huggingface.co. */
  readonly source: 'local' | 'hub';
  /** transformers.js `dtype` to load (selects the ONNX file, e.g. `q4f16` → `onnx/model_q4f16.onnx`). */
  readonly dtype: ModelDtype;
  /** Approximate download in bytes (ONNX weights of that dtype; tokenizer/config are negligible). */
  readonly approxBytes: number;
  /** Whether the ONNX graph exports post-RoPE queries as extra outputs `queries.{i}`. */
  readonly exportsQueries: boolean;
  /** SPDX licence id of the weights. */
  readonly license: string;
  /** One-line note shown next to the model choice. */
  readonly note: string;
}

const MB = 1_000_000;

export const MODEL_REGISTRY: Readonly<Record<ModelId, ModelEntry>> = Object.freeze({
  'kvlab-16m': Object.freeze({
    id: 'kvlab-16m',
    label: 'KV Lab 16M (bundled)',
    source: 'local',
    dtype: 'fp32',
    approxBytes: 32 * MB,
    exportsQueries: true,
    license: 'MIT',
    note: 'A 15.7M-parameter Llama trained for this site (about 32 MB); loads offline, exports queries.',
  }),
  'onnx-community/SmolLM2-135M-Instruct': Object.freeze({
    id: 'onnx-community/SmolLM2-135M-Instruct',
    label: 'SmolLM2 135M Instruct (Hub, q4f16)',
    source: 'hub',
    dtype: 'q4f16',
    approxBytes: 134 * MB,
    exportsQueries: false,
    license: 'Apache-2.0',
    note: 'Downloads about 134 MB from huggingface.co; its KV cache arrives as float16.',
  }),
  'onnx-community/Qwen2.5-0.5B-Instruct': Object.freeze({
    id: 'onnx-community/Qwen2.5-0.5B-Instruct',
    label: 'Qwen2.5 0.5B Instruct (Hub, q4f16)',
    source: 'hub',
    dtype: 'q4f16',
    approxBytes: 483 * MB,
    exportsQueries: false,
    license: 'Apache-2.0',
    note: 'Downloads about 483 MB from huggingface.co; slow on phones.',
  }),
});

/** The model every widget uses unless the reader picks another. */
export const DEFAULT_MODEL_ID: ModelId = 'kvlab-16m';

export function isModelId(value: unknown): value is ModelId {
  return typeof value === 'string' && (MODEL_IDS as readonly string[]).includes(value);
}

/** The registry entry for `id`; throws a `RangeError` listing the known ids otherwise. */
export function getModelEntry(id: string): ModelEntry {
  if (!isModelId(id)) {
    throw new RangeError(`invalid model: ${JSON.stringify(id)}; allowed: ${MODEL_IDS.join(', ')}`);
  }
  return MODEL_REGISTRY[id];
}
