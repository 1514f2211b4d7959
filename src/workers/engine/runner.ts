/**
 * The one module that talks to transformers.js: load a tokenizer + causal LM, and run a raw
 * forward step with an explicit past cache. Environment-agnostic (the same code runs in the
 * worker and in Node tests); the caller configures `env` paths before `loadRunner`.
 *
 * Feeding the past: transformers.js's `decoder_forward` pulls `past_key_values` out of the
 * inputs and `Object.assign`s its entries into the ONNX feeds (`addPastKeyValues`), so we pass a
 * `DynamicCache` of `past_key_values.{i}.key/value` Tensors built from our own Float32Arrays, plus
 * explicit `attention_mask` (ones, past + new) and `position_ids` (past … past + new − 1).
 */
import { AutoConfig, AutoModelForCausalLM, AutoTokenizer, DynamicCache, Tensor, env } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { floatToHalf, halfBitsToFloat32, kvFromDims, type KVTensor } from '../../lib/model/kv';
import type { ModelInfo, ProgressMessage } from '../../lib/model/protocol';
import { getModelEntry, type ModelId } from '../../lib/model/catalogue';
import {
  MANIFEST_FILE,
  createVerifyingFetch,
  describeFailures,
  evictAll,
  isManifest,
  pruneCache,
  type ModelManifest,
} from '../../lib/model/integrity';
import { CancelledError, ModelError } from './errors';
import { evictFromSwRuntimeCache } from '../../lib/model/sw-cache';

export interface ForwardInput {
  /** Tokens to run, at positions `pastLength … pastLength + n − 1`. */
  inputIds: readonly number[];
  /** Per-layer past K/V (`[kvHeads, pastLength, headDim]`), or null for an empty cache. */
  past: { keys: KVTensor[]; values: KVTensor[] } | null;
}

export interface ForwardOutput {
  /** `[n, vocab]` row-major. */
  logits: Float32Array;
  n: number;
  /** Presents per layer: past followed by the new tokens, `[kvHeads, pastLength + n, headDim]`. */
  keys: KVTensor[];
  values: KVTensor[];
  /** Post-RoPE queries of the new tokens per layer, `[heads, n, headDim]`; null if not exported. */
  queries: KVTensor[] | null;
}

/** What session logic needs from a model: tokenizer, dimensions, a forward step. */
export interface ModelRunner {
  readonly info: ModelInfo;
  /** Token ids as the model expects them (special tokens such as BOS included). */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Each id decoded on its own, for display. */
  tokenStrings(ids: readonly number[]): string[];
  /** End-of-sequence ids from the generation config. */
  readonly eosTokenIds: readonly number[];
  forward(input: ForwardInput): Promise<ForwardOutput>;
  /**
   * Several sequences in one batched forward (same token count and past length each): one pass
   * over the weights instead of one per sequence, so the side-by-side generation's two streams
   * cost little more than one. Optional: callers fall back to `forward` per sequence.
   */
  forwardBatch?(inputs: readonly ForwardInput[]): Promise<ForwardOutput[]>;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  model: ModelId;
  /** Allow a Hub model to download; ignored for local models. */
  allowRemote?: boolean;
  onProgress?: (p: Omit<ProgressMessage, 'type' | 'id'>) => void;
  /** Cancels the load: every download of it is aborted and the load rejects with `CancelledError`. */
  signal?: AbortSignal;
}

interface LooseConfig {
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_dim?: number;
  hidden_size?: number;
  vocab_size?: number;
  max_position_embeddings?: number;
  eos_token_id?: number | number[];
}

interface LooseSession {
  inputNames: string[];
  outputNames: string[];
  inputMetadata?: { name: string; type?: string; shape?: unknown[] }[];
}

function requireDim(value: number | undefined, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`the model's config.json has no valid "${name}"`);
  }
  return value;
}

