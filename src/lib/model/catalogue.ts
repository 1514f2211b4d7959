/**
 * Every model KV Cache Lab knows, in one table: the models the worker can run (the bundled
 * `kvlab-16m` and opt-in Hub models) and the published architectures the memory calculator,
 * the residual counter and the config generator size caches with. Widgets derive their model
 * choices from here (`RUNNABLE_MODEL_IDS`, `ARCHITECTURE_MODEL_IDS`), so a URL that names a
 * model a widget accepts is a model the worker can load.
 *
 * Architecture values are from each model's `config.json` on the Hub (`num_hidden_layers`,
 * `num_attention_heads`, `num_key_value_heads`, `head_dim` or `hidden_size / num_attention_heads`,
 * `sliding_window` where the model uses it); parameter counts from the model cards. Download sizes
 * are the ONNX files of the listed dtype in the `onnx-community` repositories.
 */

/** The transformers.js `dtype` values we load with (a subset of its `DATA_TYPES`). */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

export interface Architecture {
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /**
   * Sliding-window attention in some or all layers (tokens), or null. Transformers' quantized cache
   * refuses such models (see `src/lib/quant/transformers.ts`).
   */
  readonly slidingWindow: number | null;
}

/** How the worker runs a model (absent: the model is known by its architecture only). */
export interface Runtime {
  /** `local`: served from the site's `models/` folder, works offline; `hub`: downloaded from huggingface.co on request. */
  readonly source: 'local' | 'hub';
  /** What `from_pretrained` takes: a folder under `models/` (local) or an ONNX repository id on the Hub. */
  readonly repo: string;
  /** transformers.js `dtype` to load (selects the ONNX file, e.g. `q4f16` → `onnx/model_q4f16.onnx`). */
  readonly dtype: ModelDtype;
  /** Approximate download in bytes (ONNX weights of that dtype; tokenizer and config are negligible). */
  readonly approxBytes: number;
  /** Whether the ONNX graph exports post-RoPE queries as extra outputs `queries.{i}`. */
  readonly exportsQueries: boolean;
  /** One-line note shown next to the model choice. */
  readonly note: string;
}

export interface CatalogueEntry {
  /** Short id used in URLs (`?model=`), the worker protocol and precomputed files. */
  readonly id: string;
  readonly label: string;
  /** The original checkpoint on the Hub (what a Transformers snippet loads), or null for this site's own model. */
  readonly hubId: string | null;
  /** SPDX licence id of the weights, or the licence's name. */
  readonly license: string;
  /** Parameter count. */
  readonly params: number;
  readonly architecture: Architecture;
  readonly runtime?: Runtime;
}

const MB = 1_000_000;
const arch = (layers: number, heads: number, kvHeads: number, headDim: number, slidingWindow: number | null = null): Architecture => ({
  layers,
  heads,
  kvHeads,
  headDim,
  slidingWindow,
});

