/**
 * Embed routes, 404, oEmbed and hostile parameters, for every widget that has an
 * embed route (read from the widgets' own declarations, so new widgets are covered).
 */
import { test, expect, expectClean, axeViolations, LOCAL_ORIGIN } from '../support';
import { EMBEDDABLE, WIDGETS } from '../widgets';

const widgets = EMBEDDABLE;

/** Wait until the widget has built and settled (no error in its status line). */
async function expectWorkingWidget(page: import('@playwright/test').Page, tag: string) {
  const w = page.locator(`${tag} .widget`);
  await expect(w).toBeVisible();
  await expect(page.locator(`${tag} .widget-title`)).toBeVisible();
  await expect(page.locator(`${tag} .widget-body`)).not.toBeEmpty();
  await page.waitForLoadState('networkidle');
  await expect(page.locator(`${tag} .status.error`)).toHaveCount(0);
}

for (const name of widgets) {
  const info = WIDGETS[name];
  test.describe(`/embed/${name}/`, () => {
    test('renders with defaults, links to its chapter, has oEmbed discovery; axe clean light and dark', async ({ page, log }) => {
      await page.goto(`/embed/${name}/`);
      await expectWorkingWidget(page, info.tag);
      const credit = page.locator('.embed-credit a').first();
      await expect(credit).toHaveAttribute('href', new RegExp(`/(articles/${info.chapter}/)?$`));
      const link = page.locator('link[rel="alternate"][type="application/json+oembed"]');
      // Root-relative: the prerendered answer for the bare embed URL (scripts/serve.mjs answers it for the origin reached).
      await expect(link).toHaveAttribute('href', `/oembed/embed/${name}.json`);
      expect(await axeViolations(page)).toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await axeViolations(page)).toEqual([]);
      expectClean(log);
    });

    test('axe clean while its tensors are still loading', async ({ page, log }) => {
      // Held back so the loading state is what axe reads (an unnamed role="img" canvas hid there once).
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      await page.route(/\/(precomputed|models)\//, async (route) => {
        await released;
        await route.continue().catch(() => {});
      });
      await page.goto(`/embed/${name}/`);
      await expect(page.locator(`${info.tag} .widget`)).toBeAttached();
      expect(await axeViolations(page)).toEqual([]);
      release();
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      expect(log.consoleErrors).toEqual([]);
    });

    test('custom parameters: theme and controls apply', async ({ page, log }) => {
      // The first control the widget builds (controls= takes the names in data-control).
      await page.goto(`/embed/${name}/`);
      await expectWorkingWidget(page, info.tag);
      const shown = await page.locator(`${info.tag} .widget-controls > [data-control]`).first().getAttribute('data-control');
      await page.goto(`/embed/${name}/?theme=dark&controls=${shown}`);
      await expectWorkingWidget(page, info.tag);
      await expect(page.locator(info.tag)).toHaveAttribute('data-theme', 'dark');
      const roots = page.locator(`${info.tag} .widget-controls > [data-control]`);
      const n = await roots.count();
      for (let i = 0; i < n; i++) {
        const r = roots.nth(i);
        const c = await r.getAttribute('data-control');
        if (c !== shown) await expect(r, `control ${c} hidden`).toBeHidden();
      }
      expect(await axeViolations(page)).toEqual([]);
      expectClean(log);
    });

    test('garbage parameters: a note, a working widget, no script execution', async ({ page, log }) => {
      let dialogs = 0;
      page.on('dialog', (d) => {
        dialogs++;
        void d.dismiss();
      });
      const evil = '"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
      const q = new URLSearchParams({
        bits: '99999999999999999999',
        group: '-7',
        layer: '-1',
        head: '1e9',
        residual: 'NaN',
        tokens: '-3',
        theme: '<b>',
        controls: 'nope,<i>',
        prompt: evil,
        example: evil,
      });
      await page.goto(`/embed/${name}/?${q}`);
      await expectWorkingWidget(page, info.tag);
      await expect(page.locator(`${info.tag} .param-notes`)).toBeVisible();
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(await page.evaluate(() => [...document.scripts].some((s) => (s.textContent ?? '').includes('__pwned')))).toBe(false);
      expect(dialogs).toBe(0);
      // Requests to /x would be the injected image.
      expect(log.failedRequests.filter((r) => r.includes('/x '))).toEqual([]);
      expect(log.externalRequests).toEqual([]);
    });
  });
}

test('unknown widget: friendly 404 listing the widgets, status 404', async ({ page, log }) => {
  const res = await page.goto('/embed/not-a-widget/?bits=2');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  for (const name of widgets) await expect(page.locator(`a[href$="/embed/${name}/"]`)).toBeVisible();
  expect(await axeViolations(page)).toEqual([]);
  // The 404 itself is the point of this test.
  expect(log.failedRequests.filter((r) => !r.includes('/embed/not-a-widget/'))).toEqual([]);
  expect(log.externalRequests).toEqual([]);
});

test.describe('oEmbed', () => {
  test('a widget URL with parameters gives a valid rich response', async ({ request }) => {
    const name = widgets.includes('quantizer') ? 'quantizer' : widgets[0];
    const target = `${LOCAL_ORIGIN}/embed/${name}/?bits=2&group=32&controls=bits`;
    const res = await request.get(`/oembed.json?url=${encodeURIComponent(target)}&maxwidth=500&maxheight=400`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('application/json');
    const body = await res.json();
    expect(body).toMatchObject({
      version: '1.0',
      type: 'rich',
      provider_name: 'KV Cache Lab',
      provider_url: `${LOCAL_ORIGIN}/`,
      width: 500,
      height: 400,
    });
    expect(typeof body.title).toBe('string');
    expect(body.html).toMatch(/^<iframe [^<>]*><\/iframe>$/);
    expect(body.html).toContain(`src="${LOCAL_ORIGIN}/embed/${name}/?`);
    expect(body.html).toContain('bits=2');
    expect(body.html).toContain('group=32');
  });
  test('a chapter URL resolves to its widget', async ({ request }) => {
    const name = widgets[0];
    const res = await request.get(`/oembed.json?url=${encodeURIComponent(`${LOCAL_ORIGIN}/articles/${WIDGETS[name].chapter}/`)}`);
    expect(res.status()).toBe(200);
  });
  for (const url of [
    'https://example.com/embed/memory/',
    `${LOCAL_ORIGIN}/embed/nope/`,
    `${LOCAL_ORIGIN}/references/`,
    'javascript:alert(1)',
  ]) {
    test(`404 JSON for ${url}`, async ({ request }) => {
      const res = await request.get(`/oembed.json?url=${encodeURIComponent(url)}`);
      expect(res.status()).toBe(404);
      expect((await res.json()).error).toBeTruthy();
    });
  }
  test('400 without url', async ({ request }) => {
    const res = await request.get('/oembed.json');
    expect(res.status()).toBe(400);
    expect((await res.json()).error).toContain('url');
  });
});
