/**
 * Checking the model's files before transformers.js uses or keeps them.
 *
 * transformers.js 4.3.2 (`src/utils/hub.js` `loadResourceFile`) stores every file it fetched in
 * Cache Storage (`caches.open(env.cacheKey)`, default `'transformers-cache'`, `src/env.js`) under
 * the file's unversioned URL, and on later loads reads it from there without any check. So one bad
 * download (a truncated or damaged `model.onnx`, a captive portal's HTML page answering
 * `tokenizer.json` with status 200) broke every later load, and a redeploy never reached returning
 * readers. Here:
 *
 * - `scripts/model-manifest.mjs` writes `models/<id>/manifest.json` at build time (size + SHA-256
 *   of each file);
 * - `createVerifyingFetch` is installed as `env.fetch` (transformers.js 4.3.2 `getFile` calls
 *   `env.fetch(url, { headers })`): a manifest file is read whole, checked, fetched once more
 *   (bypassing the HTTP cache) if it does not match, and otherwise refused with a reason. A file
 *   that passes is handed on tagged with its hash (`x-kvlab-sha256`), the tag transformers.js copies
 *   into Cache Storage with the file;
 * - `pruneCache` runs before a load and deletes cached model files whose tag is missing or differs
 *   from the current manifest (written before this check existed, or for the previous deploy).
 *
 * Why a manifest and not content-versioned URLs: transformers.js builds the URL from
 * `env.localModelPath`, the model id and the file name, so versioning would mean a per-deploy
 * folder name the static server would have to know about; the tag costs one `cache.match` per file.
 *
 * The same fetch threads the load's AbortSignal into every request (cancel during a download) and
 * records network failures, which transformers.js otherwise turns into "file was not found locally"
 * (its `getFile` error is caught and logged, `loadResourceFile`).
 */

export const MANIFEST_FILE = 'manifest.json';
/** Header carried by verified responses into Cache Storage. */
export const HASH_HEADER = 'x-kvlab-sha256';

export interface ManifestFile {
  /** Relative to the model folder, forward slashes (e.g. `onnx/model.onnx`). */
  path: string;
  bytes: number;
  sha256: string;
}

export interface ModelManifest {
  model: string;
  version: string;
  files: ManifestFile[];
}

export type FailureKind = 'network' | 'http' | 'truncated' | 'size' | 'hash' | 'html' | 'aborted';

/** One file that could not be downloaded intact, after the retry. */
export interface FileFailure {
  url: string;
  /** Path within the model folder when the file is in the manifest, else the URL's last segment. */
  file: string;
  kind: FailureKind;
  detail: string;
}

export class FileIntegrityError extends Error {
  readonly failure: FileFailure;
  constructor(failure: FileFailure) {
    super(`${failure.file}: ${failure.detail}`);
    this.name = 'FileIntegrityError';
    this.failure = failure;
  }
}

export function isManifest(x: unknown): x is ModelManifest {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  return (
    typeof m.model === 'string' &&
    typeof m.version === 'string' &&
    Array.isArray(m.files) &&
    m.files.every(
      (f: unknown) =>
        typeof f === 'object' &&
        f !== null &&
        typeof (f as ManifestFile).path === 'string' &&
        Number.isInteger((f as ManifestFile).bytes) &&
        /^[0-9a-f]{64}$/.test((f as ManifestFile).sha256),
    )
  );
}

