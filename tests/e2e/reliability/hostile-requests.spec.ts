/**
 * Issue 17 (reliability/security): the hostile-input corpora of the earlier probe, kept as a
 * regression suite against the served build (scripts/serve.mjs, scripts/serve/handler.mjs):
 * 1. path traversal, ≥ 2,000 raw request targets that must never reach a file outside dist/;
 * 2. method and header abuse (every method, malformed Range, odd Accept-Encoding, oversized
 *    queries) against what the server promises in scripts/serve/handler.mjs and http.mjs;
 * 3. oEmbed, ≥ 1,000 /oembed.json requests with hostile url/format/maxwidth values.
 * Inputs are generated (deterministic); each corpus prints one count line and asserts its
 * size, so it cannot shrink unnoticed.
 *
 * Requests go out through Node's http.request with the raw `path`: Playwright's request
 * context and every WHATWG URL parser resolve `..`, `%2e%2e` and `\` before sending
 * (https://url.spec.whatwg.org/#double-dot-path-segment), which would test the client, not
 * the server. The first test checks that what is sent is what arrives.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { test, expect } from '../support';
import { EMBEDDABLE } from '../widgets';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DIST = join(REPO, process.env.E2E_DIST ?? 'dist');
const CONCURRENCY = 8;
/** What the server answers to every method but these (scripts/serve/http.mjs ALLOW, handler.mjs). */
const ALLOW = 'GET, HEAD, OPTIONS';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Set when no HTTP answer came back (reset, timeout). */
  error?: string;
}

/** One request with the target exactly as given (no URL parsing, no normalisation). */
function rawRequest(
  base: string,
  o: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; agent?: http.Agent },
): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname,
      port: Number(u.port),
      method: o.method ?? 'GET',
      path: o.path,
      headers: o.headers,
      agent: o.agent,
      timeout: 20_000,
    });
    const collect = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.message }));
    };
    req.on('response', collect);
    // A CONNECT answer arrives as 'connect' (Node hands the socket over), whatever its status.
    req.on('connect', (res: http.IncomingMessage, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.code ?? e.message }));
    req.end();
  });
}

/** Run `fn` over `items`, `limit` at a time, results in input order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A Node stack frame (`    at fn (/path/file.mjs:12:5)`, `at file:///…:3:1`) or an `…Error:` line. */
const STACK_FRAME = /^\s*at\s.*?(?:file:\/\/|[A-Za-z]:\\|\/)[^\s():]+:\d+(?::\d+)?\)?\s*$/m;
const ERROR_LINE = /\b[A-Za-z]*Error: /;