/** Load tokenizer and model. `env.allowRemoteModels` is set per call from the registry entry. */
export async function loadRunner(options: LoadOptions): Promise<ModelRunner> {
  const entry = getModelEntry(options.model);
  env.allowLocalModels = true;
  env.allowRemoteModels = entry.source === 'hub' && options.allowRemote === true;
  const signal = options.signal;
  const cancelled = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  cancelled();
  // In a browser (the worker) every file comes through `fetch`; there the downloads are verified
  // against the build's manifest and abortable. In Node (tests, scripts) local files are read from disk.
  const modelUrl = entry.source === 'local' ? localModelUrl(entry.repo) : null;
  const cache = modelUrl ? await openTransformersCache() : null;
  const manifest = modelUrl ? await fetchManifest(modelUrl, cache, signal) : null;
  cancelled();
  if (cache && manifest && modelUrl) await pruneCache(cache, manifest, modelUrl).catch(() => []);
  const previousFetch = env.fetch;
  const fetcher = createVerifyingFetch({ modelUrl: modelUrl ?? 'http://invalid/', manifest, signal });
  if (modelUrl || signal) env.fetch = fetcher;
  try {
    try {
      return await loadOnce(entry, options);
    } catch (err) {
      cancelled();
      const failed = describeFailures(fetcher.failures);
      if (failed?.kind === 'aborted') throw new CancelledError();
      if (failed) {
        throw new ModelError(
          'model-load-failed',
          failed.message,
          failed.action,
          fetcher.failures.map((f) => `${f.url}: ${f.kind}: ${f.detail}`).join('\n'),
        );
      }
      // Every download was intact (or came from Cache Storage), yet loading failed: a cached copy
      // written before verification existed, or an ONNX Runtime file, may be at fault. Drop them all
      // and load once more from the network; a second failure is reported as is.
      const wasm = (env.backends.onnx as { wasm?: { wasmPaths?: unknown } }).wasm?.wasmPaths;
      const extra =
        wasm && typeof wasm === 'object' ? Object.values(wasm as Record<string, string>).filter((u) => typeof u === 'string') : [];
      const removed = cache && modelUrl ? await evictAll(cache, manifest, modelUrl, extra).catch(() => []) : [];
      // The service worker keeps its own copy of the ORT files (src/lib/model/sw-cache.ts).
      const swStorage = typeof caches === 'undefined' ? undefined : caches;
      removed.push(...(await evictFromSwRuntimeCache(swStorage, extra).catch(() => [])));
      if (!removed.length) throw err;
      return await loadOnce(entry, options);
    }
  } catch (err) {
    if (signal?.aborted) throw new CancelledError();
    const failed = describeFailures(fetcher.failures);
    if (failed && !(err instanceof ModelError) && !(err instanceof CancelledError)) {
      throw new ModelError('model-load-failed', failed.message, failed.action, String((err as Error)?.message ?? err));
    }
    throw err;
  } finally {
    env.fetch = previousFetch;
  }
}

/** One attempt: config, tokenizer, ONNX session. */
async function loadOnce(entry: ReturnType<typeof getModelEntry>, options: LoadOptions): Promise<ModelRunner> {
  const progress_callback = (p: { status: string; file?: string; loaded?: number; total?: number }) => {
    if (!options.onProgress) return;
    if (p.status === 'progress' || p.status === 'download' || p.status === 'initiate') {
      options.onProgress({ phase: 'download', loaded: p.loaded, total: p.total, detail: p.file });
    } else if (p.status === 'done' || p.status === 'ready') {
      options.onProgress({ phase: 'initialize', detail: p.file });
    }
  };
  // The config first: a missing model then fails with transformers.js's clear "file was not found"
  // rather than a TypeError from the tokenizer loader.
  const config = await AutoConfig.from_pretrained(entry.repo, { progress_callback });
  const tokenizer = await AutoTokenizer.from_pretrained(entry.repo, { progress_callback });
  // With a progress callback, transformers.js 4.3 first GETs every model file for its size
  // (get_file_metadata), which for a local file downloads the whole ONNX graph twice. Local
  // models therefore load without it and report coarse progress; Hub models use Range requests.
  if (entry.source === 'local') options.onProgress?.({ phase: 'download', loaded: 0, total: entry.approxBytes, detail: 'onnx' });
  if (options.signal?.aborted) throw new CancelledError();
  const model = await AutoModelForCausalLM.from_pretrained(entry.repo, {
    config,
    dtype: entry.dtype,
    ...(entry.source === 'hub' ? { progress_callback } : {}),
  });
  if (options.signal?.aborted) {
    await model.dispose().catch(() => undefined);
    throw new CancelledError();
  }
  if (entry.source === 'local') options.onProgress?.({ phase: 'initialize', detail: 'onnx' });
  return createRunner(entry.id, tokenizer, model, entry.exportsQueries);
}