export async function sha256Hex(data: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data instanceof Uint8Array ? (data as Uint8Array<ArrayBuffer>) : data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Absolute URL of each manifest file under `modelUrl` (the model folder, ending in `/`). */
export function manifestUrls(manifest: ModelManifest, modelUrl: string): Map<string, ManifestFile> {
  const out = new Map<string, ManifestFile>();
  for (const f of manifest.files) out.set(new URL(f.path, modelUrl).href, f);
  return out;
}

const looksLikeHtml = (bytes: Uint8Array, contentType: string | null): boolean => {
  if (contentType && /text\/html/i.test(contentType)) return true;
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head') || head.startsWith('<body');
};

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Why `bytes` is not `expected` (null when it is). */
export async function checkBytes(
  bytes: Uint8Array,
  expected: ManifestFile,
  contentType: string | null,
): Promise<Omit<FileFailure, 'url' | 'file'> | null> {
  if (bytes.length !== expected.bytes) {
    if (looksLikeHtml(bytes, contentType) && !expected.path.endsWith('.html')) {
      return { kind: 'html', detail: 'the server answered with a web page instead of the file (a Wi-Fi login page or proxy?)' };
    }
    return bytes.length < expected.bytes
      ? { kind: 'truncated', detail: `the download stopped early (${mb(bytes.length)} of ${mb(expected.bytes)})` }
      : { kind: 'size', detail: `the file has ${bytes.length} bytes, this site's build lists ${expected.bytes}` };
  }
  const hash = await sha256Hex(bytes);
  if (hash !== expected.sha256)
    return { kind: 'hash', detail: 'the file arrived damaged (its SHA-256 differs from the one this site was built with)' };
  return null;
}

export interface VerifyingFetchOptions {
  /** The model folder's absolute URL, ending in `/`. */
  modelUrl: string;
  manifest: ModelManifest | null;
  /** Aborts every request of this load. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export interface VerifyingFetch {
  (input: string | URL, init?: RequestInit): Promise<Response>;
  /** Failures seen so far (after retries), in order. */
  readonly failures: FileFailure[];
}

const fileOf = (url: string, entry?: ManifestFile) =>
  entry?.path ??
  url
    .replace(/[?#].*$/, '')
    .split('/')
    .pop() ??
  url;

/**
 * A `fetch` for transformers.js's `env.fetch`. Manifest files: read whole, verified, fetched once
 * more with `cache: 'reload'` on a mismatch or HTTP error other than 404, and refused (a thrown
 * `FileIntegrityError`, recorded in `failures`) if the second copy is bad too. Other files of the
 * site (the ONNX Runtime .mjs/.wasm, content-hashed by Vite) are refetched once when the body falls
 * short of its `content-length`; other origins (Hub models) stream through untouched, with the signal.
 */
export function createVerifyingFetch(o: VerifyingFetchOptions): VerifyingFetch {
  const doFetch = o.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const byUrl = o.manifest ? manifestUrls(o.manifest, o.modelUrl) : new Map<string, ManifestFile>();
  const failures: FileFailure[] = [];

  const fail = (url: string, entry: ManifestFile | undefined, f: Omit<FileFailure, 'url' | 'file'>): never => {
    const failure: FileFailure = { url, file: fileOf(url, entry), ...f };
    failures.push(failure);
    throw new FileIntegrityError(failure);
  };

  const attempt = async (url: string, init: RequestInit | undefined, entry: ManifestFile | undefined, retry: boolean) => {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, signal: o.signal, ...(retry ? { cache: 'reload' as RequestCache } : {}) });
    } catch (err) {
      if (o.signal?.aborted) return fail(url, entry, { kind: 'aborted', detail: 'the download was cancelled' });
      return { failure: { kind: 'network' as const, detail: `the connection failed (${String((err as Error)?.message ?? err)})` } };
    }
    // 404 is transformers.js's "not found" (an optional file such as generation_config.json may be absent).
    if (res.status === 404) return { response: res };
    if (!res.ok) return { failure: { kind: 'http' as const, detail: `the server answered HTTP ${res.status}` } };
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (o.signal?.aborted) return fail(url, entry, { kind: 'aborted', detail: 'the download was cancelled' });
      return {
        failure: {
          kind: 'network' as const,
          detail: `the connection broke during the download (${String((err as Error)?.message ?? err)})`,
        },
      };
    }
    const headers = new Headers(res.headers);
    if (entry) {
      const bad = await checkBytes(bytes, entry, res.headers.get('content-type'));
      if (bad) return { failure: bad };
      headers.set(HASH_HEADER, entry.sha256);
    } else {
      const declared = Number(res.headers.get('content-length'));
      if (!res.headers.get('content-encoding') && Number.isFinite(declared) && declared > 0 && declared !== bytes.length) {
        return { failure: { kind: 'truncated' as const, detail: `the download stopped early (${bytes.length} of ${declared} bytes)` } };
      }
    }
    headers.set('content-length', String(bytes.length));
    headers.delete('content-encoding');
    return { response: new Response(bytes as Uint8Array<ArrayBuffer>, { status: res.status, statusText: res.statusText, headers }) };
  };

  const verifying = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), o.modelUrl).href;
    const entry = byUrl.get(url);
    if (!entry && new URL(url).origin !== new URL(o.modelUrl).origin) {
      // Hub files: streamed through untouched (transformers.js reports their progress), only abortable.
      try {
        return await doFetch(url, { ...init, signal: o.signal });
      } catch (err) {
        if (o.signal?.aborted) return fail(url, entry, { kind: 'aborted', detail: 'the download was cancelled' });
        return fail(url, entry, { kind: 'network', detail: `the connection failed (${String((err as Error)?.message ?? err)})` });
      }
    }
    const first = await attempt(url, init, entry, false);
    if (first.response) return first.response;
    const second = await attempt(url, init, entry, true);
    if (second.response) return second.response;
    return fail(url, entry, second.failure);
  };
  return Object.assign(verifying, { failures });
}

