/**
 * scripts/serve (handler.mjs behind node:http) on an ephemeral port, serving a small
 * fixture build written here, with raw requests (node:http keeps the target as given, so
 * `/..`, `*` and bad escapes reach the server as a client could send them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gzipSync, gunzipSync } from 'node:zlib';
import { createSiteHandler } from '../../../scripts/serve/handler.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'kvlab-serve-'));
const root = join(tmp, 'dist');
const SECRET = 'outside the build output';
// The CSP Level 3 spec's hash example (https://www.w3.org/TR/CSP3/#grammardef-hash-source).
const INLINE = "alert('Hello, world.');";
const INLINE_HASH = "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='";
const MODEL = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 251));
const TOKENIZER = JSON.stringify({ vocab: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`token${i}`, i])) });

function write(rel: string, body: string | Buffer) {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), body);
}

let server: http.Server;
let port = 0;
const logs: string[] = [];

beforeAll(async () => {
  writeFileSync(join(tmp, 'secret.txt'), SECRET);
  write('index.html', `<!doctype html><title>home</title><script>${INLINE}</script>`);
  write('embed/memory/index.html', '<!doctype html><title>embed</title>');
  write('404.html', '<!doctype html><title>not found</title>');
  write('_astro/index.abc123.js', 'export const x = 1;\n'.repeat(200));
  write('_astro/ort.wasm', Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  write('_astro/ort.mjs', 'export {};');
  write('models/m/model.onnx', MODEL);
  write('models/m/model.safetensors', MODEL);
  write('models/m/tokenizer.json', TOKENIZER);
  write('models/m/tokenizer.json.br', brotliCompressSync(TOKENIZER));
  write('models/m/tokenizer.json.gz', gzipSync(TOKENIZER));
  write('_server/oembed-data.json', '{}');
  write('.hidden', 'dot file');
  symlinkSync(join(tmp, 'secret.txt'), join(root, 'leak.txt'));
  // A variant older than its file is stale and must not be served.
  write('stale.json', JSON.stringify({ fresh: true, pad: 'x'.repeat(2000) }));
  write('stale.json.br', brotliCompressSync(JSON.stringify({ fresh: false })));
  const old = new Date(Date.now() - 3600_000);
  utimesSync(join(root, 'stale.json.br'), old, old);

  const handler = await createSiteHandler({
    root,
    log: (line: string) => logs.push(line),
    // The oEmbed logic itself is tested in tests/unit/widgets/embed/oembed.test.ts; here, what
    // the server hands it: the query as parsed and the origin read from Host/X-Forwarded-Proto.
    oembed: ({ query, origin }: { query: URLSearchParams; origin: string | null }) => ({
      status: 200,
      body: { origin, query: [...query] },
    }),
  });
  server = http.createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(tmp, { recursive: true, force: true });
});

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function req(method: string, path: string, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((ok, fail) => {
    const r = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', fail);
    r.end();
  });
}
/** The log lines a request added. */
async function logged(run: () => Promise<Res>): Promise<[Res, string[]]> {
  const n = logs.length;
  const res = await run();
  return [res, logs.slice(n)];
}

describe('request targets', () => {
  it('a stray % in the query of a page is 200, not 400', async () => {
    const r = await req('GET', '/embed/memory/?prompt=50%');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('<title>embed</title>');
  });
  it.each([
    '/..',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/models/../../secret.txt',
    '/%ZZ',
    '/a%00b',
    '/..%5csecret.txt',
    '//secret.txt',
    '*',
  ])('GET %s → 400, one log line, no stack, nothing from outside the build', async (path) => {
    const [r, lines] = await logged(() => req('GET', path));
    expect(r.status).toBe(400);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/\n|\bat .+:\d+:\d+/);
    expect(r.body.toString()).not.toContain(SECRET);
    expect(r.body.toString()).not.toMatch(/\bat .+:\d+:\d+/);
  });
  it.each(['/leak.txt', '/_server/oembed-data.json', '/.hidden', '/nope/'])('GET %s → 404 page, one log line', async (path) => {
    const [r, lines] = await logged(() => req('GET', path));
    expect(r.status).toBe(404);
    expect(lines).toHaveLength(1);
    expect(r.body.toString()).toContain('<title>not found</title>');
    expect(r.body.toString()).not.toContain(SECRET);
  });
  it.each(['/404', '/404/', '/404.html'])('%s is the not-found page with status 404', async (path) => {
    const r = await req('GET', path);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toContain('<title>not found</title>');
  });
  it('pages resolve with and without the trailing slash', async () => {
    expect((await req('GET', '/embed/memory')).status).toBe(200);
    expect((await req('GET', '/')).body.toString()).toContain('<title>home</title>');
  });
});

describe('methods', () => {
  it.each(['POST', 'PUT', 'DELETE', 'TRACE', 'PATCH'])('%s on a static file → 405 with Allow', async (m) => {
    const r = await req(m, '/models/m/model.onnx');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, OPTIONS');
  });
  it('OPTIONS → 204 with CORS preflight answers', async () => {
    const r = await req('OPTIONS', '/models/m/model.onnx', {
      origin: 'null',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'range',
    });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-methods']).toContain('GET');
    expect(r.headers['access-control-allow-headers']).toMatch(/Range/);
  });
  it('HEAD → the headers of GET, no body', async () => {
    const r = await req('HEAD', '/models/m/model.onnx');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(MODEL.length));
    expect(r.body.length).toBe(0);
  });
});

