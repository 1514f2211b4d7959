/**
 * KV-cache dumps (`scripts/kv-dump/dump_kv.py`, schema in `scripts/kv-dump/README.md`) as a TensorSet.
 *
 * Path of a dump, from a file input, a drop or `?kv=<url>`:
 *   1. a worker (`src/workers/dump.worker.ts`) reads the bytes (File or fetch), checks the safetensors
 *      header and the kvlab schema (`readKvDump` in src/lib/model/safetensors.ts), scans every tensor's raw
 *      fp16/bf16/fp32 bits for NaN/Inf, and transfers the buffer back (no copy);
 *   2. the page builds a TensorSet whose `keys[i]` / `values[i]` / `queries[i]` are lazy: a layer is widened
 *      to float32 the first time a widget reads it, then kept.
 * Files above DUMP_MAX_BYTES are refused with their metadata (read from the header alone) so the reader
 * can open a subset of layers, which the worker cuts out of the file without reading the rest.
 *
 * The pure parts (`checkDump`, `dumpTensorSet`, `subsetDump`, `openDumpCore`) run in Node for the tests.
 * Text from a file (model id, token strings) is only ever shown through textContent.
 */
import {
  parseSafetensors,
  readKvDump,
  SafetensorsError,
  type KvDump,
  type KvDumpMeta,
  type SafetensorsErrorCode,
} from '../../lib/model/safetensors';
import { halfToFloat, type KVTensor } from '../../lib/model/kv';
import type { ModelId } from '../../lib/model/catalogue';
import type { TensorSet } from './tensors';
import { spawnWorker } from '../../lib/portable-worker';

/**
 * Largest dump opened whole: 512 MiB (safetensors.ts DEFAULT_MAX_BYTES). A Llama-3-8B dump of 2,048 tokens
 * (32 layers × 8 KV heads × 128, fp16 keys, pre-RoPE keys and values, 8 queries) is ~405 MB and fits; once
 * every layer is widened to float32 (a widget's whole-cache view does that) the tab holds the file plus
 * 4/3 of it again, ~1 GB, which is what a desktop tab takes comfortably (bench/dump-open.ts measures it).
 */
export const DUMP_MAX_BYTES = 512 * 1024 * 1024;

export type DumpErrorCode = SafetensorsErrorCode | 'fetch' | 'read' | 'too-large';

export class DumpError extends Error {
  readonly code: DumpErrorCode;
  constructor(code: DumpErrorCode, message: string) {
    super(message);
    this.name = 'DumpError';
    this.code = code;
  }
}

export interface DumpLayerSummary {
  /** Layer index in the model. */
  index: number;
  attention: 'full' | 'sliding';
  window: number | null;
  /** Bytes of this layer's tensors in the file. */
  bytes: number;
}

/** What the metadata panel and the widgets show about a dump (all strings come from the file: textContent only). */
export interface DumpSummary {
  name: string;
  /** File size in bytes. */
  bytes: number;
  model: string;
  revision: string | null;
  modelType: string;
  numHiddenLayers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  dtype: string;
  sourceDtype: string;
  tokens: number;
  queries: number;
  /** Position of the first dumped query (tokens − queries). */
  queriesFrom: number;
  layers: DumpLayerSummary[];
}

const TENSOR_SUFFIXES = ['keys', 'keys_pre_rope', 'values', 'queries'] as const;

export function summarize(meta: KvDumpMeta, name: string, bytes: number, tensorBytes: (n: string) => number): DumpSummary {
  const Q = meta.queries.count;
  return {
    name,
    bytes,
    model: String(meta.model?.id ?? 'unknown model'),
    revision: meta.model?.revision ?? null,
    modelType: String(meta.model?.model_type ?? ''),
    numHiddenLayers: meta.num_hidden_layers,
    heads: meta.num_attention_heads,
    kvHeads: meta.num_key_value_heads,
    headDim: meta.head_dim,
    dtype: String(meta.dtype),
    sourceDtype: String(meta.source_dtype ?? ''),
    tokens: meta.tokens.count,
    queries: Q,
    queriesFrom: meta.tokens.count - Q,
    layers: meta.layers.map((l) => ({
      index: l.index,
      attention: l.attention,
      window: l.window,
      bytes: TENSOR_SUFFIXES.reduce((s, t) => s + tensorBytes(`layers.${l.index}.${t}`), 0),
    })),
  };
}

