/**
 * A safetensors reader for the browser (pure TS, no DOM), and `readKvDump` for the KV-cache dumps
 * written by `scripts/kv-dump/dump_kv.py` (schema: `scripts/kv-dump/README.md`).
 *
 * Format (huggingface/safetensors README, "Format"; checks as in `safetensors/src/tensor.rs`,
 * `Metadata::validate` and `SafeTensors::read_metadata`, huggingface/safetensors main):
 *   8 bytes  little-endian u64 N = header length
 *   N bytes  UTF-8 JSON object, may be right-padded with spaces:
 *            { "__metadata__"?: {string: string}, "<name>": {dtype, shape, data_offsets: [begin, end]} }
 *   rest     the byte buffer; offsets are relative to its start, tensors are little-endian, row-major,
 *            and (as upstream requires) tile the buffer exactly: sorted by offset, no gap, no overlap,
 *            ending at the end of the file.
 *
 * Why not an npm package: the `safetensors` package on npm is a 0.0.1 placeholder from 2023, and
 * `@huggingface/hub`'s `parseSafetensorsMetadata` only reads headers of files on the Hub (no local
 * buffers, no tensor decoding) and would pull in the whole Hub client. The format is small enough
 * to read here with the checks we want (size limits, NaN/Inf, our dump schema).
 *
 * Tensor data is decoded lazily, per tensor, when asked for: a page that draws one layer does not
 * pay for the other layers' conversion.
 */
import { halfToFloat, type KVTensor } from './kv';

export type SafetensorsErrorCode =
  | 'not-safetensors'
  | 'truncated'
  | 'file-too-large'
  | 'header-too-large'
  | 'bad-header'
  | 'bad-offsets'
  | 'unsupported-dtype'
  | 'missing-tensor'
  | 'shape-mismatch'
  | 'non-finite'
  | 'bad-schema';

export class SafetensorsError extends Error {
  readonly code: SafetensorsErrorCode;
  constructor(code: SafetensorsErrorCode, message: string) {
    super(message);
    this.name = 'SafetensorsError';
    this.code = code;
  }
}

/** Bytes per element of the whole-byte dtypes of upstream's `Dtype` enum (safetensors/src/tensor.rs). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The dtypes `toFloat32` decodes. */
export const FLOAT_DTYPES = ['F16', 'BF16', 'F32'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];

export interface SafetensorsTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute offset of the first byte in the file buffer. */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsOptions {
  /** Refuse buffers larger than this (default 512 MiB: more than a browser tab should hold twice). */
  maxBytes?: number;
  /** Refuse JSON headers longer than this (default 16 MiB; upstream's own cap is 100 MB). */
  maxHeaderBytes?: number;
}

export interface ToFloat32Options {
  /** Accept NaN/±Inf values instead of throwing `non-finite` (default false). */
  allowNonFinite?: boolean;
}

