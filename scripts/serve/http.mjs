/**
 * Pure pieces of the static server (no I/O): request-target checks, Range parsing,
 * Accept-Encoding negotiation, content types, cache policy and security headers.
 * scripts/serve/handler.mjs puts them together; tests/unit/scripts/ tests them.
 */
import { posix } from 'node:path';

/** Methods the site answers; everything else gets 405 with this Allow list. */
export const ALLOW = 'GET, HEAD, OPTIONS';

/**
 * The decoded pathname of a request target, or an error status:
 * - only origin-form targets (`/…`) are accepted: `*` (e.g. `GET *`), absolute-form and
 *   empty targets are 400;
 * - the path must be valid percent-encoding (a stray `%` in the PATH is 400; the query
 *   is never decoded here, so `?prompt=50%` is fine);
 * - no NUL, no backslash, no `.`/`..` segment after decoding (`/..`, `/%2e%2e/`), no
 *   leading `//` (would read as another host in a Location or a URL parser): 400.
 * Returns { path, query } with `query` the raw query string (without `?`).
 * @param {string | undefined} target
 * @returns {{ ok: true, path: string, query: string } | { ok: false, status: 400, reason: string }}
 */
export function parseTarget(target) {
  if (typeof target !== 'string' || !target.startsWith('/')) return { ok: false, status: 400, reason: 'not an origin-form target' };
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  const hash = rawPath.indexOf('#');
  const pathOnly = hash < 0 ? rawPath : rawPath.slice(0, hash);
  if (pathOnly.startsWith('//')) return { ok: false, status: 400, reason: 'path starts with //' };
  let path;
  try {
    path = decodeURIComponent(pathOnly);
  } catch {
    return { ok: false, status: 400, reason: 'bad percent-encoding in path' };
  }
  if (/[\0\\]/.test(path)) return { ok: false, status: 400, reason: 'NUL or backslash in path' };
  if (path.split('/').some((seg) => seg === '.' || seg === '..')) return { ok: false, status: 400, reason: 'dot segment in path' };
  return { ok: true, path, query };
}

/**
 * One byte range of a file of `size` bytes (RFC 9110 §14.1.2, §14.2):
 * - null when the header is absent or not a single well-formed `bytes=` range (then the
 *   whole file is sent with 200, as §14.2 allows a server to ignore Range);
 * - 'unsatisfiable' when the range is well-formed but selects no byte: first-pos past
 *   the end, a suffix of 0, or last-pos < first-pos (`bytes=5-1`; §14.1.1 calls that
 *   range-spec invalid, and answering 416 tells the client so rather than sending 5 MB);
 * - { start, end } inclusive, end clamped to size - 1.
 * @param {string | undefined} header
 * @param {number} size
 * @returns {null | 'unsatisfiable' | { start: number, end: number }}
 */
export function parseRange(header, size) {
  if (typeof header !== 'string') return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  // A last-pos at or past the end, however large, means "to the end" (§14.1.2): only
  // first-pos has to be a position (`bytes=0-99999999999999999999` is the whole file).
  const end = b === '' ? size - 1 : Number(b);
  if (!Number.isSafeInteger(start)) return 'unsatisfiable';
  if (end < start || start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/**
 * The content-coding to send among the precompressed ones available, per Accept-Encoding
 * (RFC 9110 §12.5.3): q-values honoured, `q=0` refuses, `*` counts for codings not named;
 * brotli preferred over gzip at equal q. null = identity.
 * @param {string | undefined} header
 * @param {readonly ('br' | 'gzip')[]} available
 * @returns {'br' | 'gzip' | null}
 */
export function negotiateEncoding(header, available) {
  if (!header || !available.length) return null;
  /** @type {Map<string, number>} */
  const q = new Map();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (Number.isFinite(weight)) q.set(name.trim(), weight);
  }
  const weightOf = (/** @type {string} */ c) => (q.has(c) ? q.get(c) : q.has('*') ? q.get('*') : 0);
  let best = null;
  let bestQ = 0;
  for (const c of ['br', 'gzip']) {
    if (!available.includes(/** @type {'br' | 'gzip'} */ (c))) continue;
    const w = weightOf(c) ?? 0;
    if (w > bestQ) {
      best = c;
      bestQ = w;
    }
  }
  return /** @type {'br' | 'gzip' | null} */ (best);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/** Content-Type by extension; unknown extensions are application/octet-stream (with nosniff). */
export function contentTypeFor(path) {
  return TYPES[/** @type {keyof typeof TYPES} */ (posix.extname(path).toLowerCase())] ?? 'application/octet-stream';
}

/** Extensions worth precompressing (text, JS, WASM, JSON/tokenizer, fonts, raw tensors). */
export const COMPRESSIBLE = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.json',
  '.map',
  '.txt',
  '.md',
  '.xml',
  '.svg',
  '.wasm',
  '.ttf',
  '.onnx',
  '.safetensors',
  '.bin',
  '.webmanifest',
]);

/**
 * Cache-Control by path: Vite's content-hashed files under `_astro/` never change
 * (`immutable`); everything else, the model files included, keeps a stable URL across
 * releases and so must be revalidated (ETag / Last-Modified make that a cheap 304).
 */
export function cacheControlFor(path, base = '/') {
  if (path.startsWith(`${base}_astro/`)) return 'public, max-age=31536000, immutable';
  return 'public, max-age=0, must-revalidate';
}

/**
 * Content-Security-Policy of an HTML page. What the built pages need:
 * - scripts: module scripts from the site, plus the embed pages' one inline theme script,
 *   allowed by its hash (computed from the built HTML, `inlineScriptHashes`);
 *   'wasm-unsafe-eval' for the quantization kernels' WebAssembly.instantiate;
 * - workers from the site (the model and sweep workers) and blob: URLs;
 * - styles: 'unsafe-inline' is needed: KaTeX and Shiki write style="…" attributes and
 *   Observable Plot inserts <style> elements into its SVGs at run time (no hash can cover
 *   those);
 * - images from the site and data: (Observable Plot draws colour legends as data:image/png);
 *   fonts (KaTeX) and fetches (tensors, model files) from the site only: the main-thread code
 *   makes no data:/blob: fetches (the model worker's own fetches are governed by the worker's
 *   policy, and its script is sent without one);
 * - frame-ancestors: only /embed/ pages may be framed by other sites; other pages only by
 *   the site itself (the instructors' page previews embeds).
 * @param {{ embed: boolean, scriptHashes: readonly string[] }} o
 */
export function contentSecurityPolicy(o) {
  const hashes = o.scriptHashes.map((h) => `'${h}'`).join(' ');
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval'${hashes ? ` ${hashes}` : ''}`,
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${o.embed ? '*' : "'self'"}`,
  ].join('; ');
}

/** sha256 source expressions of the inline <script> elements (no src) of an HTML page. */
export async function inlineScriptHashes(html) {
  const { createHash } = await import('node:crypto');
  const out = new Set();
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script\s*>/gi)) {
    const attrs = m[1] ?? '';
    if (/\ssrc\s*=/i.test(attrs)) continue;
    // Data blocks are never executed, so CSP does not apply to them.
    if (/\stype\s*=\s*["']?application\/(ld\+)?json/i.test(attrs)) continue;
    out.add(`sha256-${createHash('sha256').update(m[2], 'utf8').digest('base64')}`);
  }
  return [...out];
}

/** A request target made safe for one log line: no control characters, at most 200 characters. */
export function logSafe(s) {
  // Control characters (CR/LF would forge log lines) become '?'.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const t = String(s ?? '').replace(/[\x00-\x1f\x7f]/g, '?');
  return JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}…` : t);
}