/** Failures of one corpus: counted in full, the first few kept for the message. */
class Tally {
  requests = 0;
  fives = 0;
  failures: string[] = [];
  failed = 0;
  fail(what: string) {
    this.failed++;
    if (this.failures.length < 40) this.failures.push(what);
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');

// --- 1. path traversal -------------------------------------------------------------------

const PREFIXES = ['/', '/_astro/', '/models/', '/precomputed/', '/embed/quantizer/', '/articles/'];
/** One "up one level" step, spelled the ways servers have been fooled. */
const STEPS = [
  '../',
  '..%2f',
  '..%2F',
  '%2e%2e/',
  '%2e%2e%2f',
  '%2E%2E%2F',
  '%252e%252e%252f', // double-encoded
  '..\\',
  '..%5c',
  '%2e%2e%5c',
  '%c0%ae%c0%ae/', // overlong UTF-8 dots
  '..%c0%af', // overlong UTF-8 slash
  '\u00c0\u00ae\u00c0\u00ae/', // the same overlong bytes unencoded (sent as latin1 bytes C0 AE)
  '....//',
  '.%2e/',
  '%2e./',
  '%e3%80%82%e3%80%82/', // U+3002 ideographic full stop
  '%ef%bc%8e%ef%bc%8e/', // U+FF0E fullwidth full stop
  '%e2%80%a4%e2%80%a4/', // U+2024 one dot leader
  '%u002e%u002e/', // IIS %u escapes
  '..%00/', // NUL
  '..//', // doubled slash
  './../',
  '..;/',
  '..%252f',
];
const TARGETS = [
  'package.json',
  'astro.config.mjs',
  '.git/config',
  'src/lib/quant/hqq.ts',
  'scripts/serve.mjs',
  'etc/passwd',
  'node_modules/astro/package.json',
];
/** After the target: nothing, a query, a NUL, a fragment (raw `#` is sent as is). */
const ENDINGS = ['', '?x=1', '%00', '%00.html', '#', '#top', '?a=../../package.json', '?#/../../', '/', '%20'];

function traversalCorpus(): string[] {
  const out: string[] = [];
  let n = 0;
  for (const prefix of PREFIXES)
    for (const step of STEPS)
      for (const target of TARGETS) {
        // Three depths per combination, rotating so that every depth 1–8 meets every step.
        for (const d of [1 + (n % 8), 1 + ((n + 3) % 8), 1 + ((n + 5) % 8)]) {
          out.push(prefix + step.repeat(d) + target + ENDINGS[out.length % ENDINGS.length]);
        }
        n++;
      }
  // A leading doubled slash and a fragment before the steps.
  for (const target of TARGETS)
    for (let d = 1; d <= 8; d++) {
      out.push(`//${'../'.repeat(d)}${target}`);
      out.push(`/#/${'../'.repeat(d)}${target}`);
      out.push(`/embed/quantizer/?${'../'.repeat(d)}${target}`);
    }
  return out;
}

/** The real content of every target outside dist/ that exists on this machine. */
function targetContents(): { name: string; content: Buffer }[] {
  return TARGETS.map((t) => ({ name: t, path: t === 'etc/passwd' ? '/etc/passwd' : join(REPO, t) }))
    .filter((t) => existsSync(t.path))
    .map((t) => ({ name: t.name, content: readFileSync(t.path) }));
}

function leakOf(body: Buffer, files: { name: string; content: Buffer }[]): string | null {
  if (body.includes('root:x:0:0')) return 'root:x:0:0';
  for (const f of files) {
    if (body.equals(f.content)) return f.name;
    // Also a file wrapped in something else: its first 256 bytes are distinctive enough.
    if (f.content.length >= 64 && body.includes(f.content.subarray(0, 256))) return `${f.name} (embedded)`;
  }
  return null;
}

test('the raw sender puts each target on the wire unchanged (no client-side normalisation)', async () => {
  // The reason for it: a URL parser resolves the very spellings the corpus is made of.
  expect(new URL('/models/%2e%2e/..\\package.json', 'http://x').pathname).toBe('/package.json');
  // A bare TCP listener, not Node's HTTP parser (which refuses some of these bytes): it
  // records the request line as it arrived.
  const seen: string[] = [];
  const probe = net.createServer((socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      const eol = head.indexOf('\r\n');
      if (eol < 0) return;
      seen.push(head.slice(0, eol).split(' ')[1] ?? '');
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  try {
    const base = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    const sample = STEPS.map(
      (s, i) => PREFIXES[i % PREFIXES.length] + s.repeat(2) + TARGETS[i % TARGETS.length] + ENDINGS[i % ENDINGS.length],
    );
    for (const path of sample) await rawRequest(base, { path });
    expect(seen).toEqual(sample);
  } finally {
    probe.close();
  }
});

test('path traversal corpus: nothing outside dist/, no 5xx, no stack traces', async ({ baseURL }) => {
  test.setTimeout(120_000);
  const corpus = traversalCorpus();
  const files = targetContents();
  // package.json, the config and the sources at least: a leak check with nothing to compare is no check.
  expect(files.length).toBeGreaterThanOrEqual(5);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const t = new Tally();
  let leaks = 0;
  const statuses = new Map<number, number>();
  await pool(corpus, CONCURRENCY, async (path) => {
    const r = await rawRequest(baseURL!, { path, agent });
    t.requests++;
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.error) return t.fail(`${JSON.stringify(path)}: no answer (${r.error})`);
    if (r.status >= 500) {
      t.fives++;
      t.fail(`${JSON.stringify(path)}: ${r.status}`);
    }
    const leak = r.status === 200 ? leakOf(r.body, files) : null;
    if (leak) {
      leaks++;
      t.fail(`${JSON.stringify(path)}: 200 with the content of ${leak}`);
    }
    const text = r.body.toString('utf8');
    if (STACK_FRAME.test(text) || ERROR_LINE.test(text))
      t.fail(`${JSON.stringify(path)}: ${r.status}, body has a stack trace or error line`);
  });
  agent.destroy();
  console.log(
    `reliability: ${fmt(t.requests)} traversal requests, ${leaks} leaks, ${t.fives} 5xx ` +
      `(answers: ${[...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, c]) => `${s}×${fmt(c)}`)
        .join(', ')})`,
  );
  expect(t.requests).toBeGreaterThanOrEqual(2000);
  expect(t.failures, `${t.failed} failures`).toEqual([]);
  // The server is still there after the corpus.
  const home = await rawRequest(baseURL!, { path: '/' });
  expect(home.status).toBe(200);
  expect(home.body.toString('utf8')).toContain('<html');
});

// --- 2. methods and headers --------------------------------------------------------------

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'FOO'];

test('methods and headers: the answers scripts/serve promises, never a 5xx', async ({ baseURL }) => {
  test.setTimeout(120_000);
  const asset = readdirSync(join(DIST, '_astro')).find((n) => n.endsWith('.js'));
  expect(asset).toBeTruthy();
  const MODEL = '/models/kvlab-16m/config.json';
  const model = readFileSync(join(DIST, MODEL));
  const S = model.length;
  const PAGE = '/articles/keys-and-values/';
  const page = readFileSync(join(DIST, 'articles/keys-and-values/index.html'));
  const paths = { page: PAGE, asset: `/_astro/${asset}`, model: MODEL, missing: '/no-such-page/' };
  const found: Record<keyof typeof paths, boolean> = { page: true, asset: true, model: true, missing: false };

  interface Case {
    name: string;
    method?: string;
    path: string;
    headers?: http.OutgoingHttpHeaders;
    check: (r: RawResponse) => string | null;
  }
  const cases: Case[] = [];
  const status = (want: number, extra?: (r: RawResponse) => string | null) => (r: RawResponse) =>
    r.status !== want ? `status ${r.status}, want ${want}` : (extra?.(r) ?? null);

  // Methods: GET/HEAD as usual, OPTIONS 204, FOO (not a method Node's parser knows) the bare 400 of
  // serve.mjs's clientError, every other method 405 with Allow (handler.mjs).
  for (const method of METHODS)
    for (const [kind, path] of Object.entries(paths) as [keyof typeof paths, string][]) {
      let check: Case['check'];
      if (method === 'GET' || method === 'HEAD')
        check = status(found[kind] ? 200 : 404, (r) => (method === 'HEAD' && r.body.length ? 'HEAD answer has a body' : null));
      else if (method === 'OPTIONS') check = status(204, (r) => (r.headers.allow !== ALLOW ? `Allow ${r.headers.allow}` : null));
      else if (method === 'FOO') check = status(400);
      else check = status(405, (r) => (r.headers.allow !== ALLOW ? `Allow ${r.headers.allow}` : null));
      cases.push({ name: `${method} ${kind}`, method, path, check });
    }

  // Range on a model file (RFC 9110 §14.1.2, §14.2): unsatisfiable → 416 with `bytes */size`;
  // one satisfiable range → 206 with those bytes; anything else (several ranges, not bytes=,
  // malformed) may be ignored → 200 with the whole file.
  const whole = (r: RawResponse) => (r.status === 200 && r.body.equals(model) ? null : `status ${r.status}, want 200 with the whole file`);
  const unsat = (r: RawResponse) =>
    r.status === 416 && r.headers['content-range'] === `bytes */${S}`
      ? null
      : `status ${r.status} ${r.headers['content-range']}, want 416 bytes */${S}`;
  const part = (start: number, end: number) => (r: RawResponse) =>
    r.status === 206 && r.headers['content-range'] === `bytes ${start}-${end}/${S}` && r.body.equals(model.subarray(start, end + 1))
      ? null
      : `status ${r.status} ${r.headers['content-range']}, want 206 bytes ${start}-${end}/${S}`;
  const HUGE = '99999999999999999999';
  const ranges: [string, Case['check']][] = [
    ['bytes=5-1', unsat],
    ['bytes=-0', unsat],
    [`bytes=${S}-`, unsat],
    [`bytes=${S}-${S + 5}`, unsat],
    [`bytes=${HUGE}-`, unsat],
    [`bytes=${HUGE}-${HUGE}`, unsat],
    [`bytes=${'9'.repeat(400)}-`, unsat],
    // last-pos past the end, however large, means "to the end" (was 416 before this suite).
    [`bytes=0-${HUGE}`, part(0, S - 1)],
    [`bytes=0-${'9'.repeat(400)}`, part(0, S - 1)],
    [`bytes=-${HUGE}`, part(0, S - 1)],
    ['bytes=0-0', part(0, 0)],
    ['bytes=-1', part(S - 1, S - 1)],
    [`bytes=${S - 1}-`, part(S - 1, S - 1)],
    ['bytes=abc', whole],
    ['bytes=a-b', whole],
    ['bytes=-', whole],
    ['bytes=', whole],
    ['bytes', whole],
    ['items=0-5', whole],
    ['bytes=--1', whole],
    ['bytes=-1-2', whole],
    ['bytes=-5-10', whole],
    ['bytes=1.5-2', whole],
    ['bytes=0x10-0x20', whole],
    ['bytes=+1-2', whole],
    ['bytes=0-1,5-9', whole],
    ['bytes=0-10, 20-30', whole],
    [`bytes=${Array(200).fill('0-0').join(',')}`, whole],
    [`bytes=${Array.from({ length: 200 }, (_, i) => `${i}-${i + 1}`).join(',')}`, whole],
    ['bytes=5-1,0-0', whole],
    [`bytes=-${'1'.repeat(5000)}`, part(0, S - 1)],
  ];
  // Generated: every last-pos below its first-pos, and first-pos at and past the end.
  for (const k of [1, 2, 3, 10, 100, S - 1]) ranges.push([`bytes=${k}-${k - 1}`, unsat]);
  for (const k of [0, 1, 7, 1000, 2 ** 31, 2 ** 53 - 1]) ranges.push([`bytes=${S + k}-`, unsat]);
  for (const [range, check] of ranges) cases.push({ name: `Range ${range.slice(0, 60)}`, path: MODEL, headers: { range }, check });
  // If-Range that does not match: the range is ignored (§13.1.5).
  cases.push({ name: 'If-Range mismatch', path: MODEL, headers: { range: 'bytes=0-0', 'if-range': '"nope"' }, check: whole });
  cases.push({ name: 'If-Range garbage date', path: MODEL, headers: { range: 'bytes=0-0', 'if-range': 'yesterday' }, check: whole });

  // Accept-Encoding: whatever coding comes back must decode to the file itself; where every
  // precompressed coding is refused or none is asked for, none may be used.
  const refused = ['', 'identity', 'br;q=0, gzip;q=0', '*;q=0', 'compress', 'deflate', 'zstd', 'br;q=0,gzip;q=0,identity'];
  const odd = [
    '*',
    'br;q=abc',
    'br;q=-1',
    'br;q=1e999',
    'gzip;q=0.5, br;q=0.4',
    ',,,,',
    ';;;',
    'br;;q=1',
    'BR',
    'GZIP;Q=1',
    'identity;q=0',
    'x'.repeat(8000),
    Array(500).fill('br').join(','),
    'gzip, deflate, br, zstd',
  ];
  for (const [kind, path, file] of [
    ['page', PAGE, page],
    ['model', MODEL, model],
  ] as const) {
    const decoded = (r: RawResponse): string | null => {
      if (r.status !== 200) return `status ${r.status}`;
      const enc = r.headers['content-encoding'];
      let body: Buffer;
      try {
        body = enc === 'br' ? brotliDecompressSync(r.body) : enc === 'gzip' ? gunzipSync(r.body) : enc ? Buffer.alloc(0) : r.body;
      } catch (e) {
        return `${enc} body does not decode (${(e as Error).message})`;
      }
      return body.equals(file) ? null : `body (${enc ?? 'identity'}) is not the file`;
    };
    for (const ae of refused)
      cases.push({
        name: `Accept-Encoding ${JSON.stringify(ae)} ${kind}`,
        path,
        headers: { 'accept-encoding': ae },
        check: (r) => (r.headers['content-encoding'] ? `content-encoding ${r.headers['content-encoding']} was refused` : decoded(r)),
      });
    for (const ae of odd)
      cases.push({
        name: `Accept-Encoding ${JSON.stringify(ae.slice(0, 30))} ${kind}`,
        path,
        headers: { 'accept-encoding': ae },
        check: decoded,
      });
  }

  // Oversized queries: under Node's 16 KB header limit they are ordinary pages; over it,
  // serve.mjs's clientError answers a bare 400 (no 431, no stack).
  for (const kb of [8, 15]) cases.push({ name: `query ${kb} KB`, path: `${PAGE}?q=${'a'.repeat(kb * 1024)}`, check: status(200) });
  for (const kb of [20, 64]) cases.push({ name: `query ${kb} KB`, path: `${PAGE}?q=${'a'.repeat(kb * 1024)}`, check: status(400) });
  cases.push({ name: 'query of 2,000 %', path: `${PAGE}?${'%'.repeat(2000)}`, check: status(200) });

  // Conditional and other odd headers: ordinary answers.
  cases.push({ name: 'If-Modified-Since garbage', path: MODEL, headers: { 'if-modified-since': 'not a date' }, check: whole });
  cases.push({ name: 'If-None-Match *', path: MODEL, headers: { 'if-none-match': '*' }, check: status(304) });
  cases.push({
    name: 'If-None-Match 1,000 tags',
    path: MODEL,
    headers: { 'if-none-match': Array(1000).fill('"x"').join(', ') },
    check: whole,
  });
  cases.push({ name: 'Upgrade: websocket', path: PAGE, headers: { connection: 'Upgrade', upgrade: 'websocket' }, check: status(200) });
  cases.push({ name: 'Host evil.example', path: PAGE, headers: { host: 'evil.example' }, check: status(200) });
  cases.push({ name: 'X-Forwarded-Proto garbage', path: MODEL, headers: { 'x-forwarded-proto': 'javascript' }, check: whole });

  const t = new Tally();
  await pool(cases, CONCURRENCY, async (c) => {
    // No agent: CONNECT and the 400s close their connection.
    const r = await rawRequest(baseURL!, { method: c.method, path: c.path, headers: c.headers });
    t.requests++;
    if (r.error) return t.fail(`${c.name}: no answer (${r.error})`);
    if (r.status >= 500) t.fives++;
    const why = c.check(r);
    if (why) t.fail(`${c.name}: ${why}`);
    if (r.status >= 400 && (STACK_FRAME.test(r.body.toString('utf8')) || ERROR_LINE.test(r.body.toString('utf8'))))
      t.fail(`${c.name}: error body has a stack trace or error line`);
  });
  console.log(`reliability: ${fmt(t.requests)} method/header requests, ${t.failed} wrong answers, ${t.fives} 5xx`);
  expect(t.requests).toBeGreaterThanOrEqual(140);
  expect(t.fives).toBe(0);
  expect(t.failures, `${t.failed} failures`).toEqual([]);
  expect((await rawRequest(baseURL!, { path: '/' })).status).toBe(200);
});

// --- 3. oEmbed ---------------------------------------------------------------------------

const SLUGS = readdirSync(join(REPO, 'content/articles'))
  .filter((n) => n.endsWith('.mdx'))
  .map((n) => n.slice(0, -4))
  .sort();
/** Element ids the chapters give their widgets (`id="q1"`), read from the MDX. */
const ELEMENT_IDS = [
  ...new Set(
    SLUGS.flatMap((s) =>
      [...readFileSync(join(REPO, 'content/articles', `${s}.mdx`), 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]),
    ),
  ),
].sort();

/** Tails after a route; `keeps` when the URL still names that route (the answer must be 200). */
const TAILS: { tail: string; keeps: boolean }[] = [
  { tail: '', keeps: true },
  { tail: '?', keeps: true },
  { tail: '?%', keeps: true },
  { tail: '?%ZZ', keeps: true },
  { tail: '#%ZZ', keeps: true },
  { tail: '#q1', keeps: true },
  { tail: '#', keeps: true },
  ...ELEMENT_IDS.map((id) => ({ tail: `#${id}`, keeps: true })),
  ...ELEMENT_IDS.slice(0, 4).map((id) => ({ tail: `?${id}.bits=2&${id}.prompt=%3Cscript%3Ealert(1)%3C%2Fscript%3E#${id}`, keeps: true })),
  { tail: '?bits=<script>alert(1)</script>', keeps: true },
  { tail: '?bits="><script>alert(1)</script>&prompt="><img src=x onerror=alert(1)>', keeps: true },
  { tail: '?prompt=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E', keeps: true },
  { tail: '#"><img src=x onerror=alert(1)>', keeps: true },
  { tail: '?q1.bits=javascript:alert(1)&prompt=javascript:alert(1)#javascript:alert(1)', keeps: true },
  { tail: `?prompt=${'A'.repeat(6000)}`, keeps: true },
  { tail: `?prompt=${encodeURIComponent('日本語'.repeat(100))}`, keeps: true },
  { tail: `?${'%'.repeat(300)}`, keeps: true },
  { tail: 'index.html', keeps: true },
  { tail: '../../package.json', keeps: false },
  { tail: 'x/y/', keeps: false },
];

function oembedCorpus(origin: string): {
  path: string;
  url: string | null;
  format: string | null;
  maxwidth: string | null;
  maxheight: string | null;
  expect: 'own' | 'foreign' | 'any';
  route: string;
}[] {
  const routes = [...EMBEDDABLE.map((w) => `/embed/${w}/`), ...SLUGS.map((s) => `/articles/${s}/`)];
  const foreign = (route: string, tail: string) => [
    `http://evil.example${route}${tail}`,
    `https://evil.example${route}${tail}`,
    `//evil.example${route}${tail}`,
    `http://${new URL(origin).host}@evil.example${route}${tail}`, // the site as userinfo
    `http://${new URL(origin).hostname}.evil.example:${new URL(origin).port}${route}${tail}`,
    `${origin.replace(/^http:/, 'https:')}${route}${tail}`,
    `${origin}0${route}${tail}`,
    `javascript:alert(1)//${origin}${route}${tail}`,
    `data:text/html,<script>alert(1)</script>${route}`,
    `${route}${tail}`,
  ];
  const FORMATS = [null, 'json', 'xml', '', 'garbage', 'jsonp', '<script>', 'json%00', 'json ', 'XmL'];
  const SIZES = [
    null,
    '300',
    '100',
    '0',
    '-5',
    'abc',
    '1e3',
    '99999999999999999999',
    ' 400 ',
    '<script>',
    '300px',
    '',
    '250',
    '720',
    '1000',
  ];
  const out: ReturnType<typeof oembedCorpus> = [];
  let i = 0;
  const add = (route: string, url: string | null, kind: 'own' | 'foreign' | 'any', reps = 1) => {
    for (let k = 0; k < reps; k++, i++)
      out.push({
        path: '/oembed.json',
        url,
        format: FORMATS[i % FORMATS.length],
        maxwidth: SIZES[(i * 7) % SIZES.length],
        maxheight: SIZES[(i * 11 + 3) % SIZES.length],
        expect: kind,
        route,
      });
  };
  for (const route of routes) {
    for (const { tail, keeps } of TAILS) add(route, `${origin}${route}${tail}`, keeps ? 'own' : 'any', 2);
    TAILS.filter((_, j) => j % 3 === 0).forEach(({ tail }) => foreign(route, tail).forEach((u) => add(route, u, 'foreign')));
  }
  // No url at all, and odd url values.
  for (const u of [
    null,
    '',
    '%',
    '%ZZ',
    'http://',
    'http://[::1',
    ' ',
    'x'.repeat(10_000),
    `${origin}/`,
    `${origin}/embed/`,
    `${origin}/embed/nope/`,
  ])
    add('', u, 'any', 3);
  // The prerendered discovery answers go through the same code with the url set by the server.
  for (const route of routes) {
    const [, kind, name] = /^\/(embed|articles)\/([^/]+)\/$/.exec(route)!;
    for (let k = 0; k < 4; k++, i++)
      out.push({
        path: `/oembed/${kind}/${name}.json`,
        url: null,
        format: FORMATS[i % FORMATS.length],
        maxwidth: SIZES[(i * 7) % SIZES.length],
        maxheight: SIZES[(i * 11 + 3) % SIZES.length],
        expect: 'own',
        route,
      });
  }
  return out;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&quot;': '"', '&lt;': '<', '&gt;': '>', '&#39;': "'" };
const unescapeAttr = (s: string) => s.replace(/&(?:amp|quot|lt|gt|#39);/g, (e) => ENTITIES[e]);
/** A plain positive integer, as oEmbed's maxwidth/maxheight are (https://oembed.com §2.2). */
const plainInt = (s: string | null) => (s !== null && /^\d+$/.test(s) ? Number(s) : null);

test('oEmbed corpus: own-origin iframes only, foreign URLs 404, xml 501, never another 5xx', async ({ baseURL, request }) => {
  test.setTimeout(120_000);
  const origin = new URL(baseURL!).origin;
  const corpus = oembedCorpus(origin);
  /** Routes with an oEmbed answer: every embed page, and the chapters the build prerendered one for. */
  const answered = new Set([
    ...EMBEDDABLE.map((w) => `/embed/${w}/`),
    ...SLUGS.filter((s) => existsSync(join(DIST, 'oembed/articles', `${s}.json`))).map((s) => `/articles/${s}/`),
  ]);
  // Chapters without widgets exist (and get 404), but most have one.
  expect(answered.size).toBeGreaterThan(EMBEDDABLE.length);
  const t = new Tally();
  let ok200 = 0;
  await pool(corpus, CONCURRENCY, async (c) => {
    const q = new URLSearchParams();
    if (c.url !== null) q.set('url', c.url);
    if (c.format !== null) q.set('format', c.format);
    if (c.maxwidth !== null) q.set('maxwidth', c.maxwidth);
    if (c.maxheight !== null) q.set('maxheight', c.maxheight);
    const qs = q.toString();
    const target = `${c.path}${qs ? `?${qs}` : ''}`;
    const name = `${target.slice(0, 160)}${target.length > 160 ? '…' : ''}`;
    const res = await request.get(target, { failOnStatusCode: false });
    t.requests++;
    const status = res.status();
    const body = await res.text();
    const isJson = !c.format || c.format === 'json';
    const hasUrl = c.path !== '/oembed.json' || !!c.url;
    if (status >= 500 && !(status === 501 && !isJson)) t.fives++;
    if (STACK_FRAME.test(body) || ERROR_LINE.test(body)) t.fail(`${name}: body has a stack trace or error line`);
    if (!(res.headers()['content-type'] ?? '').startsWith('application/json'))
      t.fail(`${name}: content-type ${res.headers()['content-type']}`);

    // What oEmbed promises (https://oembed.com §2.3.4, §2.3.5) and src/widgets/embed/oembed.ts says.
    let want: number | null = null;
    if (!hasUrl) want = 400;
    else if (!isJson) want = 501;
    else if (c.expect === 'foreign') want = 404;
    else if (c.expect === 'own') want = answered.has(c.route) ? 200 : 404;
    if (want !== null && status !== want) return t.fail(`${name}: ${status}, want ${want}`);
    if (![200, 400, 404, 501].includes(status)) return t.fail(`${name}: ${status}`);
    if (status !== 200) return;

    ok200++;
    let j: { type?: unknown; version?: unknown; html?: unknown; width?: unknown; height?: unknown };
    try {
      j = JSON.parse(body);
    } catch {
      return t.fail(`${name}: 200 is not JSON`);
    }
    if (j.type !== 'rich' || j.version !== '1.0' || typeof j.html !== 'string') return t.fail(`${name}: not a rich 1.0 answer`);
    const html = j.html;
    // One iframe, every attribute double-quoted with no raw quote or angle bracket inside:
    // nothing can break out of an attribute or open another element.
    const m = /^<iframe((?: [a-z-]+="[^"<>]*")+)><\/iframe>$/.exec(html);
    if (!m) return t.fail(`${name}: html is not one well-formed iframe: ${html.slice(0, 200)}`);
    if (/<script/i.test(html) || /javascript:/i.test(html)) t.fail(`${name}: html has <script or javascript:`);
    const attrs = new Map([...m[1].matchAll(/ ([a-z-]+)="([^"]*)"/g)].map((a) => [a[1], unescapeAttr(a[2])]));
    const src = attrs.get('src') ?? '';
    let srcUrl: URL;
    try {
      srcUrl = new URL(src);
    } catch {
      return t.fail(`${name}: src ${src.slice(0, 100)} is not a URL`);
    }
    if (srcUrl.origin !== origin) t.fail(`${name}: src on ${srcUrl.origin}, not ${origin}`);
    const widget = /^\/embed\/([a-z0-9-]+)\/$/.exec(srcUrl.pathname)?.[1];
    if (!widget || !EMBEDDABLE.includes(widget)) t.fail(`${name}: src ${srcUrl.pathname} is not an embed route`);
    if (attrs.get('data-kv-cache-lab') !== widget) t.fail(`${name}: data-kv-cache-lab ${attrs.get('data-kv-cache-lab')} ≠ ${widget}`);
    if (c.route.startsWith('/embed/') && c.route !== `/embed/${widget}/`) t.fail(`${name}: answered for ${widget}`);
    // Sizes: within the site's limits, never above a plain maxwidth/maxheight the consumer gave
    // (unless that is below the 200 px the widgets need), and the iframe says the same.
    const w = Number(j.width);
    const h = Number(j.height);
    const mw = plainInt(c.maxwidth);
    const mh = plainInt(c.maxheight);
    if (!(w >= 200 && w <= 720) || (mw !== null && mw >= 200 && w > mw)) t.fail(`${name}: width ${w}`);
    if (!(h >= 200) || (mh !== null && mh >= 200 && h > mh)) t.fail(`${name}: height ${h}`);
    if (attrs.get('width') !== String(w) || attrs.get('height') !== String(h)) t.fail(`${name}: iframe size ≠ ${w}×${h}`);
  });
  console.log(`reliability: ${fmt(t.requests)} oEmbed requests, ${fmt(ok200)} answered 200, ${t.failed} wrong answers, ${t.fives} 5xx`);
  expect(t.requests).toBeGreaterThanOrEqual(1000);
  expect(ok200).toBeGreaterThan(100);
  expect(t.fives).toBe(0);
  expect(t.failures, `${t.failed} failures`).toEqual([]);
});