export interface SafetensorsFile {
  /** `__metadata__` (string → string), or an empty object when the file has none. */
  metadata: Record<string, string>;
  /** Tensor names in file order (by offset). */
  names: string[];
  has(name: string): boolean;
  /** Header entry of a tensor; throws `missing-tensor` for unknown names. */
  info(name: string): SafetensorsTensorInfo;
  /** Decode a F16/BF16/F32 tensor to a new Float32Array (checked for NaN/Inf unless allowed). */
  toFloat32(name: string, opts?: ToFloat32Options): Float32Array;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;

function asBytes(buffer: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw new SafetensorsError('not-safetensors', 'expected an ArrayBuffer or a typed array');
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Parse the header of a safetensors file and check every tensor's place in the buffer. */
export function parseSafetensors(buffer: ArrayBuffer | ArrayBufferView, opts: SafetensorsOptions = {}): SafetensorsFile {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const bytes = asBytes(buffer);
  if (bytes.byteLength > maxBytes) {
    throw new SafetensorsError('file-too-large', `file is ${bytes.byteLength} bytes; the limit is ${maxBytes}`);
  }
  if (bytes.byteLength < 8) {
    throw new SafetensorsError('not-safetensors', `not a safetensors file: ${bytes.byteLength} bytes, the 8-byte header length is missing`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  // u64 header length; anything ≥ 2^32 is far beyond any limit, and reading it as a JS number stays exact below 2^53.
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > maxHeader) {
    throw new SafetensorsError('header-too-large', `header length ${headerLen} exceeds the limit of ${maxHeader} bytes`);
  }
  if (headerLen < 2) {
    throw new SafetensorsError('not-safetensors', `not a safetensors file: header length ${headerLen}`);
  }
  if (8 + headerLen > bytes.byteLength) {
    throw new SafetensorsError(
      'truncated',
      `truncated: the header says ${headerLen} bytes of JSON but only ${bytes.byteLength - 8} bytes follow`,
    );
  }
  if (bytes[8] !== 0x7b /* '{' */) {
    throw new SafetensorsError('not-safetensors', 'not a safetensors file: the header does not start with "{"');
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError('bad-header', `the header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) throw new SafetensorsError('bad-header', 'the header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsTensorInfo[] = [];
  const rel: [number, number][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        throw new SafetensorsError('bad-header', '__metadata__ must map strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    if (!isPlainObject(raw)) throw new SafetensorsError('bad-header', `tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: off } = raw;
    if (typeof dtype !== 'string') throw new SafetensorsError('bad-header', `tensor "${name}": dtype is missing`);
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) throw new SafetensorsError('unsupported-dtype', `tensor "${name}": unknown dtype ${dtype}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new SafetensorsError('bad-header', `tensor "${name}": shape must be a list of non-negative integers`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1])) {
      throw new SafetensorsError('bad-header', `tensor "${name}": data_offsets must be two non-negative integers`);
    }
    const [begin, end] = off as [number, number];
    if (end < begin) throw new SafetensorsError('bad-offsets', `tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      throw new SafetensorsError(
        'truncated',
        `tensor "${name}": data_offsets [${begin}, ${end}] run past the ${dataLen} bytes of data (file truncated?)`,
      );
    }
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (elements * size !== end - begin) {
      throw new SafetensorsError(
        'shape-mismatch',
        `tensor "${name}": shape [${shape.join(', ')}] of ${dtype} needs ${elements * size} bytes, data_offsets give ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], byteOffset: dataStart + begin, byteLength: end - begin });
    rel.push([begin, end]);
  }
  // Upstream's rule: sorted by offset, the tensors cover [0, dataLen) with no gap and no overlap.
  const order = entries.map((_, i) => i).sort((a, b) => rel[a][0] - rel[b][0] || rel[a][1] - rel[b][1]);
  let expected = 0;
  for (const i of order) {
    const [b, e] = rel[i];
    if (b !== expected) {
      throw new SafetensorsError(
        'bad-offsets',
        b < expected
          ? `tensor "${entries[i].name}": data_offsets [${b}, ${e}] overlap the previous tensor (ends at ${expected})`
          : `tensor "${entries[i].name}": data_offsets [${b}, ${e}] leave a gap after byte ${expected}`,
      );
    }
    expected = e;
  }
  if (expected !== dataLen) {
    throw new SafetensorsError('bad-offsets', `the tensors cover ${expected} bytes of data but the file holds ${dataLen}`);
  }
  const byName = new Map(order.map((i) => [entries[i].name, entries[i]] as const));
  const names = order.map((i) => entries[i].name);

  const info = (name: string): SafetensorsTensorInfo => {
    const e = byName.get(name);
    if (!e) throw new SafetensorsError('missing-tensor', `no tensor named "${name}" in the file`);
    return e;
  };
  return {
    metadata,
    names,
    has: (name) => byName.has(name),
    info,
    toFloat32(name, o = {}) {
      const e = info(name);
      const out = decodeFloat(view, e.byteOffset, e.dtype, e.byteLength, name);
      if (!o.allowNonFinite) {
        for (let i = 0; i < out.length; i++) {
          if (!Number.isFinite(out[i])) {
            throw new SafetensorsError('non-finite', `tensor "${name}": element ${i} is ${out[i]}`);
          }
        }
      }
      return out;
    },
  };
}

let halfTable: Float32Array | null = null;
/** All 65,536 float16 values, decoded once by `halfToFloat` (exact, subnormals/Inf/NaN included). */
function f16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

function decodeFloat(view: DataView, offset: number, dtype: string, byteLength: number, name: string): Float32Array {
  if (dtype === 'F32') {
    const n = byteLength / 4;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, true);
    return out;
  }
  if (dtype === 'F16') {
    const t = f16Table();
    const n = byteLength / 2;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = t[view.getUint16(offset + 2 * i, true)];
    return out;
  }
  if (dtype === 'BF16') {
    // bfloat16 is the upper half of a float32 bit pattern.
    const n = byteLength / 2;
    const out = new Float32Array(n);
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = view.getUint16(offset + 2 * i, true) << 16;
    return out;
  }
  throw new SafetensorsError('unsupported-dtype', `tensor "${name}": dtype ${dtype} cannot be read as floats (F16, BF16 or F32 only)`);
}

// ---------------------------------------------------------------------------------------------
// KV Cache Lab dumps

export const KV_DUMP_SCHEMA = 'kvlab-kv-dump';
export const KV_DUMP_VERSION = 1;

export type KvAttentionType = 'full' | 'sliding';

export interface KvDumpLayerMeta {
  index: number;
  attention: KvAttentionType;
  /** Sliding-window length (Transformers' `sliding_window`), null for full attention. */
  window: number | null;
  /**
   * Tokens Transformers' default `DynamicCache(config=...)` would keep for this layer after the prefill
   * (sliding layers: the last `window - 1`); the dump itself always holds all `tokens.count`.
   */
  transformers_cached_tokens?: number;
}

/** `__metadata__.kvlab`, as written by dump_kv.py (see scripts/kv-dump/README.md). */
export interface KvDumpMeta {
  schema: typeof KV_DUMP_SCHEMA;
  version: number;
  model: { id: string; revision: string | null; model_type: string; architectures: string[] };
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  hidden_size: number;
  rope: Record<string, unknown>;
  k_norm: boolean;
  layer_types: string[];
  layers: KvDumpLayerMeta[];
  tokens: { count: number; ids: number[]; strings: string[] };
  queries: { count: number; first_position: number };
  dtype: 'float32' | 'float16' | 'bfloat16';
  source_dtype: string;
  text_sha256?: string;
  generator?: { script: string; transformers: string; torch: string; attention: 'sdpa' | 'eager' };
  [extra: string]: unknown;
}

export interface KvDumpLayer extends KvDumpLayerMeta {
  /** Post-RoPE keys, as in the cache: [kv_heads, tokens, headDim]. */
  keys(): KVTensor;
  /** Keys before RoPE (after k_norm where the model has one): [kv_heads, tokens, headDim]. */
  keysPreRope(): KVTensor;
  values(): KVTensor;
  /** Post-RoPE queries of the last `queries.count` positions: [heads, count, headDim]; null if none were dumped. */
  queries(): KVTensor | null;
}

export interface KvDump {
  meta: KvDumpMeta;
  tokens: string[];
  layers: KvDumpLayer[];
  file: SafetensorsFile;
}

function schemaError(msg: string): never {
  throw new SafetensorsError('bad-schema', `not a KV Cache Lab dump: ${msg}`);
}

function checkMeta(raw: unknown): KvDumpMeta {
  if (!isPlainObject(raw)) schemaError('__metadata__.kvlab is not a JSON object');
  if (raw.schema !== KV_DUMP_SCHEMA) schemaError(`schema is ${JSON.stringify(raw.schema)}, expected "${KV_DUMP_SCHEMA}"`);
  if (raw.version !== KV_DUMP_VERSION)
    schemaError(`version ${JSON.stringify(raw.version)} is not supported (this reader knows ${KV_DUMP_VERSION})`);
  for (const k of ['num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim'] as const) {
    if (!isCount(raw[k]) || raw[k] === 0) schemaError(`${k} must be a positive integer`);
  }
  const tokens = raw.tokens;
  if (
    !isPlainObject(tokens) ||
    !isCount(tokens.count) ||
    !Array.isArray(tokens.strings) ||
    tokens.strings.length !== tokens.count ||
    !tokens.strings.every((s) => typeof s === 'string')
  ) {
    schemaError('tokens must hold count and that many strings');
  }
  const q = raw.queries;
  if (!isPlainObject(q) || !isCount(q.count)) schemaError('queries.count must be a non-negative integer');
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) schemaError('layers must list the dumped layers');
  const seen = new Set<number>();
  for (const l of raw.layers as unknown[]) {
    if (!isPlainObject(l) || !isCount(l.index) || (l.index as number) >= (raw.num_hidden_layers as number)) {
      schemaError('every layer needs an index below num_hidden_layers');
    }
    if (seen.has(l.index as number)) schemaError(`layer ${l.index} is listed twice`);
    seen.add(l.index as number);
    if (l.attention !== 'full' && l.attention !== 'sliding') schemaError(`layer ${l.index}: attention must be "full" or "sliding"`);
    if (l.attention === 'sliding' ? !isCount(l.window) : l.window !== null) {
      schemaError(`layer ${l.index}: window must be an integer for sliding layers and null otherwise`);
    }
  }
  return raw as unknown as KvDumpMeta;
}

/**
 * Read a dump written by `scripts/kv-dump/dump_kv.py`: checks the schema in `__metadata__.kvlab`
 * and that every listed layer has keys, pre-RoPE keys and values of shape [kv_heads, tokens, head_dim]
 * (and queries [heads, queries.count, head_dim] when queries.count > 0). Tensors decode on first use.
 */
export function readKvDump(buffer: ArrayBuffer | ArrayBufferView, opts: SafetensorsOptions = {}): KvDump {
  const file = parseSafetensors(buffer, opts);
  const rawMeta = file.metadata.kvlab;
  if (rawMeta === undefined) schemaError('__metadata__ has no "kvlab" entry');
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawMeta);
  } catch (e) {
    schemaError(`__metadata__.kvlab is not JSON (${(e as Error).message})`);
  }
  const meta = checkMeta(parsed);
  const T = meta.tokens.count;
  const kvHeads = meta.num_key_value_heads;
  const heads = meta.num_attention_heads;
  const D = meta.head_dim;
  const Q = meta.queries.count;

  const expect = (name: string, shape: number[]) => {
    const e = file.info(name); // throws missing-tensor
    if (e.shape.length !== shape.length || e.shape.some((s, i) => s !== shape[i])) {
      throw new SafetensorsError(
        'shape-mismatch',
        `tensor "${name}" has shape [${e.shape.join(', ')}], the metadata implies [${shape.join(', ')}]`,
      );
    }
    if (!(FLOAT_DTYPES as readonly string[]).includes(e.dtype)) {
      throw new SafetensorsError('unsupported-dtype', `tensor "${name}": dtype ${e.dtype} (F16, BF16 or F32 only)`);
    }
  };
  const cached = new Map<string, KVTensor>();
  const getter = (name: string, h: number, t: number) => (): KVTensor => {
    let v = cached.get(name);
    if (!v) {
      v = { data: file.toFloat32(name), heads: h, tokens: t, headDim: D };
      cached.set(name, v);
    }
    return v;
  };
  const layers: KvDumpLayer[] = meta.layers.map((l) => {
    const p = `layers.${l.index}.`;
    expect(p + 'keys', [kvHeads, T, D]);
    expect(p + 'keys_pre_rope', [kvHeads, T, D]);
    expect(p + 'values', [kvHeads, T, D]);
    if (Q > 0) expect(p + 'queries', [heads, Q, D]);
    return {
      index: l.index,
      attention: l.attention,
      window: l.window,
      transformers_cached_tokens: l.transformers_cached_tokens,
      keys: getter(p + 'keys', kvHeads, T),
      keysPreRope: getter(p + 'keys_pre_rope', kvHeads, T),
      values: getter(p + 'values', kvHeads, T),
      queries: Q > 0 ? getter(p + 'queries', heads, Q) : () => null,
    };
  });
  return { meta, tokens: meta.tokens.strings, layers, file };
}