/** The model folder as an absolute http(s) URL, or null outside a browser (Node reads files from disk). */
function localModelUrl(repo: string): string | null {
  const here = (globalThis as { location?: { href?: string } }).location?.href;
  if (!here || !/^https?:/.test(here)) return null;
  return new URL(`${repo}/`, new URL(env.localModelPath, here)).href;
}

/**
 * The build's manifest (scripts/model-manifest.mjs), revalidated on every load so a redeploy is
 * seen, and kept in Cache Storage for offline loads (when `navigator.onLine` is false the network is
 * not tried). Without any (a build without the script) the files are loaded unverified, as before.
 */
async function fetchManifest(modelUrl: string, cache: Cache | null, signal?: AbortSignal): Promise<ModelManifest | null> {
  const url = new URL(MANIFEST_FILE, modelUrl).href;
  const offline = (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
  if (!offline) {
    try {
      const res = await fetch(url, { cache: 'no-cache', signal });
      if (res.ok) {
        const text = await res.text();
        const json: unknown = JSON.parse(text);
        if (isManifest(json)) {
          await cache?.put(url, new Response(text, { headers: { 'content-type': 'application/json' } })).catch(() => undefined);
          return json;
        }
      }
    } catch {
      // Fall back to the kept copy.
    }
  }
  try {
    const kept: unknown = await (await cache?.match(url))?.json();
    return isManifest(kept) ? kept : null;
  } catch {
    return null;
  }
}

/** transformers.js 4.3.2's Cache Storage (`caches.open(env.cacheKey)`, src/utils/cache.js `getCache`). */
async function openTransformersCache(): Promise<Cache | null> {
  if (typeof caches === 'undefined' || !env.useBrowserCache) return null;
  try {
    return await caches.open(env.cacheKey);
  } catch {
    return null; // e.g. a sandboxed frame that refuses Cache Storage
  }
}

function createRunner(id: ModelId, tokenizer: PreTrainedTokenizer, model: PreTrainedModel, registryQueries: boolean): ModelRunner {
  const cfg = model.config as unknown as LooseConfig;
  const layers = requireDim(cfg.num_hidden_layers, 'num_hidden_layers');
  const heads = requireDim(cfg.num_attention_heads, 'num_attention_heads');
  const kvHeads = cfg.num_key_value_heads ?? heads;
  const hidden = cfg.hidden_size ?? 0;
  const headDim = cfg.head_dim ?? requireDim(hidden / heads, 'hidden_size');
  const vocab = requireDim(cfg.vocab_size, 'vocab_size');
  const maxPositions = cfg.max_position_embeddings ?? 2048;

  const session = (model as unknown as { sessions: Record<string, LooseSession> }).sessions.model;
  if (!session) throw new Error('the model has no decoder session');
  const exportsQueries = registryQueries && session.outputNames.includes('queries.0');
  const kvType = session.inputMetadata?.find((m) => m.name === 'past_key_values.0.key')?.type ?? 'float32';

  const genCfg = (model as unknown as { generation_config?: LooseConfig | null }).generation_config;
  const eosRaw = genCfg?.eos_token_id ?? cfg.eos_token_id;
  const eosTokenIds = eosRaw === undefined ? [] : Array.isArray(eosRaw) ? eosRaw : [eosRaw];

  const info: ModelInfo = { model: id, layers, heads, kvHeads, headDim, vocab, maxPositions, exportsQueries, dtype: kvType };

  /** A `[batch, heads/batch, tokens, headDim]` feed; `t.heads` counts all rows when batch > 1. */
  const toTensor = (t: KVTensor, batch = 1): Tensor => {
    const dims = [batch, t.heads / batch, t.tokens, t.headDim];
    if (kvType === 'float16') {
      const bits = new Uint16Array(t.data.length);
      for (let i = 0; i < bits.length; i++) bits[i] = floatToHalf(t.data[i]);
      return new Tensor('float16', bits, dims);
    }
    return new Tensor('float32', t.data, dims);
  };

  /** One ONNX run over `rows` sequences stacked on the batch axis; outputs split back per row. */
  const forwardRows = async (rows: readonly ForwardInput[]): Promise<ForwardOutput[]> => {
    const B = rows.length;
    const n = rows[0]?.inputIds.length ?? 0;
    if (n === 0) throw new RangeError('forward needs at least one token');
    const pastLength = rows[0].past ? rows[0].past.keys[0].tokens : 0;
    for (const r of rows) {
      if (r.inputIds.length !== n || (r.past ? r.past.keys[0].tokens : 0) !== pastLength) {
        throw new RangeError('batched sequences need the same token count and past length');
      }
    }
    const total = pastLength + n;
    const ids = new BigInt64Array(B * n);
    const positions = new BigInt64Array(B * n);
    rows.forEach((r, b) => r.inputIds.forEach((v, i) => ((ids[b * n + i] = BigInt(v)), (positions[b * n + i] = BigInt(pastLength + i)))));
    const feeds: Record<string, unknown> = {
      input_ids: new Tensor('int64', ids, [B, n]),
      attention_mask: new Tensor('int64', new BigInt64Array(B * total).fill(1n), [B, total]),
      position_ids: new Tensor('int64', positions, [B, n]),
    };
    if (pastLength > 0) {
      const entries: Record<string, Tensor> = {};
      const stack = (pick: (r: ForwardInput) => KVTensor): Tensor => {
        const first = pick(rows[0]);
        if (B === 1) return toTensor(first);
        const data = new Float32Array(B * first.data.length);
        rows.forEach((r, b) => data.set(pick(r).data, b * first.data.length));
        return toTensor({ data, heads: first.heads * B, tokens: first.tokens, headDim: first.headDim }, B);
      };
      for (let i = 0; i < layers; i++) {
        entries[`past_key_values.${i}.key`] = stack((r) => r.past!.keys[i]);
        entries[`past_key_values.${i}.value`] = stack((r) => r.past!.values[i]);
      }
      feeds.past_key_values = new DynamicCache(entries);
    }
    const out = (await (model as unknown as (f: unknown) => Promise<Record<string, Tensor>>)(feeds)) as Record<string, Tensor>;
    /** Row `b` of a `[B, heads, tokens, headDim]` output as a KVTensor. */
    const readKV = (name: string, b: number): KVTensor => {
      const t = out[name];
      if (!t) throw new Error(`the model did not return "${name}"`);
      const [, heads, tokens, headDim] = t.dims;
      const per = heads * tokens * headDim;
      const data = t.data as Float32Array | Uint16Array;
      return kvFromDims(B === 1 ? data : data.subarray(b * per, (b + 1) * per), [1, heads, tokens, headDim]);
    };
    const raw = out.logits.data as unknown;
    const allLogits =
      raw instanceof Float32Array ? raw : raw instanceof Uint16Array ? halfBitsToFloat32(raw) : Float32Array.from(raw as ArrayLike<number>);
    const perLogits = allLogits.length / B;
    return rows.map((_, b) => ({
      logits: B === 1 ? allLogits : allLogits.subarray(b * perLogits, (b + 1) * perLogits),
      n,
      keys: Array.from({ length: layers }, (_, i) => readKV(`present.${i}.key`, b)),
      values: Array.from({ length: layers }, (_, i) => readKV(`present.${i}.value`, b)),
      queries: exportsQueries ? Array.from({ length: layers }, (_, i) => readKV(`queries.${i}`, b)) : null,
    }));
  };

  return {
    info,
    eosTokenIds,
    encode: (text) => tokenizer.encode(text),
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: true }),
    tokenStrings: (ids) => ids.map((t) => tokenizer.decode([t], { skip_special_tokens: false })),
    async forward(input) {
      return (await forwardRows([input]))[0];
    },
    forwardBatch: (inputs) => forwardRows(inputs),
    async dispose() {
      await model.dispose();
    },
  };
}

/**
 * Serve models from `localModelPath` only (`<path>/<model id>/…`); remote downloads stay off until
 * a request asks for a Hub model. Used by the worker (a root-relative path such as `/models/`; a
 * full `http://` URL would make transformers.js 4.3 skip its local-file check) and by Node scripts
 * and tests (a folder, e.g. `public/models/`).
 */
export function configureLocalModels(localModelPath: string): void {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = localModelPath.endsWith('/') ? localModelPath : `${localModelPath}/`;
}
