import { test, expect, expectClean, builtPages, axeViolations } from './support';

const pages = builtPages();

test('the build has pages to check', () => {
  expect(pages).toContain('/');
  expect(pages.length).toBeGreaterThan(2);
});

for (const path of pages) {
  for (const scheme of ['light', 'dark'] as const) {
    test(`${path} (${scheme}): loads offline with no errors and passes axe`, async ({ page, log }) => {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      const response = await page.goto(path, { waitUntil: 'load' });
      await page.waitForLoadState('networkidle');
      if (path === '/404') {
        // The not-found page is served with its proper status; that one response is not a failure.
        expect(response?.status()).toBe(404);
        log.failedRequests = log.failedRequests.filter(
          (r) => !r.includes('(HTTP 404)') || !new URL(r.split(' ')[0]).pathname.startsWith('/404'),
        );
        log.consoleErrors = log.consoleErrors.filter((e) => !e.includes('status of 404'));
      } else {
        expect(response?.status()).toBe(200);
      }
      await expect(page.locator('main, [role="main"]').first()).toBeVisible();
      expect(await axeViolations(page)).toEqual([]);
      expectClean(log);
    });
  }
}

test('the build names no CDN or font host', async () => {
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = process.env.E2E_DIST ?? 'dist';
  const hits: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(html|js|mjs|css|json)$/.test(name)) {
        const text = readFileSync(p, 'utf8');
        for (const host of [
          'cdn.jsdelivr.net',
          'unpkg.com',
          'cdnjs.cloudflare.com',
          'fonts.googleapis.com',
          'fonts.gstatic.com',
          'esm.sh',
          'cdn.skypack.dev',
        ]) {
          if (text.includes(host)) hits.push(`${p}: ${host}`);
        }
      }
    }
  };
  walk(root);
  expect(hits).toEqual([]);
});