/** Bit masks of the exponent field: all ones = Inf or NaN (IEEE 754 binary16 / bfloat16 / binary32). */
function firstNonFinite(bytes: Uint8Array, offset: number, length: number, dtype: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    for (let i = 0; i < length / 4; i++) if ((view.getUint32(offset + 4 * i, true) & 0x7f800000) === 0x7f800000) return i;
    return -1;
  }
  const mask = dtype === 'F16' ? 0x7c00 : 0x7f80;
  const abs = bytes.byteOffset + offset;
  if (abs % 2 === 0) {
    const u = new Uint16Array(bytes.buffer, abs, length / 2);
    for (let i = 0; i < u.length; i++) if ((u[i] & mask) === mask) return i;
    return -1;
  }
  for (let i = 0; i < length / 2; i++) if ((view.getUint16(offset + 2 * i, true) & mask) === mask) return i;
  return -1;
}

/**
 * Full check of a dump held in memory: safetensors structure, kvlab schema and shapes (readKvDump), and no
 * NaN/Inf in any tensor. Throws SafetensorsError; returns the parsed dump.
 */
export function checkDump(buffer: ArrayBuffer | Uint8Array, maxBytes = DUMP_MAX_BYTES): KvDump {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const dump = readKvDump(bytes, { maxBytes });
  for (const name of dump.file.names) {
    const info = dump.file.info(name);
    const at = firstNonFinite(bytes, info.byteOffset, info.byteLength, info.dtype);
    if (at >= 0) {
      const layer = /^layers\.(\d+)\./.exec(name)?.[1];
      throw new SafetensorsError('non-finite', `tensor "${name}"${layer ? ` (layer ${layer})` : ''} holds NaN or Inf (element ${at})`);
    }
  }
  return dump;
}

let table: Float32Array | null = null;
function f16Table(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = halfToFloat(i);
  }
  return table;
}

/** Widen one tensor's bytes to float32 (F16 through a 65,536-entry table, BF16 by a 16-bit shift, F32 copied). */
export function decodeTensor(bytes: Uint8Array, offset: number, length: number, dtype: string): Float32Array {
  const abs = bytes.byteOffset + offset;
  if (dtype === 'F32') {
    if (abs % 4 === 0) return new Float32Array(bytes.buffer.slice(abs, abs + length));
    const v = new DataView(bytes.buffer, abs, length);
    return Float32Array.from({ length: length / 4 }, (_, i) => v.getFloat32(4 * i, true));
  }
  const n = length / 2;
  const src =
    abs % 2 === 0
      ? new Uint16Array(bytes.buffer, abs, n)
      : Uint16Array.from({ length: n }, (_, i) => bytes[offset + 2 * i] | (bytes[offset + 2 * i + 1] << 8));
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    const t = f16Table();
    for (let i = 0; i < n; i++) out[i] = t[src[i]];
  } else if (dtype === 'BF16') {
    // bfloat16 is the upper half of a float32 bit pattern.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = src[i] << 16;
  } else {
    throw new SafetensorsError('unsupported-dtype', `dtype ${dtype} cannot be read as floats (F16, BF16 or F32 only)`);
  }
  return out;
}

/** An array whose element i is computed on first read, then kept (structured clone and .map read through the getters). */
function lazyArray<T>(n: number, make: (i: number) => T): T[] {
  const arr = new Array<T>(n);
  for (let i = 0; i < n; i++) {
    Object.defineProperty(arr, i, {
      configurable: true,
      enumerable: true,
      get() {
        const v = make(i);
        Object.defineProperty(arr, i, { value: v, writable: true, enumerable: true, configurable: true });
        return v;
      },
    });
  }
  return arr;
}

/** A dump's TensorSet: `source: 'dump'`, layers in dump order (`dump.layers[i].index` is the model layer). */
export type DumpTensorSet = TensorSet & { source: 'dump'; dump: DumpSummary };

let dumpSeq = 0;

/**
 * TensorSet of a checked dump. `keys[i]`, `values[i]`: [kvHeads, T, headDim]; `queries[i]`: the dumped last
 * `queries.count` positions only, [heads, queries.count, headDim], with `queriesFrom` = T − count.
 * `info.layers` counts the dumped layers; `info.vocab` is 0 and `lastLogits` empty (a dump has no model).
 */
