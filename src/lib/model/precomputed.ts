/**
 * Precomputed real tensors in `public/precomputed/`: what widgets draw before (or instead of)
 * running the model — instantly, offline, in sandboxed iframes, on phones.
 *
 * Per prompt: `<id>.json` (manifest below) + `<id>.bin` (little-endian float16: every layer's keys,
 * values and queries, then the last-position logits). `index.json` lists the prompts. Written by
 * `scripts/precompute/export.ts`; `loadPrecomputed` returns the same shape as a `prefill` result.
 */
import { floatToHalf, halfToFloat, type KVTensor } from './kv';
import type { ModelInfo, PrefillResult } from './protocol';
import type { ModelId } from './catalogue';

export { floatToHalf, halfToFloat };

export const PRECOMPUTED_KINDS = ['keys', 'values', 'queries'] as const;
export type PrecomputedKind = (typeof PRECOMPUTED_KINDS)[number];

export interface PrecomputedTensorEntry {
  kind: PrecomputedKind;
  layer: number;
  /** `[heads, tokens, headDim]`. */
  shape: [number, number, number];
  /** Offset in bytes into the `.bin` file (always even). */
  byteOffset: number;
}

export interface PrecomputedManifest {
  version: 1;
  id: string;
  title: string;
  model: ModelId;
  prompt: string;
  tokenIds: number[];
  tokens: string[];
  info: ModelInfo;
  dtype: 'float16';
  /** File name of the tensor data, relative to the manifest. */
  bin: string;
  byteLength: number;
  tensors: PrecomputedTensorEntry[];
  lastLogits: { byteOffset: number; length: number };
  generator: string;
}

export interface PrecomputedIndex {
  version: 1;
  model: ModelId;
  /** `prompt` lets pages match a typed prompt to an example without downloading its tensors. */
  items: { id: string; title: string; tokens: number; manifest: string; bytes: number; prompt: string }[];
}

export type PrecomputedPrefill = PrefillResult & { id: string; title: string; prompt: string };

/** Float32 → float16 bit patterns (round to nearest even). */
export function encodeFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
  return out;
}

/** Float16 bit patterns → float32, with a 64K lookup table. */
export function decodeFloat16(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

let table: Float32Array | null = null;
function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = halfToFloat(i);
  }
  return table;
}

/** Lay out one prefill as manifest + binary (used by the export script). */
export function encodePrecomputed(
  meta: { id: string; title: string; prompt: string; generator: string },
  r: Pick<PrefillResult, 'info' | 'tokenIds' | 'tokens' | 'keys' | 'values' | 'queries' | 'lastLogits'>,
): { manifest: PrecomputedManifest; bin: Uint8Array } {
  const parts: Uint16Array[] = [];
  const tensors: PrecomputedTensorEntry[] = [];
  let offset = 0;
  const push = (kind: PrecomputedKind, layer: number, t: KVTensor) => {
    const half = encodeFloat16(t.data);
    tensors.push({ kind, layer, shape: [t.heads, t.tokens, t.headDim], byteOffset: offset });
    parts.push(half);
    offset += half.byteLength;
  };
  r.keys.forEach((t, i) => push('keys', i, t));
  r.values.forEach((t, i) => push('values', i, t));
  r.queries?.forEach((t, i) => push('queries', i, t));
  const logits = encodeFloat16(r.lastLogits);
  const lastLogits = { byteOffset: offset, length: logits.length };
  parts.push(logits);
  offset += logits.byteLength;
  const bin = new Uint8Array(offset);
  let o = 0;
  for (const p of parts) {
    // Always little-endian on disk.
    const view = new DataView(bin.buffer, o, p.byteLength);
    for (let i = 0; i < p.length; i++) view.setUint16(i * 2, p[i], true);
    o += p.byteLength;
  }
  const manifest: PrecomputedManifest = {
    version: 1,
    id: meta.id,
    title: meta.title,
    model: r.info.model,
    prompt: meta.prompt,
    tokenIds: r.tokenIds,
    tokens: r.tokens,
    info: r.info,
    dtype: 'float16',
    bin: `${meta.id}.bin`,
    byteLength: offset,
    tensors,
    lastLogits,
    generator: meta.generator,
  };
  return { manifest, bin };
}

function readHalf(buffer: ArrayBuffer, byteOffset: number, length: number): Float32Array {
  const view = new DataView(buffer, byteOffset, length * 2);
  const bits = new Uint16Array(length);
  for (let i = 0; i < length; i++) bits[i] = view.getUint16(i * 2, true);
  return decodeFloat16(bits);
}

/** Rebuild a prefill result from a manifest and its binary. */
export function decodePrecomputed(manifest: PrecomputedManifest, buffer: ArrayBuffer): PrecomputedPrefill {
  if (manifest.version !== 1 || manifest.dtype !== 'float16') {
    throw new Error(`unsupported precomputed file ${manifest.id}: version ${manifest.version}, dtype ${manifest.dtype}`);
  }
  if (buffer.byteLength < manifest.byteLength) {
    throw new Error(`precomputed data for ${manifest.id} is truncated (${buffer.byteLength} of ${manifest.byteLength} bytes)`);
  }
  const layers = manifest.info.layers;
  const keys: KVTensor[] = new Array(layers);
  const values: KVTensor[] = new Array(layers);
  const queries: KVTensor[] = [];
  for (const e of manifest.tensors) {
    const [heads, tokens, headDim] = e.shape;
    const t: KVTensor = { data: readHalf(buffer, e.byteOffset, heads * tokens * headDim), heads, tokens, headDim };
    if (e.kind === 'keys') keys[e.layer] = t;
    else if (e.kind === 'values') values[e.layer] = t;
    else queries[e.layer] = t;
  }
  return {
    kind: 'prefill',
    id: manifest.id,
    title: manifest.title,
    prompt: manifest.prompt,
    info: manifest.info,
    tokenIds: manifest.tokenIds,
    tokens: manifest.tokens,
    keys,
    values,
    queries: queries.length ? queries : null,
    lastLogits: readHalf(buffer, manifest.lastLogits.byteOffset, manifest.lastLogits.length),
    timings: { tokenizeMs: 0, forwardMs: 0, totalMs: 0 },
    truncated: null,
  };
}

/** Fetch `<id>.json` and its `.bin` (URL of the manifest, absolute or relative to the page). */
export async function loadPrecomputed(url: string | URL, init?: { signal?: AbortSignal }): Promise<PrecomputedPrefill> {
  const manifestUrl = new URL(url, typeof location === 'undefined' ? undefined : location.href);
  const res = await fetch(manifestUrl, { signal: init?.signal });
  if (!res.ok) throw new Error(`could not load ${manifestUrl.pathname} (HTTP ${res.status})`);
  const manifest = (await res.json()) as PrecomputedManifest;
  const binRes = await fetch(new URL(manifest.bin, manifestUrl), { signal: init?.signal });
  if (!binRes.ok) throw new Error(`could not load ${manifest.bin} (HTTP ${binRes.status})`);
  return decodePrecomputed(manifest, await binRes.arrayBuffer());
}
