/**
 * Messages between the page (`client.ts`) and the model worker (`src/workers/model.worker.ts`).
 *
 * Every message is a discriminated union member on `type` and carries the `id` of the request it
 * belongs to, so one worker can serve several widgets. Lifecycle of one request:
 *
 *   request ──► progress* ──► (ready)? ──► token* ──► result | error | cancelled
 *
 * Exactly one terminal message (`result`, `error` or `cancelled`) answers every request, including
 * `cancel` itself (a `result` of kind `cancel`). Tensors travel as `KVTensor`-shaped plain objects whose
 * `Float32Array` buffers are transferred, not copied.
 */
import type { KVTensor, QuantConfig } from './kv';
import type { ModelId } from './catalogue';

export const REQUEST_TYPES = ['load', 'prefill', 'generate', 'score', 'cancel'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** How the cache under test is stored. `exact`: the unquantized fp32 cache. */
export type CacheConfig =
  | { kind: 'exact'; label?: string }
  | {
      kind: 'quantized';
      label?: string;
      /** Quantizer for keys. */
      key: QuantConfig;
      /** Quantizer for values. */
      value: QuantConfig;
      /** Transformers' `residual_length`: tokens kept in full precision before a flush (≥ 0). */
      residualLength: number;
      /**
       * Run it as Transformers' `QuantizedCache(backend=…)`: where that backend raises, the result
       * is a `failure` instead of a number. Omitted for schemes that are not a Transformers
       * setting (KIVI's per-channel keys).
       */
      backend?: CacheBackend;
    };

/** Transformers' quantized-cache backends. */
export type CacheBackend = 'quanto' | 'hqq';

/** Where and why Transformers cannot run a cache configuration. */
export interface CacheFailure {
  backend: CacheBackend;
  /** For a reader: what fails and why. */
  message: string;
  /** The exception Transformers (or the backend library) raises. */
  raises: string;
  /** Tokens in the cache when it fails; null = when the cache is created. */
  atTokens: number | null;
}

/** Distribution of a per-position quantity (nats for KL): mean and quantiles. */
export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Greedy (with a repetition penalty) or seeded sampling. */
export type DecodingOptions =
  | {
      strategy: 'greedy';
      /** HF `repetition_penalty` over prompt + generated tokens; 1 disables. Default 1.3. */
      repetitionPenalty?: number;
    }
  | {
      strategy: 'sample';
      /** Seed of the PRNG; both streams draw the same uniforms. */
      seed: number;
      /** Softmax temperature (> 0). Default 0.8. */
      temperature?: number;
      /** Sample among the k most likely tokens; 0 = all. Default 40. */
      topK?: number;
      repetitionPenalty?: number;
    };

// ---------------------------------------------------------------------------------------- requests

export interface LoadRequest {
  type: 'load';
  id: string;
  model: ModelId;
  /** Must be true to let a Hub model download from huggingface.co; local models ignore it. */
  allowRemote?: boolean;
}

export interface PrefillRequest {
  type: 'prefill';
  id: string;
  /** Defaults to the loaded model, else the bundled one. */
  model?: ModelId;
  allowRemote?: boolean;
  prompt: string;
}

export interface GenerateRequest {
  type: 'generate';
  id: string;
  model?: ModelId;
  allowRemote?: boolean;
  prompt: string;
  /** The quantized stream's cache; the other stream always uses the exact cache. */
  key: QuantConfig;
  value: QuantConfig;
  residualLength: number;
  /** As `CacheConfig.backend`: fail where Transformers' backend would. */
  backend?: CacheBackend;
  /** 1–512. */
  maxNewTokens: number;
  decoding?: DecodingOptions;
}

export interface ScoreRequest {
  type: 'score';
  id: string;
  model?: ModelId;
  allowRemote?: boolean;
  text: string;
  /** Caches to score, e.g. `[{ kind: 'exact' }, { kind: 'quantized', ... }]`. */
  configs: CacheConfig[];
  /** Tokens prefilled exactly before scoring starts (≥ 1). Default 1: every later token is scored. */
  prefillTokens?: number;
}

export interface CancelRequest {
  type: 'cancel';
  id: string;
  /** Id of the request to stop. */
  target: string;
}

export type ModelRequest = LoadRequest | PrefillRequest | GenerateRequest | ScoreRequest | CancelRequest;

// ---------------------------------------------------------------------------------------- payloads

/** Dimensions read from the model's `config.json`. */
export interface ModelInfo {
  model: ModelId;
  layers: number;
  /** Query heads. */
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  /** `max_position_embeddings`: prompts are truncated to this many tokens. */
  maxPositions: number;
  exportsQueries: boolean;
  dtype: string;
}

/** Set when a prompt was longer than the model's context: the END of the prompt is kept. */
export interface TruncationNotice {
  originalTokens: number;
  keptTokens: number;
  kept: 'end';
  message: string;
}

export interface PrefillResult {
  kind: 'prefill';
  info: ModelInfo;
  tokenIds: number[];
  /** Each token decoded on its own, e.g. `" rock"`. */
  tokens: string[];
  /** Per layer, `[kvHeads, tokens, headDim]`, post-RoPE. */
  keys: KVTensor[];
  values: KVTensor[];
  /** Per layer, `[heads, tokens, headDim]`, post-RoPE; null when the model does not export them. */
  queries: KVTensor[] | null;
  /** Logits predicting the token after the prompt, length `vocab`. */
  lastLogits: Float32Array;
  timings: { tokenizeMs: number; forwardMs: number; totalMs: number };
  truncated: TruncationNotice | null;
}

export interface GeneratedStream {
  tokenIds: number[];
  text: string;
}

export interface GenerateResult {
  kind: 'generate';
  promptTokens: number;
  exact: GeneratedStream;
  quantized: GeneratedStream;
  /** Mean over steps of KL(exact ‖ quantized) of the free-running streams' next-token distributions (nats). */
  meanKl: number;
  /** Share of free-running steps whose two distributions have the same arg-max. */
  top1Agreement: number;
  /**
   * The quantized cache teacher-forced over the exact continuation (prompt + the exact stream's
   * tokens), compared with the exact run position by position: what it would predict in the
   * same context, however early the free-running streams part.
   */
  teacherForced: {
    /** KL(exact ‖ quantized) per step (nats, temperature 1, no repetition penalty). */
    kl: Float32Array;
    /** 1 where both arg-maxes agree. */
    top1: Uint8Array;
    top1Agreement: number;
    klDistribution: Distribution;
  };
  /** First step (0-based) where the two streams picked different tokens; null if never. */
  firstDivergence: number | null;
  /** Flushes of the quantized cache's residual (per layer; identical across layers). */
  flushes: number;
  /** `tokensPerSecond`: decode steps per second; each step runs both streams (two forwards). */
  timings: { prefillMs: number; decodeMs: number; tokensPerSecond: number };
  truncated: TruncationNotice | null;
}

export interface ScoreConfigResult {
  config: CacheConfig;
  label: string;
  /** Set when Transformers cannot run this configuration; then perplexity and meanNll are NaN and the arrays empty. */
  failure: CacheFailure | null;
  /** exp(mean negative log-likelihood) over the scored tokens. */
  perplexity: number;
  meanNll: number;
  /** Natural-log probability of each scored token (tokens `prefillTokens…n-1`). */
  logProbs: Float32Array;
  /** Mean KL(exact ‖ this) over scored positions, when an exact config was also scored; else null. */
  klToExact: number | null;
  /** Share of positions whose arg-max matches the exact cache's; null as above. */
  top1AgreementToExact: number | null;
  /** KL(exact ‖ this) per scored position (teacher-forced: both read the same text); null as `klToExact`. */
  klPerPosition: Float32Array | null;
  /** 1 where this cache's arg-max equals the exact cache's, per scored position; null without an exact run. */
  top1PerPosition: Uint8Array | null;
  klDistribution: Distribution | null;
  ms: number;
}

export interface ScoreResult {
  kind: 'score';
  tokenIds: number[];
  tokens: string[];
  prefillTokens: number;
  results: ScoreConfigResult[];
  truncated: TruncationNotice | null;
}

export interface LoadResult {
  kind: 'load';
  info: ModelInfo;
  loadMs: number;
}

export interface CancelResult {
  kind: 'cancel';
  target: string;
  /** False when no running request had that id (already finished or never sent). */
  wasRunning: boolean;
}

export type ModelResult = LoadResult | PrefillResult | GenerateResult | ScoreResult | CancelResult;

/** The result kind answering each request type. */
export type ResultFor<T extends RequestType> = Extract<ModelResult, { kind: T }>;

// ---------------------------------------------------------------------------------------- responses

export const PROGRESS_PHASES = ['download', 'initialize', 'tokenize', 'prefill', 'generate', 'score'] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

export interface ProgressMessage {
  type: 'progress';
  id: string;
  phase: ProgressPhase;
  /** Bytes (download) or steps (prefill/generate/score) done, where known. */
  loaded?: number;
  total?: number;
  /** File being downloaded, or the label of the config being scored. */
  detail?: string;
}

export interface ReadyMessage {
  type: 'ready';
  id: string;
  info: ModelInfo;
}

export interface TokenMessage {
  type: 'token';
  id: string;
  step: number;
  exact: { id: number; text: string };
  quantized: { id: number; text: string };
  /** KL(exact ‖ quantized) of the two next-token distributions at this step (nats, temperature 1, no penalty). */
  kl: number;
  top1Agree: boolean;
  /** True while both streams have produced the same tokens, so `kl` measures the cache alone. */
  sameContext: boolean;
}

export interface ResultMessage {
  type: 'result';
  id: string;
  result: ModelResult;
}

export const ERROR_CODES = [
  'invalid-request',
  'empty-input',
  'model-missing',
  'model-load-failed',
  'remote-disabled',
  'busy',
  'runtime',
  'worker-unavailable',
  /** Transformers' quantized cache raises for this configuration (see `CacheFailure`). */
  'transformers-unsupported',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorMessage {
  type: 'error';
  id: string;
  code: ErrorCode;
  /** What went wrong, for a reader. */
  message: string;
  /** What to do next, for a reader. */
  action: string;
  /** The original exception text, for the console. */
  detail?: string;
}

export interface CancelledMessage {
  type: 'cancelled';
  id: string;
}

export type ModelResponse = ProgressMessage | ReadyMessage | TokenMessage | ResultMessage | ErrorMessage | CancelledMessage;

/** Terminal responses: exactly one answers each request. */
export function isTerminal(msg: ModelResponse): msg is ResultMessage | ErrorMessage | CancelledMessage {
  return msg.type === 'result' || msg.type === 'error' || msg.type === 'cancelled';
}

/** Buffers of a response to transfer rather than copy. */
export function transferablesOf(msg: ModelResponse): ArrayBuffer[] {
  if (msg.type !== 'result') return [];
  const out = new Set<ArrayBuffer>();
  const add = (a: { buffer: ArrayBufferLike } | null | undefined) => {
    if (a && a.buffer instanceof ArrayBuffer && a.buffer.byteLength > 0) out.add(a.buffer);
  };
  const r = msg.result;
  if (r.kind === 'prefill') {
    for (const t of [...r.keys, ...r.values, ...(r.queries ?? [])]) add(t.data);
    add(r.lastLogits);
  } else if (r.kind === 'score') {
    for (const c of r.results) {
      add(c.logProbs);
      add(c.klPerPosition);
      add(c.top1PerPosition);
    }
  } else if (r.kind === 'generate') {
    add(r.teacherForced.kl);
    add(r.teacherForced.top1);
  }
  return [...out];
}