export function dumpTensorSet(buffer: ArrayBuffer | Uint8Array, name: string, maxBytes = DUMP_MAX_BYTES): DumpTensorSet {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  // Structure and shapes again (cheap: header only); the NaN/Inf scan already ran in the worker.
  const dump = readKvDump(bytes, { maxBytes });
  const { meta, file } = dump;
  const T = meta.tokens.count;
  const D = meta.head_dim;
  const Q = meta.queries.count;
  const tensor = (tname: string, heads: number, tokens: number): KVTensor => {
    const i = file.info(tname);
    return { data: decodeTensor(bytes, i.byteOffset, i.byteLength, i.dtype), heads, tokens, headDim: D };
  };
  const L = dump.layers.length;
  const summary = summarize(meta, name, bytes.byteLength, (n) => (file.has(n) ? file.info(n).byteLength : 0));
  const maxPos = typeof meta.max_position_embeddings === 'number' ? (meta.max_position_embeddings as number) : T;
  return {
    kind: 'prefill',
    source: 'dump',
    exampleId: `dump-${++dumpSeq}`,
    title: `${summary.model} (dump, ${T} tokens)`,
    prompt: '',
    info: {
      model: summary.model as ModelId,
      layers: L,
      heads: meta.num_attention_heads,
      kvHeads: meta.num_key_value_heads,
      headDim: D,
      vocab: 0,
      maxPositions: maxPos,
      exportsQueries: Q > 0,
      dtype: summary.dtype,
    },
    tokenIds: Array.isArray(meta.tokens.ids) ? meta.tokens.ids.slice() : [],
    tokens: meta.tokens.strings.slice(),
    keys: lazyArray(L, (i) => tensor(`layers.${dump.layers[i].index}.keys`, meta.num_key_value_heads, T)),
    values: lazyArray(L, (i) => tensor(`layers.${dump.layers[i].index}.values`, meta.num_key_value_heads, T)),
    queries: Q > 0 ? lazyArray(L, (i) => tensor(`layers.${dump.layers[i].index}.queries`, meta.num_attention_heads, Q)) : null,
    queriesFrom: T - Q,
    lastLogits: new Float32Array(0),
    timings: { tokenizeMs: 0, forwardMs: 0, totalMs: 0 },
    truncated: null,
    dump: summary,
  };
}

/**
 * Queries of a dump padded to [heads, T, headDim] for code that indexes queries by token position: rows before
 * `from` are zero and must not be read (the attention widget only offers positions ≥ from).
 */
const padded = new WeakMap<KVTensor, KVTensor>();
export function padQueries(q: KVTensor, tokens: number, from: number): KVTensor {
  if (q.tokens === tokens) return q;
  const hit = padded.get(q);
  if (hit && hit.tokens === tokens) return hit;
  const data = new Float32Array(q.heads * tokens * q.headDim);
  for (let h = 0; h < q.heads; h++)
    data.set(q.data.subarray(h * q.tokens * q.headDim, (h + 1) * q.tokens * q.headDim), (h * tokens + from) * q.headDim);
  const out = { data, heads: q.heads, tokens, headDim: q.headDim };
  padded.set(q, out);
  return out;
}

/** Label of dumped layer i for controls: the model's layer index, and its sliding window if any. */
export function layerLabel(set: Pick<TensorSet, 'dump'> | undefined | null, i: number): string {
  const l = set?.dump?.layers[i];
  if (!l) return `layer ${i}`;
  return l.attention === 'sliding' ? `layer ${l.index} (sliding window ${l.window})` : `layer ${l.index}`;
}

// ------------------------------------------------------------------------------------ reading

/** Random access to the bytes of a dump (a File/Blob, or a URL). */
export interface ByteSource {
  name: string;
  size: number;
  read(start: number, end: number): Promise<Uint8Array>;
  /** The whole file (with progress). */
  all(onProgress?: (loaded: number, total: number) => void): Promise<ArrayBuffer>;
}

export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: blob.size,
    read: async (s, e) => new Uint8Array(await blob.slice(s, e).arrayBuffer()),
    all: async (onProgress) => {
      onProgress?.(0, blob.size);
      try {
        const b = await blob.arrayBuffer();
        onProgress?.(b.byteLength, blob.size);
        return b;
      } catch (err) {
        throw new DumpError('read', `the file could not be read (${(err as Error).message})`);
      }
    },
  };
}

