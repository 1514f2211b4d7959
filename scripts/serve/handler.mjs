/**
 * The request handler of scripts/serve.mjs: serves a static build (dist/) and nothing
 * outside it, plus the one dynamic URL, <base>oembed.json?url=…, and the prerendered
 * oEmbed files <base>oembed/(embed|articles)/<name>.json answered with the origin the
 * client reached.
 *
 * What it guarantees (tests/unit/scripts/serve.test.ts):
 * - only GET/HEAD/OPTIONS (others 405 with Allow); `*`, absolute-form, bad escapes in the
 *   path, dot segments, NUL/backslash: 400; files are resolved inside the real path of the
 *   root (symlinks out of it are 404); `_server/` and dot files are not served;
 * - Range on every file (206, 416 for unsatisfiable ranges, If-Range);
 * - precompressed `.br`/`.gz` siblings (written by scripts/serve/postbuild.mjs) chosen per
 *   Accept-Encoding, with Vary: Accept-Encoding and their own Content-Length and ETag;
 * - ETag/Last-Modified revalidation (304); cache policy, content types, CSP and the
 *   other security headers from scripts/serve/http.mjs; CORS `*` on everything;
 * - every error answer is one log line (never a stack trace) and a short body.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import {
  ALLOW,
  COMPRESSIBLE,
  cacheControlFor,
  contentSecurityPolicy,
  contentTypeFor,
  inlineScriptHashes,
  logSafe,
  negotiateEncoding,
  parseRange,
  parseTarget,
} from './http.mjs';

/** Headers every answer carries. */
const COMMON = {
  // Sandboxed iframes (opaque origin) and the script-tag bundle on other sites load every
  // module, tensor and model file cross-origin; nothing here is private (no cookies).
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges, ETag',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

const HOST_RE = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The origin the client reached, from Host and X-Forwarded-Proto, or null when Host is not a plain host[:port]. */
export function requestOrigin(headers) {
  const host = headers.host;
  if (typeof host !== 'string' || !HOST_RE.test(host)) return null;
  const xfp = String(headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    .trim()
    .toLowerCase();
  return `${xfp === 'https' ? 'https' : 'http'}://${host.toLowerCase()}`;
}

async function* walk(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** The sha256 sources of every inline script of the built pages (one CSP for the whole site). */
export async function siteScriptHashes(root) {
  const all = new Set();
  for await (const file of walk(root)) {
    if (!file.endsWith('.html')) continue;
    for (const h of await inlineScriptHashes(await readFile(file, 'utf8'))) all.add(h);
  }
  return [...all].sort();
}

function etagMatches(header, etag) {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * @param {{
 *   root: string,
 *   base?: string,
 *   oembed?: null | ((o: { query: URLSearchParams, origin: string | null }) => { status: number, body: unknown }),
 *   log?: (line: string) => void,
 * }} o
 * @returns {Promise<(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void>}
 */
export async function createSiteHandler(o) {
  const root = await realpath(o.root);
  const base = (o.base ?? '/').replace(/\/?$/, '/');
  const log = o.log ?? ((line) => console.warn(line));
  const scriptHashes = await siteScriptHashes(root);
  const csp = {
    embed: contentSecurityPolicy({ embed: true, scriptHashes }),
    page: contentSecurityPolicy({ embed: false, scriptHashes }),
  };

  /** A short answer (errors, OPTIONS, oEmbed) with one log line for errors. */
  function answer(req, res, status, body, headers = {}, reason = '') {
    if (status >= 400) log(`${req.method} ${logSafe(req.url)} → ${status}${reason ? ` (${reason})` : ''}`);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      ...COMMON,
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  /** The regular file `rel` (relative to root) resolved inside root, or null. */
  async function fileAt(rel) {
    const full = join(root, rel);
    if (full !== root && !full.startsWith(root + sep)) return null;
    let st;
    try {
      st = await stat(full);
    } catch {
      return null;
    }
    if (st.isDirectory()) return fileAt(join(rel, 'index.html'));
    if (!st.isFile()) return null;
    // A symlink inside dist/ must not lead outside it.
    const real = await realpath(full);
    if (real !== root && !real.startsWith(root + sep)) return null;
    return { full: real, st };
  }

  async function variant(full, st, enc) {
    try {
      const v = await stat(`${full}.${enc === 'br' ? 'br' : 'gz'}`);
      // A stale variant (older than its file) is never sent.
      return v.isFile() && v.mtimeMs >= st.mtimeMs ? v : null;
    } catch {
      return null;
    }
  }

  async function sendFile(req, res, path, file, status) {
    const { full, st } = file;
    const ext = extname(full).toLowerCase();
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = {
      ...COMMON,
      'Content-Type': contentTypeFor(full),
      'Cache-Control': status === 200 ? cacheControlFor(path, base) : 'no-store',
      'Last-Modified': st.mtime.toUTCString(),
    };
    if (ext === '.html') {
      const embed = status === 200 && path.startsWith(`${base}embed/`);
      headers['Content-Security-Policy'] = embed ? csp.embed : csp.page;
      if (!embed) headers['X-Frame-Options'] = 'SAMEORIGIN';
    }
    const compressible = COMPRESSIBLE.has(ext);
    if (compressible) headers.Vary = 'Accept-Encoding';
    if (status !== 200) {
      const body = await readFile(full);
      res.writeHead(status, { ...headers, 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    headers['Accept-Ranges'] = 'bytes';

    const range = req.headers.range;
    const ifRange = req.headers['if-range'];
    const rangeApplies = range !== undefined && (ifRange === undefined || ifRange === etag || ifRange === headers['Last-Modified']);
    const r = rangeApplies ? parseRange(range, st.size) : null;
    if (r === 'unsatisfiable') {
      log(`${req.method} ${logSafe(req.url)} → 416 (range ${logSafe(range)} of ${st.size} bytes)`);
      res.writeHead(416, { ...COMMON, 'Content-Range': `bytes */${st.size}`, 'Content-Length': 0, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }

    let enc = null;
    let sendPath = full;
    let size = st.size;
    let tag = etag;
    if (!r && compressible) {
      const available = [];
      const vs = {};
      for (const e of /** @type {const} */ (['br', 'gzip'])) {
        const v = await variant(full, st, e);
        if (v) {
          available.push(e);
          vs[e] = v;
        }
      }
      enc = negotiateEncoding(req.headers['accept-encoding'], available);
      if (enc) {
        sendPath = `${full}.${enc === 'br' ? 'br' : 'gz'}`;
        size = vs[enc].size;
        tag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${enc}"`;
        headers['Content-Encoding'] = enc;
      }
    }
    headers.ETag = tag;

    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const notModified =
      inm !== undefined
        ? etagMatches(inm, tag) || etagMatches(inm, etag)
        : ims !== undefined && Date.parse(ims) >= Math.floor(st.mtimeMs / 1000) * 1000;
    if (notModified) {
      delete headers['Content-Encoding'];
      res.writeHead(304, headers);
      res.end();
      return;
    }

    if (r) {
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${r.start}-${r.end}/${st.size}`, 'Content-Length': r.end - r.start + 1 });
      if (req.method === 'HEAD') return void res.end();
      return pipe(req, res, createReadStream(full, { start: r.start, end: r.end }));
    }
    res.writeHead(200, { ...headers, 'Content-Length': size });
    if (req.method === 'HEAD') return void res.end();
    return pipe(req, res, createReadStream(sendPath));
  }

  function pipe(req, res, stream) {
    stream.on('error', (e) => {
      log(`${req.method} ${logSafe(req.url)} → read error (${e.code ?? e.message})`);
      res.destroy();
    });
    stream.pipe(res);
  }

  function oembedAnswer(req, res, query) {
    const { status, body } = o.oembed({ query, origin: requestOrigin(req.headers) });
    answer(
      req,
      res,
      status,
      body,
      {
        'Cache-Control': status === 200 ? 'public, max-age=3600' : 'no-store',
        // The snippet names the origin read from these.
        Vary: 'Host, X-Forwarded-Proto',
      },
      status >= 400 ? 'oembed' : '',
    );
  }

  async function handle(req, res) {
    const t = parseTarget(req.url);
    if (!t.ok) return answer(req, res, t.status, 'Bad request\n', {}, t.reason);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...COMMON,
        Allow: ALLOW,
        'Access-Control-Allow-Methods': ALLOW,
        'Access-Control-Allow-Headers': 'Range, If-None-Match, If-Modified-Since',
        'Access-Control-Max-Age': '86400',
        'Content-Length': 0,
      });
      return void res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(req, res, 405, 'Method not allowed\n', { Allow: ALLOW }, 'method');
    const { path } = t;
    if (!path.startsWith(base)) return notFound(req, res);
    const rel = path.slice(base.length);

    if (o.oembed) {
      if (rel === 'oembed.json') return oembedAnswer(req, res, new URLSearchParams(t.query));
      const m = /^oembed\/(embed|articles)\/([a-z0-9-]+)\.json$/.exec(rel);
      const origin = requestOrigin(req.headers);
      if (m && origin) {
        const q = new URLSearchParams(t.query);
        q.set('url', `${origin}${base}${m[1]}/${m[2]}/`);
        return oembedAnswer(req, res, q);
      }
    }

    if (rel.split('/').some((seg) => seg.startsWith('.')) || rel === '_server' || rel.startsWith('_server/') || rel === '_headers')
      return notFound(req, res);
    // The not-found page itself answers with its status, as every host does for its 404 page.
    if (/^404(\.html|\/)?$/.test(rel)) return notFound(req, res);
    const file = await fileAt(rel.endsWith('/') || rel === '' ? `${rel}index.html` : rel);
    const found = file ?? (rel && !rel.endsWith('/') && !extname(rel) ? await fileAt(`${rel}.html`) : null);
    if (!found) return notFound(req, res);
    return sendFile(req, res, path, found, 200);
  }

  async function notFound(req, res) {
    const page = await fileAt('404.html');
    if (!page) return answer(req, res, 404, 'Not found\n');
    log(`${req.method} ${logSafe(req.url)} → 404`);
    return sendFile(req, res, `${base}404.html`, page, 404);
  }

  return (req, res) => {
    handle(req, res).catch((e) => {
      log(`${req.method} ${logSafe(req.url)} → 500 (${logSafe(e?.message ?? e)})`);
      if (!res.headersSent) answer(req, res, 500, 'Internal error\n');
      else res.destroy();
    });
  };
}
