/**
 * scripts/serve.mjs in front of the real build: no on-demand routes beyond /oembed.json,
 * the answers of issue 17 (§2, §3, §5, §10), precompression, and the oEmbed chapter map
 * read from the built chapters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, LOCAL_ORIGIN } from '../support';

const DIST = process.env.E2E_DIST ?? 'dist';
const asset = (re: RegExp) => {
  const name = readdirSync(join(DIST, '_astro')).find((n) => re.test(n));
  if (!name) throw new Error(`no ${re} in ${DIST}/_astro`);
  return `/_astro/${name}`;
};

test('no image endpoint: /_image is an ordinary 404, and answers at once', async ({ request }) => {
  const res = await request.get('/_image?href=/figures/kv-cache-growth.svg&w=4000&f=avif');
  expect(res.status()).toBe(404);
  expect(res.headers()['content-type']).toContain('text/html');
});

test('a stray % in the query of a page is 200', async ({ request }) => {
  expect((await request.get('/embed/generation/?prompt=50%')).status()).toBe(200);
  expect((await request.get('/articles/keys-and-values/?q1.bits=%')).status()).toBe(200);
});

test('model files: ranges, 416, revalidation headers', async ({ request }) => {
  const onnx = readFileSync(join(DIST, 'models/kvlab-16m/onnx/model.onnx'));
  const part = await request.get('/models/kvlab-16m/onnx/model.onnx', { headers: { range: 'bytes=1000-1999' } });
  expect(part.status()).toBe(206);
  expect(part.headers()['content-range']).toBe(`bytes 1000-1999/${onnx.length}`);
  expect(Buffer.compare(await part.body(), onnx.subarray(1000, 2000))).toBe(0);
  const bad = await request.get('/models/kvlab-16m/config.json', { headers: { range: 'bytes=5-1' } });
  expect(bad.status()).toBe(416);
  const head = await request.head('/models/kvlab-16m/onnx/model.onnx');
  expect(head.headers()['cache-control']).toBe('public, max-age=0, must-revalidate');
  expect(head.headers()['etag']).toBeTruthy();
  expect(head.headers()['content-type']).toBe('application/octet-stream');
});

test('methods other than GET/HEAD/OPTIONS: 405 with Allow', async ({ request }) => {
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await request.fetch('/models/kvlab-16m/config.json', { method });
    expect(res.status()).toBe(405);
    expect(res.headers()['allow']).toBe('GET, HEAD, OPTIONS');
  }
});

test('precompressed: brotli for the model worker, ORT WASM and tokenizer, identical after decoding', async ({ request }) => {
  for (const path of [asset(/^model\.worker-.*\.js$/), asset(/^ort-wasm-simd-threaded.*\.wasm$/), '/models/kvlab-16m/tokenizer.json']) {
    const res = await request.get(path, { headers: { 'accept-encoding': 'br' } });
    expect(res.status(), path).toBe(200);
    expect(res.headers()['content-encoding'], path).toBe('br');
    expect(res.headers()['vary'], path).toContain('Accept-Encoding');
    expect(Number(res.headers()['content-length']), path).toBeLessThan(readFileSync(join(DIST, path)).length * 0.6);
    // The request context decodes the body: it must be the file itself.
    expect(Buffer.compare(await res.body(), readFileSync(join(DIST, path))), path).toBe(0);
  }
  const wasm = await request.head(asset(/^ort-wasm-simd-threaded.*\.wasm$/));
  expect(wasm.headers()['content-type']).toBe('application/wasm');
  expect(wasm.headers()['cache-control']).toContain('immutable');
});

test('security headers: CSP per page kind, nosniff, Referrer-Policy, CORS', async ({ request }) => {
  const chapter = await request.get('/articles/keys-and-values/');
  const embed = await request.get('/embed/quantizer/');
  for (const res of [chapter, embed]) {
    const h = res.headers();
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(h['access-control-allow-origin']).toBe('*');
    expect(h['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(h['content-security-policy']).toContain("worker-src 'self' blob:");
  }
  expect(chapter.headers()['content-security-policy']).toContain("frame-ancestors 'self'");
  expect(embed.headers()['content-security-policy']).toContain('frame-ancestors *');
});

test.describe('oEmbed', () => {
  const ask = (url: string) => `/oembed.json?url=${encodeURIComponent(url)}`;
  const src = async (res: import('@playwright/test').APIResponse) =>
    /src="([^"]*)"/.exec((await res.json()).html)?.[1].replace(/&amp;/g, '&');

  test('chapter fragments name the element: #q1, #gen1, #ppl1', async ({ request }) => {
    const q1 = await request.get(ask(`${LOCAL_ORIGIN}/articles/keys-and-values/?q1.bits=2&kv1.layer=3#q1`));
    expect(q1.status()).toBe(200);
    expect(await src(q1)).toBe(`${LOCAL_ORIGIN}/embed/quantizer/?bits=2`);
    expect(await src(await request.get(ask(`${LOCAL_ORIGIN}/articles/does-the-model-notice/#gen1`)))).toBe(
      `${LOCAL_ORIGIN}/embed/generation/`,
    );
    expect(await src(await request.get(ask(`${LOCAL_ORIGIN}/articles/does-the-model-notice/#ppl1`)))).toBe(
      `${LOCAL_ORIGIN}/embed/perplexity/`,
    );
  });
  test('#%ZZ in a chapter URL is not a 500', async ({ request }) => {
    const res = await request.get(ask(`${LOCAL_ORIGIN}/articles/keys-and-values/#%ZZ`));
    expect(res.status()).toBeLessThan(500);
    expect(res.headers()['content-type']).toContain('application/json');
  });
  test('the discovery link of an embed page answers, for the origin the page came from', async ({ page, request }) => {
    await page.goto('/embed/memory/');
    const href = await page.locator('link[rel="alternate"][type="application/json+oembed"]').getAttribute('href');
    const res = await request.get(new URL(href!, page.url()).toString());
    expect(res.status()).toBe(200);
    expect(res.headers()['vary']).toContain('Host');
    expect(await src(res)).toBe(`${LOCAL_ORIGIN}/embed/memory/`);
  });
});