/** The subset of the Cache API `pruneCache` needs. */
export interface CacheLike {
  match(key: string): Promise<Response | undefined>;
  delete(key: string): Promise<boolean>;
}

/**
 * Delete cached copies of manifest files that were not verified against this manifest (no tag, or
 * another hash). Returns the deleted URLs.
 */
export async function pruneCache(cache: CacheLike, manifest: ModelManifest, modelUrl: string): Promise<string[]> {
  const removed: string[] = [];
  for (const [url, f] of manifestUrls(manifest, modelUrl)) {
    const hit = await cache.match(url);
    if (!hit) continue;
    if (hit.headers.get(HASH_HEADER) === f.sha256) continue;
    if (await cache.delete(url)) removed.push(url);
  }
  return removed;
}

/** Delete every cached copy of the manifest's files and of `extra` URLs (after a failed load). */
export async function evictAll(
  cache: CacheLike,
  manifest: ModelManifest | null,
  modelUrl: string,
  extra: readonly string[] = [],
): Promise<string[]> {
  const urls = [...(manifest ? manifestUrls(manifest, modelUrl).keys() : []), ...extra];
  const removed: string[] = [];
  for (const url of urls) if (await cache.delete(url)) removed.push(url);
  return removed;
}

/** A reader-facing sentence for the failures of one load (null when there were none). */
export function describeFailures(failures: readonly FileFailure[]): { kind: FailureKind; message: string; action: string } | null {
  const f = failures.find((x) => x.kind !== 'aborted') ?? failures[0];
  if (!f) return null;
  switch (f.kind) {
    case 'aborted':
      return { kind: 'aborted', message: 'The download was cancelled.', action: 'Start it again when you are ready.' };
    case 'network':
      return {
        kind: 'network',
        message: `The model's file ${f.file} could not be downloaded: ${f.detail}.`,
        action: 'Check your connection and try again; the files that arrived intact are kept.',
      };
    case 'html':
      return {
        kind: 'html',
        message: `The model's file ${f.file} could not be downloaded: ${f.detail}.`,
        action: 'Sign in to the network (or open any web page to see its login page), then try again; nothing wrong was kept.',
      };
    default:
      return {
        kind: f.kind,
        message: `The model's file ${f.file} arrived damaged twice: ${f.detail}.`,
        action: 'Try again later or on another connection; the damaged copy was not kept, so nothing needs clearing.',
      };
  }
}
