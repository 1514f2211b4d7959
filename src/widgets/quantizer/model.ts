/**
 * Quantization plumbing of <kv-quantizer> (no DOM, shared by the element and its
 * worker): configs from the state, re-quantization into reusable buffers, and the
 * metrics of a head, a layer and the whole cache. Every number comes from src/lib/quant.
 */
import {
  allocateFakeQuantOutput,
  engineFormatInfo,
  fakeQuantizeInto,
  hadamardRotate,
  kvCacheBytes,
  quantizeFormat,
  reconstructionMetrics,
  type EngineFormat,
  type FakeQuantBuffers,
  type FormatScale,
  type KVTensor,
  type KvCacheBytes,
  type QuantConfig,
  type ReconstructionMetrics,
} from '../../lib/quant/index';
import { DEFAULT_MODEL_ID } from '../../lib/model/catalogue';
import { metaDtypeOfModel, quantConfigOf, toMemoryBits } from '../shared/quant-config';
import type { QuantizerState } from './state';

export type TensorKind = 'k' | 'v';

/** Transformers' default, used when the chosen combination is impossible. */
export const FALLBACK_CONFIG: QuantConfig = { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' };

/** The engine config for keys or values, or null for bits=16 (no quantization). */
export function configFor(
  s: Pick<QuantizerState, 'bits' | 'group' | 'kaxis' | 'vaxis' | 'method'> & { model?: string },
  kind: TensorKind,
): QuantConfig | null {
  const meta = metaDtypeOfModel(s.model ?? DEFAULT_MODEL_ID);
  return quantConfigOf({ bits: s.bits, group: s.group, axis: kind === 'k' ? s.kaxis : s.vaxis, method: s.method }, meta);
}

/**
 * A serving engine's cache format for one tensor (src/lib/quant/formats): the format, its FP8 scale mode (FP8 only)
 * and whether llama.cpp's Hadamard rotation is applied first (llama.cpp only).
 */
export interface FormatSpec {
  kind: 'format';
  format: EngineFormat;
  scale?: FormatScale;
  hadamard: boolean;
}

/** What one tensor is quantized with: a Transformers QuantConfig or an engine format. */
export type KvQuant = QuantConfig | FormatSpec;

export const isFormat = (q: KvQuant | null | undefined): q is FormatSpec => !!q && (q as FormatSpec).kind === 'format';

/**
 * The engine format of keys or values for the state, or null when the state is not an engine format for that tensor
 * (engine=transformers, or llama.cpp's f16). vLLM stores K and V in the one `--kv-cache-dtype`; its `dynamic` scale
 * is `calc_kv_scales`' amax/200 for keys and amax/100 for values (dynamic-k / dynamic-v). NVFP4 takes no FP8
 * scale: its global scale is the whole tensor's (quantizeFormat's default). llama.cpp rotates only a quantized cache.
 */
export function formatFor(
  s: Pick<QuantizerState, 'engine' | 'dtype' | 'fp8scale' | 'kfmt' | 'vfmt' | 'hadamard'>,
  kind: TensorKind,
): FormatSpec | null {
  if (s.engine === 'vllm') {
    if (s.dtype === 'nvfp4') return { kind: 'format', format: 'nvfp4', hadamard: false };
    const scale: FormatScale = s.fp8scale === 'dynamic' ? (kind === 'k' ? 'dynamic-k' : 'dynamic-v') : s.fp8scale;
    return { kind: 'format', format: s.dtype, scale, hadamard: false };
  }
  if (s.engine === 'llamacpp') {
    const t = kind === 'k' ? s.kfmt : s.vfmt;
    return t === 'f16' ? null : { kind: 'format', format: t, hadamard: s.hadamard === 'on' };
  }
  return null;
}

/** The quantization of keys or values the state selects (null = unquantized). */
export function quantFor(
  s: Parameters<typeof configFor>[0] & Pick<QuantizerState, 'engine' | 'dtype' | 'fp8scale' | 'kfmt' | 'vfmt' | 'hadamard'>,
  kind: TensorKind,
): KvQuant | null {
  return s.engine === 'transformers' ? configFor(s, kind) : formatFor(s, kind);
}

/**
 * Fake-quantizes `t` with an engine format into `out`. With `hadamard`, every token vector is rotated by H/√d first
 * and rotated back after (llama.cpp: Q, K and V are rotated before the cache store and the attention output is
 * rotated back, ggml-org/llama.cpp PR #21038, src/llama-kv-cache.cpp `attn_rot_k/v`; with headDim 64 its 64×64
 * block is the whole vector). The rotation is orthonormal, so the error measured here equals the error in the
 * rotated space where the cache lives.
 */
export function quantizeSpec(t: KVTensor, spec: FormatSpec, out: Float32Array): Float32Array {
  const scale = spec.scale ? { scale: spec.scale } : {};
  if (!spec.hadamard) return quantizeFormat(t, spec.format, { ...scale, out }).dequantized;
  const rotated = hadamardRotate(t);
  quantizeFormat(rotated, spec.format, { ...scale, out });
  return hadamardRotate({ ...t, data: out }, out).data;
}

/** Code bits of each format's elements (bits per element as stored minus the block scales/mins). */
export const FORMAT_CODE_BITS: Record<EngineFormat, number> = {
  fp8_e4m3: 8,
  fp8_e5m2: 8,
  nvfp4: 4,
  q8_0: 8,
  q4_0: 4,
  q4_1: 4,
  q5_0: 5,
  q5_1: 5,
  iq4_nl: 4,
};

/** "llama.cpp q4_0 (4.5 bits per element, blocks of 32 with one fp16 scale), Hadamard-rotated" style description. */
export function describeFormat(q: FormatSpec): string {
  const info = engineFormatInfo(q.format);
  const block =
    info.blockSize === null
      ? `one ${q.scale === 'head' ? 'scale per KV head' : q.scale === 'unit' ? 'scale of 1.0' : q.scale?.startsWith('dynamic') ? `dynamic scale (amax/${q.scale === 'dynamic-k' ? 200 : 100})` : 'scale per layer tensor'}`
      : `blocks of ${info.blockSize}`;
  return `${info.label} (${info.bitsPerElement} bits per element, ${block})${q.hadamard ? ', Hadamard-rotated' : ''}`;
}

export interface QuantOutcome {
  /** Dequantized tensor data (the original data itself for bits=16). */
  dequantized: Float32Array;
  /** The config actually used (null = unquantized). */
  used: KvQuant | null;
  /** The engine's RangeError message when the requested config was impossible. */
  error?: string;
}

/** Methods whose results are worth keeping: HQQ runs 20 optimizer passes (~5–13 ms for a layer's K and V). */
export const CACHED_METHODS: ReadonlySet<QuantConfig['method']> = new Set(['hqq']);

/** Cache key of a quantization result: which tensor (set, layer, K/V) and the exact config. */
export function resultKey(setId: number, layer: number, kind: TensorKind, cfg: QuantConfig): string {
  return `${setId}:${layer}:${kind}:${cfg.method}:${cfg.bits}:${cfg.groupSize}:${cfg.axis}:${cfg.metaDtype ?? 'fp16'}`;
}

/**
 * Least-recently-used store of quantization outcomes, bounded in bytes of dequantized data. The quantizer keeps
 * slow results here (computed on the page or prefetched by its worker), so stepping back to a setting, or to a
 * neighbour the worker has prepared, needs no re-quantization.
 */
export class ResultCache {
  #map = new Map<string, QuantOutcome>();
  #bytes = 0;
  constructor(public limitBytes = 48 * 2 ** 20) {}

  get size(): number {
    return this.#map.size;
  }
  get bytes(): number {
    return this.#bytes;
  }
  has(key: string): boolean {
    return this.#map.has(key);
  }
  get(key: string): QuantOutcome | undefined {
    const v = this.#map.get(key);
    if (v) {
      // re-insert: Map iteration order is insertion order, so the first key is the least recently used
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  put(key: string, v: QuantOutcome): void {
    const size = v.dequantized.byteLength;
    if (size > this.limitBytes) return;
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.dequantized.byteLength;
      this.#map.delete(key);
    }
    this.#map.set(key, v);
    this.#bytes += size;
    for (const [k, e] of this.#map) {
      if (this.#bytes <= this.limitBytes) break;
      this.#map.delete(k);
      this.#bytes -= e.dequantized.byteLength;
    }
  }
  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}

/**
 * Re-quantizes tensors into buffers it keeps between calls (one set per slot), so a
 * slider move allocates nothing after warm-up (fakeQuantizeInto). With a cache and a key, results of the slow
 * methods (CACHED_METHODS) are looked up first and stored (as a copy) after computing.
 */
export class Requantizer {
  #buffers = new Map<string, FakeQuantBuffers>();
  constructor(readonly cache: ResultCache | null = null) {}

  private buffersFor(slot: string, t: KVTensor, cfg: QuantConfig): FakeQuantBuffers {
    const n = t.data.length;
    let b = this.#buffers.get(slot);
    const groups = cfg.axis === 'channel' ? t.heads * Math.ceil(t.tokens / cfg.groupSize) * t.headDim : Math.floor(n / cfg.groupSize);
    if (!b || b.dequantized.length < n || b.scales.length < groups) {
      b = allocateFakeQuantOutput(t, cfg);
      this.#buffers.set(slot, b);
    }
    return b;
  }

  #formatOut = new Map<string, Float32Array>();

  run(slot: string, t: KVTensor, cfg: KvQuant | null, key?: string): QuantOutcome {
    if (!cfg) return { dequantized: t.data, used: null };
    if (isFormat(cfg)) {
      let out = this.#formatOut.get(slot);
      if (!out || out.length !== t.data.length) this.#formatOut.set(slot, (out = new Float32Array(t.data.length)));
      return { dequantized: quantizeSpec(t, cfg, out), used: cfg };
    }
    const cacheable = this.cache !== null && key !== undefined && CACHED_METHODS.has(cfg.method);
    if (cacheable) {
      const hit = this.cache!.get(key!);
      if (hit && hit.dequantized.length === t.data.length) return hit;
    }
    const r = this.compute(slot, t, cfg);
    if (cacheable) this.cache!.put(key!, { ...r, dequantized: r.dequantized.slice() });
    return r;
  }

  private compute(slot: string, t: KVTensor, cfg: QuantConfig): QuantOutcome {
    try {
      const out = fakeQuantizeInto(t, cfg, this.buffersFor(slot, t, cfg));
      return {
        dequantized: out.dequantized.length === t.data.length ? out.dequantized : out.dequantized.subarray(0, t.data.length),
        used: cfg,
      };
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const out = fakeQuantizeInto(t, FALLBACK_CONFIG, this.buffersFor(slot, t, FALLBACK_CONFIG));
      return { dequantized: out.dequantized.subarray(0, t.data.length), used: FALLBACK_CONFIG, error: err.message };
    }
  }
}

/** Relative error, SNR, max |error| and mean token cosine of a reconstruction. */
export type Metrics = ReconstructionMetrics;

/** The four metrics of a reconstruction (src/lib/quant's one-pass reconstructionMetrics). */
export function metricsOf(t: KVTensor, deq: Float32Array): Metrics {
  return reconstructionMetrics(t, deq).all;
}

/** One head's and the whole tensor's metrics in a single pass over the data (what a redraw needs). */
export function headAndLayerMetrics(t: KVTensor, deq: Float32Array, head: number): { head: Metrics; layer: Metrics } {
  const r = reconstructionMetrics(t, deq);
  return { head: r.heads[head], layer: r.all };
}

/** One head of a tensor as its own tensor (a view, no copy: heads are the outer dimension). */
export function headOf(t: KVTensor, head: number): KVTensor {
  const n = t.tokens * t.headDim;
  return { data: t.data.subarray(head * n, (head + 1) * n), heads: 1, tokens: t.tokens, headDim: t.headDim };
}

export function headMetrics(t: KVTensor, deq: Float32Array, head: number): Metrics {
  const h = headOf(t, head);
  const n = t.tokens * t.headDim;
  return metricsOf(h, deq.subarray(head * n, (head + 1) * n));
}

/**
 * Whole-cache metrics: every layer's keys and values quantized with their configs,
 * concatenated into one tensor of `2 · layers · heads` heads, then measured once.
 */
export function wholeCacheMetrics(
  keys: readonly KVTensor[],
  values: readonly KVTensor[],
  kcfg: KvQuant | null,
  vcfg: KvQuant | null,
  onProgress?: (done: number, total: number) => void,
): Metrics & { errors: string[] } {
  const parts = [...keys.map((t) => [t, kcfg] as const), ...values.map((t) => [t, vcfg] as const)];
  const total = parts.reduce((s, [t]) => s + t.data.length, 0);
  const orig = new Float32Array(total);
  const deq = new Float32Array(total);
  const q = new Requantizer();
  const errors = new Set<string>();
  let off = 0;
  let heads = 0;
  parts.forEach(([t, cfg], i) => {
    const r = q.run('x', t, cfg);
    if (r.error) errors.add(r.error);
    orig.set(t.data, off);
    deq.set(r.dequantized, off);
    off += t.data.length;
    heads += t.heads;
    onProgress?.(i + 1, parts.length);
  });
  const t0 = keys[0];
  const m = metricsOf({ data: orig, heads, tokens: t0.tokens, headDim: t0.headDim }, deq);
  return { ...m, errors: [...errors] };
}

/**
 * Memory of the cache for this model and prompt length from kvCacheBytes. Keys and
 * values may use different axes: kvCacheBytes counts both tensors with one axis, so
 * each tensor's share is half of the count with its own axis (every term is linear in
 * the K+V factor 2).
 */
export function cacheMemory(
  info: { layers: number; kvHeads: number; headDim: number },
  tokens: number,
  s: Pick<QuantizerState, 'bits' | 'group' | 'kaxis' | 'vaxis' | 'residual'>,
): KvCacheBytes {
  const common = {
    layers: info.layers,
    kvHeads: info.kvHeads,
    headDim: info.headDim,
    tokens,
    bits: toMemoryBits(s.bits),
    groupSize: s.group,
    residualTokens: s.residual,
    kvBytes: 2,
    metaBytes: 2,
  };
  const k = kvCacheBytes({ ...common, axis: s.kaxis });
  if (s.kaxis === s.vaxis) return k;
  const v = kvCacheBytes({ ...common, axis: s.vaxis });
  const half = (a: number, b: number) => (a + b) / 2;
  const payload = half(k.payload, v.payload);
  const meta = half(k.meta, v.meta);
  const residual = half(k.residual, v.residual);
  const total = payload + meta + residual;
  const quantElems = 2 * info.layers * info.kvHeads * info.headDim * k.quantizedTokens;
  return {
    ...k,
    payload,
    meta,
    residual,
    total,
    ratio: total > 0 ? k.fp16Total / total : 1,
    bitsPerElement: quantElems > 0 ? ((payload + meta) * 8) / quantElems : k.bitsPerElement,
    averageBitsPerElement: (total * 8) / (2 * info.layers * info.kvHeads * info.headDim * tokens),
    groupsPerTensor: half(k.groupsPerTensor, v.groupsPerTensor),
  };
}

/**
 * Memory of a serving engine's cache: every element of K and V at its format's bits per element as stored
 * (ENGINE_FORMATS; f16 = 16), no residual. Per-tensor or per-head FP8/NVFP4 scales (a few floats per layer) are left out.
 * `payload` is the codes, `meta` the block scales and mins.
 */
export function formatMemory(
  info: { layers: number; kvHeads: number; headDim: number },
  tokens: number,
  k: FormatSpec | null,
  v: FormatSpec | null,
): KvCacheBytes {
  const per = info.layers * info.kvHeads * info.headDim * tokens;
  let payload = 0;
  let meta = 0;
  for (const q of [k, v]) {
    if (!q) {
      payload += per * 2;
      continue;
    }
    const bpe = engineFormatInfo(q.format).bitsPerElement;
    payload += (per * FORMAT_CODE_BITS[q.format]) / 8;
    meta += (per * (bpe - FORMAT_CODE_BITS[q.format])) / 8;
  }
  const total = payload + meta;
  const fp16Total = 2 * per * 2;
  return {
    payload,
    meta,
    residual: 0,
    total,
    fp16Total,
    ratio: fp16Total / total,
    bitsPerElement: (total * 8) / (2 * per),
    averageBitsPerElement: (total * 8) / (2 * per),
    quantizedTokens: tokens,
    residualTokens: 0,
    groupsPerTensor: 0,
  };
}

/** The quantizer's slider values (group sizes as in the Group size control). */
export const QUANTIZER_GROUPS = [16, 32, 64, 128] as const;

/**
 * Settings one control step away from `s` that a reader is likely to try next, most likely first: bits ±1 step,
 * group ±1 step, the layer ±1, and the other grouping axis of the tensor. Each is a (layer, kind, config) the
 * worker can quantize ahead of time. Only for cached (slow) methods; bits=16 has nothing to quantize.
 */
export function neighbourSettings(
  s: Pick<QuantizerState, 'bits' | 'group' | 'kaxis' | 'vaxis' | 'method'> & { model?: string },
  layer: number,
  layers: number,
  bitsSteps: readonly number[],
): Array<{ layer: number; kind: TensorKind; cfg: QuantConfig }> {
  if (!CACHED_METHODS.has(s.method)) return [];
  const out: Array<{ layer: number; kind: TensorKind; cfg: QuantConfig }> = [];
  const add = (l: number, patch: Partial<typeof s>) => {
    const n = { ...s, ...patch };
    if (l < 0 || l >= layers || n.bits === 16) return;
    for (const kind of ['k', 'v'] as const) out.push({ layer: l, kind, cfg: configFor(n, kind)! });
  };
  const step = (list: readonly number[], v: number, d: number) => list[list.indexOf(v) + d];
  for (const d of [1, -1]) {
    const b = step(bitsSteps, s.bits, d);
    if (b !== undefined) add(layer, { bits: b });
  }
  for (const d of [1, -1]) {
    const g = step(QUANTIZER_GROUPS, s.group, d);
    if (g !== undefined) add(layer, { group: g });
  }
  add(layer + 1, {});
  add(layer - 1, {});
  const other = (a: string) => (a === 'token' ? 'channel' : 'token') as QuantizerState['kaxis'];
  add(layer, { kaxis: other(s.kaxis) });
  add(layer, { vaxis: other(s.vaxis) });
  // (an axis switch leaves the other tensor's config as it is: the caller drops entries it already has)
  return out;
}