function fetchFailed(url: string, err: unknown): DumpError {
  return new DumpError(
    'fetch',
    `the dump at ${url} could not be downloaded (${(err as Error).message || 'network error'}). It must be on this site or on a server that allows cross-origin requests (CORS).`,
  );
}

/** A URL: size from a 1-byte Range request when the server answers ranges, else from the GET itself. */
export async function urlSource(url: string, maxBytes = DUMP_MAX_BYTES): Promise<ByteSource> {
  const name = decodeURIComponent(url.split(/[?#]/)[0].split('/').pop() || url);
  let res: Response;
  try {
    res = await fetch(url, { headers: { Range: 'bytes=0-0' } });
  } catch (err) {
    throw fetchFailed(url, err);
  }
  if (!res.ok)
    throw new DumpError(
      'fetch',
      `the dump at ${url} could not be downloaded: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`,
    );
  const ranges = res.status === 206;
  const size = ranges
    ? Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN)
    : Number(res.headers.get('content-length') ?? NaN);
  let whole: ArrayBuffer | null = null;
  if (!ranges) {
    // No ranges: this response is the whole file; stop reading past the limit.
    if (Number.isFinite(size) && size > maxBytes) {
      void res.body?.cancel();
    } else {
      whole = await res.arrayBuffer();
    }
  } else {
    await res.arrayBuffer(); // the 1 byte asked for (cancelling would log an aborted request)
  }
  const realSize = whole ? whole.byteLength : size;
  const read = async (s: number, e: number): Promise<Uint8Array> => {
    if (whole) return new Uint8Array(whole, s, e - s);
    if (!ranges)
      throw new DumpError(
        'fetch',
        `the server of ${url} does not answer byte ranges, so part of the dump cannot be read; download it and open the file instead.`,
      );
    let r: Response;
    try {
      r = await fetch(url, { headers: { Range: `bytes=${s}-${e - 1}` } });
    } catch (err) {
      throw fetchFailed(url, err);
    }
    if (r.status !== 206) throw new DumpError('fetch', `the dump at ${url} could not be read in parts (HTTP ${r.status}).`);
    return new Uint8Array(await r.arrayBuffer());
  };
  return {
    name,
    size: realSize,
    read,
    all: async (onProgress) => {
      if (whole) return whole;
      let r: Response;
      try {
        r = await fetch(url);
      } catch (err) {
        throw fetchFailed(url, err);
      }
      if (!r.ok || !r.body) throw new DumpError('fetch', `the dump at ${url} could not be downloaded: HTTP ${r.status}.`);
      const total = Number(r.headers.get('content-length') ?? realSize);
      const out = new Uint8Array(total);
      let loaded = 0;
      const reader = r.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (loaded + value.length > out.length) {
          void reader.cancel();
          throw new DumpError('too-large', `the dump at ${url} is larger than its announced ${total} bytes.`);
        }
        out.set(value, loaded);
        loaded += value.length;
        onProgress?.(loaded, total);
      }
      return loaded === out.length ? out.buffer : out.slice(0, loaded).buffer;
    },
  };
}

interface RawHeader {
  headerLen: number;
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  meta: KvDumpMeta;
}

/** The JSON header and kvlab metadata of a dump, read without its tensors (for files over the limit). */
export async function readHeader(src: ByteSource): Promise<RawHeader> {
  const first = await src.read(0, Math.min(8, src.size));
  // Same checks and messages as parseSafetensors, on the first bytes alone.
  if (first.byteLength < 8) parseSafetensors(first);
  const dv = new DataView(first.buffer, first.byteOffset, 8);
  const headerLen = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (headerLen > 16 * 1024 * 1024 || headerLen < 2)
    throw new SafetensorsError('not-safetensors', `not a safetensors file: header length ${headerLen}`);
  if (8 + headerLen > src.size)
    throw new SafetensorsError('truncated', `truncated: the header says ${headerLen} bytes of JSON but only ${src.size - 8} bytes follow`);
  const hb = await src.read(8, 8 + headerLen);
  if (hb[0] !== 0x7b) throw new SafetensorsError('not-safetensors', 'not a safetensors file: the header does not start with "{"');
  let header: RawHeader['header'];
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hb));
  } catch (e) {
    throw new SafetensorsError('bad-header', `the header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const rawMeta = (header.__metadata__ as Record<string, string> | undefined)?.kvlab;
  if (typeof rawMeta !== 'string') throw new SafetensorsError('bad-schema', 'not a KV Cache Lab dump: __metadata__ has no "kvlab" entry');
  let meta: KvDumpMeta;
  try {
    meta = JSON.parse(rawMeta);
  } catch (e) {
    throw new SafetensorsError('bad-schema', `not a KV Cache Lab dump: __metadata__.kvlab is not JSON (${(e as Error).message})`);
  }
  if (!meta || !Array.isArray(meta.layers) || !meta.tokens || !meta.queries)
    throw new SafetensorsError('bad-schema', 'not a KV Cache Lab dump: layers, tokens or queries missing from the metadata');
  return { headerLen, header, meta };
}

/**
 * A new, smaller dump holding only the model layers `keep` (a valid dump itself: tensors re-packed, the
 * metadata's `layers` filtered). Reads only those tensors' bytes.
 */
export async function subsetDump(src: ByteSource, keep: readonly number[], h?: RawHeader): Promise<ArrayBuffer> {
  const { headerLen, header, meta } = h ?? (await readHeader(src));
  const want = new Set(keep);
  const layers = meta.layers.filter((l) => want.has(l.index));
  if (!layers.length)
    throw new DumpError(
      'bad-schema',
      `none of the layers ${keep.join(', ')} is in the dump (it holds ${meta.layers.map((l) => l.index).join(', ')})`,
    );
  const names = Object.keys(header).filter((n) => n !== '__metadata__' && want.has(Number(/^layers\.(\d+)\./.exec(n)?.[1] ?? -1)));
  const dataStart = 8 + headerLen;
  const parts: Uint8Array[] = [];
  const newHeader: Record<string, unknown> = {
    __metadata__: { ...(header.__metadata__ as Record<string, string>), kvlab: JSON.stringify({ ...meta, layers }) },
  };
  let offset = 0;
  for (const n of names) {
    const e = header[n] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [b, end] = e.data_offsets;
    if (dataStart + end > src.size)
      throw new SafetensorsError('truncated', `tensor "${n}": data_offsets [${b}, ${end}] run past the end of the file (file truncated?)`);
    const bytes = await src.read(dataStart + b, dataStart + end);
    parts.push(bytes);
    newHeader[n] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(newHeader);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // keep tensors 8-byte aligned, as the Python writer does
  const jb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jb.length + offset);
  new DataView(out.buffer).setUint32(0, jb.length, true);
  out.set(jb, 8);
  let at = 8 + jb.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out.buffer;
}

function headerBytes(h: RawHeader, name: string): number {
  const e = h.header[name] as { data_offsets?: [number, number] } | undefined;
  return Array.isArray(e?.data_offsets) ? Number(e.data_offsets[1]) - Number(e.data_offsets[0]) || 0 : 0;
}

// ------------------------------------------------------------------------------------ worker protocol

export type DumpRequest =
  | { type: 'open'; id: number; file: Blob; name: string; layers?: number[]; maxBytes?: number }
  | { type: 'open'; id: number; url: string; layers?: number[]; maxBytes?: number };

export type DumpResponse =
  | { type: 'progress'; id: number; text: string; done?: number; total?: number }
  | { type: 'meta'; id: number; summary: DumpSummary; ms: number }
  | { type: 'too-large'; id: number; summary: DumpSummary; limit: number }
  | { type: 'done'; id: number; buffer: ArrayBuffer; name: string; ms: number }
  | { type: 'error'; id: number; code: DumpErrorCode; message: string };

/** What the worker does for one request (also callable on the page or in Node). */
export async function openDumpCore(req: DumpRequest, post: (m: DumpResponse, transfer?: Transferable[]) => void): Promise<void> {
  const t0 = performance.now();
  const { id } = req;
  const maxBytes = req.maxBytes ?? DUMP_MAX_BYTES;
  try {
    const src = 'url' in req ? await urlSource(req.url, maxBytes) : blobSource(req.file, req.name);
    let buffer: ArrayBuffer;
    if (req.layers?.length || src.size > maxBytes) {
      const h = await readHeader(src);
      const full = summarize(h.meta, src.name, src.size, (n) => headerBytes(h, n));
      if (!req.layers?.length) {
        post({ type: 'too-large', id, summary: full, limit: maxBytes });
        return;
      }
      post({ type: 'progress', id, text: `Reading layers ${req.layers.join(', ')} of the dump…` });
      buffer = await subsetDump(src, req.layers, h);
      if (buffer.byteLength > maxBytes)
        throw new DumpError('too-large', `those layers take ${buffer.byteLength} bytes; the limit is ${maxBytes}. Pick fewer layers.`);
    } else {
      // The metadata from the header alone (a few kB) before the whole file is read: the page can show it at once.
      try {
        const h = await readHeader(src);
        post({ type: 'meta', id, summary: summarize(h.meta, src.name, src.size, (n) => headerBytes(h, n)), ms: performance.now() - t0 });
      } catch {
        // No early metadata: the full check below names what is wrong.
      }
      buffer = await src.all((loaded, total) => post({ type: 'progress', id, text: 'Reading the dump…', done: loaded, total }));
    }
    // Then the full check: structure, schema and shapes (readKvDump), NaN/Inf in every tensor.
    checkDump(new Uint8Array(buffer), maxBytes);
    post({ type: 'done', id, buffer, name: src.name, ms: performance.now() - t0 }, [buffer]);
  } catch (err) {
    const code: DumpErrorCode = err instanceof SafetensorsError || err instanceof DumpError ? err.code : 'read';
    post({ type: 'error', id, code, message: (err as Error).message ?? String(err) });
  }
}

// ------------------------------------------------------------------------------------ page side

const WHAT: Record<DumpErrorCode, string> = {
  'not-safetensors': 'This is not a safetensors file',
  truncated: 'The file is truncated',
  'file-too-large': 'The file is too large',
  'header-too-large': 'This is not a safetensors file (or its header is larger than 16 MiB)',
  'bad-header': 'The safetensors header is broken',
  'bad-offsets': 'The tensors’ places in the file are inconsistent',
  'unsupported-dtype': 'A tensor has an unsupported dtype',
  'missing-tensor': 'A tensor is missing',
  'shape-mismatch': 'A tensor has the wrong shape',
  'non-finite': 'A tensor holds NaN or Inf',
  'bad-schema': 'This is not a KV Cache Lab dump',
  fetch: 'The dump could not be downloaded',
  read: 'The file could not be read',
  'too-large': 'The dump is too large',
};

/** A reader-facing sentence: what is wrong, the detail, and that the widget keeps what it had. */
export function explainDumpError(err: unknown): string {
  if (err instanceof DumpError || err instanceof SafetensorsError) return `${WHAT[err.code]}: ${err.message}.`.replace(/\.\.$/, '.');
  return `The dump could not be opened: ${(err as Error)?.message ?? String(err)}.`;
}

export class DumpTooLarge extends Error {
  constructor(
    readonly summary: DumpSummary,
    readonly limit: number,
  ) {
    super(`${summary.name} is ${(summary.bytes / 2 ** 20).toFixed(0)} MiB; dumps up to ${(limit / 2 ** 20).toFixed(0)} MiB open whole`);
    this.name = 'DumpTooLarge';
  }
}

/** The longest run of the dump's first layers that fits `limit` (for the "open a subset" offer). */
export function layersThatFit(summary: DumpSummary, limit: number): number[] {
  const out: number[] = [];
  let total = 64 * 1024; // room for the header
  for (const l of summary.layers) {
    if (total + l.bytes > limit) break;
    total += l.bytes;
    out.push(l.index);
  }
  return out;
}

/** Parses "0,4-7" into layer indices. */
export function parseLayerList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\d+)(?:\s*[-–]\s*(\d+))?$/.exec(part);
    if (!m) throw new DumpError('bad-schema', `"${part}" is not a layer number or range`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

export type DumpInput = { file: Blob; name: string } | { url: string };

export interface OpenOptions {
  layers?: number[];
  maxBytes?: number;
  onProgress?(text: string, done?: number, total?: number): void;
  onMeta?(summary: DumpSummary): void;
}

let worker: Worker | null | undefined;
let reqId = 0;
const pending = new Map<number, (m: DumpResponse) => void>();

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    // spawnWorker: also starts on another site's page (the script-tag bundle), through a same-origin shim.
    worker = spawnWorker(
      (Worker) => new Worker(new URL('../../workers/dump.worker.ts', import.meta.url), { type: 'module', name: 'kv-dump' }),
    );
    worker.onmessage = (e: MessageEvent<DumpResponse>) => pending.get(e.data.id)?.(e.data);
    worker.onerror = () => {
      for (const [id, f] of pending) f({ type: 'error', id, code: 'read', message: 'the dump reader (a worker) stopped' });
      worker = null;
    };
  } catch {
    worker = null;
  }
  return worker;
}

/**
 * Open a dump: resolves with its TensorSet, rejects with DumpError/SafetensorsError (explainDumpError) or
 * DumpTooLarge (offer `layersThatFit`, then call again with `layers`).
 */
export function openDump(input: DumpInput, o: OpenOptions = {}): Promise<DumpTensorSet> {
  const id = ++reqId;
  const req: DumpRequest =
    'url' in input
      ? { type: 'open', id, url: new URL(input.url, location.href).href, layers: o.layers, maxBytes: o.maxBytes }
      : { type: 'open', id, file: input.file, name: input.name, layers: o.layers, maxBytes: o.maxBytes };
  return new Promise<DumpTensorSet>((resolve, reject) => {
    const on = (m: DumpResponse) => {
      if (m.type === 'progress') o.onProgress?.(m.text, m.done, m.total);
      else if (m.type === 'meta') o.onMeta?.(m.summary);
      else {
        pending.delete(id);
        if (m.type === 'too-large') reject(new DumpTooLarge(m.summary, m.limit));
        else if (m.type === 'error') reject(new DumpError(m.code, m.message));
        else {
          try {
            const set = dumpTensorSet(m.buffer, m.name, o.maxBytes);
            setActiveDump(set);
            resolve(set);
          } catch (err) {
            reject(err);
          }
        }
      }
    };
    pending.set(id, on);
    const w = getWorker();
    if (w) w.postMessage(req);
    else void openDumpCore(req, (m) => on(m));
  });
}

// ------------------------------------------------------------------------------------ the page's dump

let active: DumpTensorSet | null = null;
let activeUrl: Promise<DumpTensorSet> | null = null;
const listeners = new Set<(set: DumpTensorSet) => void>();

/** The dump opened last on this page (every picker offers it), or null. */
export function activeDump(): DumpTensorSet | null {
  return active;
}

export function setActiveDump(set: DumpTensorSet): void {
  active = set;
  for (const f of listeners) f(set);
  document.dispatchEvent(new CustomEvent('kvlab-dump', { detail: set.dump }));
}

export function onActiveDump(f: (set: DumpTensorSet) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** `?kv=<url>` of the page, or null. */
export function dumpUrlParam(): string | null {
  if (typeof location === 'undefined') return null;
  const v = new URLSearchParams(location.search).get('kv');
  return v && v.trim() ? v.trim() : null;
}

/** The `?kv=` dump, fetched once per page however many widgets ask. */
export function urlDump(o: OpenOptions = {}): Promise<DumpTensorSet> | null {
  const url = dumpUrlParam();
  if (!url) return null;
  if (!activeUrl) {
    activeUrl = openDump({ url }, o);
    activeUrl.catch(() => undefined);
  }
  return activeUrl;
}

/** Whether this page shows a dump (a `?kv=` link or a file opened here): for widgets that need the model itself. */
export function pageHasDump(): boolean {
  return active !== null || dumpUrlParam() !== null;
}

export const DUMP_HAS_NO_MODEL =
  'A KV-cache dump holds keys, values and queries, not the model that made them, so this widget cannot run it: it keeps the bundled model (kvlab-16m).';

/**
 * For widgets that run the model (generation, perplexity): a note, shown while the page has a dump (now or
 * once one is opened), that a dump has no model and the widget keeps the bundled one.
 */
export function dumpModelNote(container: HTMLElement): void {
  const p = document.createElement('p');
  p.className = 'note dump-note';
  p.dataset.role = 'dump-note';
  p.textContent = DUMP_HAS_NO_MODEL;
  const show = () => {
    if (!p.isConnected) container.prepend(p);
  };
  if (pageHasDump()) show();
  document.addEventListener('kvlab-dump', show);
}