describe('ranges', () => {
  it('serves a byte range of a model file', async () => {
    const r = await req('GET', '/models/m/model.onnx', { range: 'bytes=100-199' });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 100-199/${MODEL.length}`);
    expect(r.headers['content-length']).toBe('100');
    expect(r.body.equals(MODEL.subarray(100, 200))).toBe(true);
  });
  it('a suffix range is the last bytes', async () => {
    const r = await req('GET', '/models/m/model.onnx', { range: 'bytes=-10' });
    expect(r.status).toBe(206);
    expect(r.body.equals(MODEL.subarray(MODEL.length - 10))).toBe(true);
  });
  it.each(['bytes=5-1', `bytes=${4096}-`])('%s → 416 with Content-Range */size', async (range) => {
    const r = await req('GET', '/models/m/model.onnx', { range });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${MODEL.length}`);
  });
  it('If-Range with another validator sends the whole file', async () => {
    const r = await req('GET', '/models/m/model.onnx', { range: 'bytes=0-9', 'if-range': '"other"' });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(MODEL.length);
  });
});

describe('precompressed files', () => {
  it.each([
    ['br', 'gzip, deflate, br', (b: Buffer) => brotliDecompressSync(b)],
    ['gzip', 'gzip', (b: Buffer) => gunzipSync(b)],
  ] as const)('%s per Accept-Encoding, with its own Content-Length and Vary', async (enc, accept, decode) => {
    const r = await req('GET', '/models/m/tokenizer.json', { 'accept-encoding': accept });
    expect(r.headers['content-encoding']).toBe(enc);
    expect(r.headers.vary).toMatch(/Accept-Encoding/);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.body.length).toBeLessThan(TOKENIZER.length);
    expect(decode(r.body).toString()).toBe(TOKENIZER);
  });
  it('identity without Accept-Encoding, and for ranges', async () => {
    const plain = await req('GET', '/models/m/tokenizer.json');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(TOKENIZER);
    const part = await req('GET', '/models/m/tokenizer.json', { 'accept-encoding': 'br', range: 'bytes=0-4' });
    expect(part.headers['content-encoding']).toBeUndefined();
    expect(part.body.toString()).toBe(TOKENIZER.slice(0, 5));
  });
  it('a variant older than its file is not sent', async () => {
    const r = await req('GET', '/stale.json', { 'accept-encoding': 'br' });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(r.body.toString()).fresh).toBe(true);
  });
  it('revalidation: the ETag of what was sent gives 304', async () => {
    const first = await req('GET', '/models/m/tokenizer.json', { 'accept-encoding': 'br' });
    const again = await req('GET', '/models/m/tokenizer.json', { 'accept-encoding': 'br', 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });
});

describe('headers', () => {
  it('every answer: CORS *, nosniff, Referrer-Policy', async () => {
    for (const path of ['/', '/models/m/model.onnx', '/nope', '/%ZZ']) {
      const r = await req('GET', path);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    }
  });
  it('pages: CSP with the inline script hash; framing only for /embed/', async () => {
    const home = await req('GET', '/');
    expect(home.headers['content-security-policy']).toContain(INLINE_HASH);
    expect(home.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(home.headers['x-frame-options']).toBe('SAMEORIGIN');
    const embed = await req('GET', '/embed/memory/');
    expect(embed.headers['content-security-policy']).toContain('frame-ancestors *');
    expect(embed.headers['x-frame-options']).toBeUndefined();
  });
  it.each([
    ['/_astro/ort.wasm', 'application/wasm', 'public, max-age=31536000, immutable'],
    ['/_astro/ort.mjs', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/models/m/tokenizer.json', 'application/json; charset=utf-8', 'public, max-age=0, must-revalidate'],
    ['/models/m/model.safetensors', 'application/octet-stream', 'public, max-age=0, must-revalidate'],
  ])('%s: %s, %s', async (path, type, cache) => {
    const r = await req('GET', path);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe(cache);
  });
});

describe('oEmbed', () => {
  it('answers with the origin the client reached, and varies on what it read', async () => {
    const url = encodeURIComponent('https://lab.example/embed/memory/?bits=2');
    const r = await req('GET', `/oembed.json?url=${url}`, { host: 'lab.example', 'x-forwarded-proto': 'https' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({
      origin: 'https://lab.example',
      query: [['url', 'https://lab.example/embed/memory/?bits=2']],
    });
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers.vary).toMatch(/Host/);
    expect(r.headers.vary).toMatch(/X-Forwarded-Proto/);
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });
  it('a stray % in its query is read, not refused', async () => {
    const r = await req('GET', `/oembed.json?url=${encodeURIComponent('http://lab.example/embed/memory/')}&maxwidth=50%`, {
      host: 'lab.example',
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).query).toEqual([
      ['url', 'http://lab.example/embed/memory/'],
      ['maxwidth', '50%'],
    ]);
  });
  it('a Host that is not host[:port] gives no origin (the build-time site is used)', async () => {
    const r = await req('GET', '/oembed.json?url=x', { host: 'evil.example/"><script>' });
    expect(JSON.parse(r.body.toString()).origin).toBeNull();
  });
  it('the prerendered answer paths are answered for the origin reached', async () => {
    const r = await req('GET', '/oembed/embed/memory.json', { host: 'lab.example:8080' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({
      origin: 'http://lab.example:8080',
      query: [['url', 'http://lab.example:8080/embed/memory/']],
    });
  });
});