export const CATALOGUE = [
  {
    id: 'kvlab-16m',
    label: 'KV Lab 16M (bundled)',
    hubId: null,
    license: 'MIT',
    params: 15.7e6,
    architecture: arch(8, 6, 2, 64),
    runtime: {
      source: 'local',
      repo: 'kvlab-16m',
      dtype: 'fp32',
      approxBytes: 32 * MB,
      exportsQueries: true,
      note: 'A 15.7M-parameter Llama trained for this site (about 32 MB); loads offline, exports queries.',
    },
  },
  {
    id: 'smollm2-135m',
    label: 'SmolLM2 135M Instruct',
    hubId: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    license: 'Apache-2.0',
    params: 0.135e9,
    architecture: arch(30, 9, 3, 64),
    runtime: {
      source: 'hub',
      repo: 'onnx-community/SmolLM2-135M-Instruct',
      dtype: 'q4f16',
      approxBytes: 134 * MB,
      exportsQueries: false,
      note: 'Downloads about 134 MB from huggingface.co; its KV cache arrives as float16.',
    },
  },
  {
    id: 'qwen2.5-0.5b',
    label: 'Qwen2.5 0.5B Instruct',
    hubId: 'Qwen/Qwen2.5-0.5B-Instruct',
    license: 'Apache-2.0',
    params: 0.494e9,
    architecture: arch(24, 14, 2, 64),
    runtime: {
      source: 'hub',
      repo: 'onnx-community/Qwen2.5-0.5B-Instruct',
      dtype: 'q4f16',
      approxBytes: 483 * MB,
      exportsQueries: false,
      note: 'Downloads about 483 MB from huggingface.co; slow on phones.',
    },
  },
  {
    id: 'llama-2-7b',
    label: 'Llama-2-7B',
    hubId: 'meta-llama/Llama-2-7b-chat-hf',
    license: 'Llama 2 Community License',
    params: 6.74e9,
    architecture: arch(32, 32, 32, 128),
  },
  {
    id: 'llama-3-8b',
    label: 'Llama-3-8B',
    hubId: 'meta-llama/Meta-Llama-3-8B-Instruct',
    license: 'Llama 3 Community License',
    params: 8.03e9,
    architecture: arch(32, 32, 8, 128),
  },
  {
    id: 'llama-3.1-70b',
    label: 'Llama-3.1-70B',
    hubId: 'meta-llama/Llama-3.1-70B-Instruct',
    license: 'Llama 3.1 Community License',
    params: 70.6e9,
    architecture: arch(80, 64, 8, 128),
  },
  {
    id: 'mistral-7b',
    label: 'Mistral-7B',
    hubId: 'mistralai/Mistral-7B-Instruct-v0.3',
    license: 'Apache-2.0',
    params: 7.24e9,
    architecture: arch(32, 32, 8, 128),
  },
  {
    id: 'qwen2.5-7b',
    label: 'Qwen2.5-7B',
    hubId: 'Qwen/Qwen2.5-7B-Instruct',
    license: 'Apache-2.0',
    params: 7.62e9,
    architecture: arch(28, 28, 4, 128),
  },
] as const satisfies readonly CatalogueEntry[];

export type CatalogueId = (typeof CATALOGUE)[number]['id'];
type Runnable = Extract<(typeof CATALOGUE)[number], { runtime: Runtime }>;

/** Models the worker can run, default first. */
export const MODEL_IDS = CATALOGUE.filter((e): e is Runnable => 'runtime' in e).map((e) => e.id) as readonly Runnable['id'][];
export type ModelId = Runnable['id'];

/** The model every widget uses unless the reader picks another. */
export const DEFAULT_MODEL_ID: ModelId = 'kvlab-16m';

/** A runnable model's facts, flattened (what the worker and the model pickers read). */
export interface ModelEntry extends Runtime {
  readonly id: ModelId;
  readonly label: string;
  readonly license: string;
  readonly architecture: Architecture;
}

export const MODEL_REGISTRY: Readonly<Record<ModelId, ModelEntry>> = Object.freeze(
  Object.fromEntries(
    CATALOGUE.filter((e): e is Runnable => 'runtime' in e).map((e) => [
      e.id,
      Object.freeze({ ...e.runtime, id: e.id, label: e.label, license: e.license, architecture: e.architecture }),
    ]),
  ) as Record<ModelId, ModelEntry>,
);

export function isModelId(value: unknown): value is ModelId {
  return typeof value === 'string' && (MODEL_IDS as readonly string[]).includes(value);
}

/** The runnable model `id`; throws a `RangeError` listing the known ids otherwise. */
export function getModelEntry(id: string): ModelEntry {
  if (!isModelId(id)) throw new RangeError(`invalid model: ${JSON.stringify(id)}; allowed: ${MODEL_IDS.join(', ')}`);
  return MODEL_REGISTRY[id];
}

/** Every catalogue id (all have an architecture), in table order. */
export const ARCHITECTURE_MODEL_IDS = CATALOGUE.map((e) => e.id) as readonly CatalogueId[];

/** The catalogue entry for `id`, or undefined. */
export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return (CATALOGUE as readonly CatalogueEntry[]).find((e) => e.id === id);
}
