/**
 * Issue 17 item 1's siblings: the service worker's caches must not keep a bad download either
 * (scripts/service-worker.mjs). A captive portal's login page answers, once, a request the service
 * worker makes; the bad answer must not end up in Cache Storage, and the site must work after a reload.
 *
 * Chromium sends a service worker's own fetches through the context's routes (`request.serviceWorker()`
 * is set on them); each test asserts its route saw such a request, so a Playwright change there would
 * fail the test rather than make it pass vacuously.
 */
import type { Page, Route } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, expectClean } from '../support';

test.use({ serviceWorkers: 'allow' });

const DIST = process.env.E2E_DIST ?? 'dist';
const PORTAL = '<!doctype html><html><head><title>Sign in to Wi-Fi</title></head><body>Accept the terms</body></html>';
const portal = (route: Route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: PORTAL });

/** Bodies (as text) of every Cache Storage entry whose URL path ends with `suffix`, in every cache. */
function cachedBodies(page: Page, suffix: string): Promise<{ cache: string; url: string; text: string }[]> {
  return page.evaluate(async (suffix) => {
    const out: { cache: string; url: string; text: string }[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const req of await cache.keys()) {
        if (!new URL(req.url).pathname.endsWith(suffix)) continue;
        const res = await cache.match(req);
        out.push({ cache: name, url: req.url, text: res ? await res.text() : '' });
      }
    }
    return out;
  }, suffix);
}

/** Wait until the service worker's first install has ended; true if a worker is active. */
async function installSettled(page: Page): Promise<boolean> {
  let active = false;
  await expect
    .poll(async () => {
      const s = await page.evaluate(async () => {
        const reg = await navigator.serviceWorker.getRegistration();
        return { busy: !!(reg?.installing || reg?.waiting), active: !!reg?.active };
      });
      active = s.active;
      return s.busy;
    })
    .toBe(false);
  return active;
}

test('a login page answering a precached file during install is not cached; after a reload the real file is, and works offline', async ({
  page,
  context,
  log,
}) => {
  test.setTimeout(90_000);
  const real = readFileSync(join(DIST, 'precomputed/index.json'), 'utf8');
  let portalServed = 0;
  await context.route(
    (url) => url.pathname.endsWith('/precomputed/index.json'),
    (route) => {
      // Only the service worker's install fetch (the page's own fetch of the file is not in question).
      if (route.request().serviceWorker() && portalServed === 0) {
        portalServed++;
        return portal(route);
      }
      return route.fallback();
    },
  );

  await page.goto('/');
  await expect.poll(() => portalServed).toBe(1);
  // With integrity on the precache entry the fetch fails its SRI check, so the install fails
  // (no worker becomes active); without, the page was stored and the worker activated.
  await installSettled(page);
  for (const entry of await cachedBodies(page, '/precomputed/index.json')) expect(entry.text, entry.url).toBe(real);

  // The next visit registers again; the network is fine now, so the install completes.
  await page.reload();
  await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  const entries = await cachedBodies(page, '/precomputed/index.json');
  expect(entries.length).toBeGreaterThan(0);
  for (const entry of entries) expect(entry.text, entry.url).toBe(real);

  await context.setOffline(true);
  try {
    await page.goto('/embed/quantizer/');
    const w = page.locator('kv-quantizer');
    await expect(w.locator('.metrics-table td').first()).toHaveText(/\d/);
    await expect(w.locator('.status.error')).toHaveCount(0);
    await page.waitForLoadState('networkidle');
  } finally {
    await context.setOffline(false);
  }
  expectClean(log);
});

test('a login page answering an ONNX Runtime file is not cached; the next request fetches and caches the real one', async ({
  page,
  context,
}) => {
  test.setTimeout(90_000);
  const name = readdirSync(join(DIST, '_astro')).find((n) => /^ort-wasm-simd-threaded-[^.]+\.wasm$/.test(n));
  expect(name, 'the build has the plain SIMD ORT wasm').toBeDefined();
  const bytes = readFileSync(join(DIST, '_astro', name!));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let swRequests = 0;
  await context.route(`**/_astro/${name}`, (route) => {
    if (!route.request().serviceWorker()) return route.fallback();
    return swRequests++ === 0 ? portal(route) : route.fallback();
  });

  await page.goto('/');
  await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  // clientsClaim: the page comes under the worker's control once it activates.
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  const fetchOrt = (url: string) =>
    page.evaluate(async (url) => {
      const res = await fetch(url);
      const buf = await res.arrayBuffer();
      return { status: res.status, type: res.headers.get('content-type'), bytes: buf.byteLength };
    }, url);
  const url = `/_astro/${name}`;

  const first = await fetchOrt(url);
  // The page gets what the network gave (ONNX Runtime would then fail to start, as without a worker).
  expect(first.type).toMatch(/text\/html/);
  expect(swRequests).toBe(1);

  const second = await fetchOrt(url);
  expect(second).toEqual({ status: 200, type: 'application/wasm', bytes: bytes.length });
  // The login page was not kept, so this one went to the network again (CacheFirst would otherwise serve it).
  expect(swRequests).toBe(2);
  // The real file is stored (after its hash check, off the response path): poll for it, then check its bytes.
  const cachedSha = () =>
    page.evaluate(async (url) => {
      const res = await (await caches.open('kvlab-runtime')).match(new URL(url, location.href).href);
      if (!res) return null;
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await res.arrayBuffer()));
      return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    }, url);
  await expect.poll(cachedSha).toBe(sha256);
  // A third request is served from the cache, not the network.
  expect((await fetchOrt(url)).bytes).toBe(bytes.length);
  expect(swRequests).toBe(2);
});
