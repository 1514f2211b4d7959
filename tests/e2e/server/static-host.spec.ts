/**
 * Any static host: dist/ served by Python's http.server (no CORS, no CSP, no special
 * logic at all, independent of scripts/serve.mjs). A chapter and an embed page render and
 * their widgets draw; the embed page's oEmbed discovery link names a file that host serves.
 * Port: E2E_STATIC_PORT (default 4443).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { test, expect } from '@playwright/test';

const PORT = Number(process.env.E2E_STATIC_PORT ?? 4443);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const DIST = process.env.E2E_DIST ?? 'dist';
let server: ChildProcess | null = null;

test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  server = spawn('python3', ['-m', 'http.server', String(PORT), '--bind', '127.0.0.1', '--directory', DIST], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${ORIGIN}/`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`python3 -m http.server did not start on ${PORT}`);
});
test.afterAll(() => {
  server?.kill('SIGTERM');
  server = null;
});

/** Console errors and failed requests of a page; requests must stay on the static host. */
function watch(page: import('@playwright/test').Page) {
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.url()} HTTP ${r.status()}`));
  page.on('request', (r) => !r.url().startsWith(ORIGIN) && !/^(data|blob):/.test(r.url()) && problems.push(`off-host: ${r.url()}`));
  return problems;
}

async function drawn(page: import('@playwright/test').Page, tag: string) {
  await expect(page.locator(`${tag} .widget`).first()).toBeVisible();
  await expect(page.locator(`${tag} .widget-body`).first()).not.toBeEmpty();
  // Drawn: an SVG or canvas with content in the widget body.
  await expect
    .poll(() =>
      page
        .locator(`${tag} .widget-body`)
        .first()
        .evaluate((b) => b.querySelectorAll('svg *, canvas').length),
    )
    .toBeGreaterThan(0);
  await page.waitForLoadState('networkidle');
  await expect(page.locator(`${tag} .status.error`)).toHaveCount(0);
}

test('a chapter renders and its widget draws', async ({ page }) => {
  const problems = watch(page);
  await page.goto(`${ORIGIN}/articles/keys-and-values/`);
  await expect(page.locator('h1')).toBeVisible();
  await drawn(page, 'kv-quantizer');
  expect(problems).toEqual([]);
});

test('an embed page renders, its widget draws, and its oEmbed discovery file is served', async ({ page, request }) => {
  const problems = watch(page);
  await page.goto(`${ORIGIN}/embed/memory/`);
  await drawn(page, 'kv-memory');
  const href = await page.locator('link[rel="alternate"][type="application/json+oembed"]').getAttribute('href');
  const res = await request.get(new URL(href!, page.url()).toString());
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body).toMatchObject({ version: '1.0', type: 'rich' });
  expect(body.html).toMatch(/^<iframe src="[^"]*\/embed\/memory\/"/);
  expect(problems).toEqual([]);
});
