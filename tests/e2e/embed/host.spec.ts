/**
 * Embeds on another origin: a host page served from a second local port (the test
 * server in ./host.ts) embeds every widget in <iframe sandbox="allow-scripts">
 * (opaque origin: no storage, CORS for every module script and tensor file) and
 * loads /embed-host.js to follow the content height; a plain HTML page on that
 * origin uses the script-tag bundle /kv-cache-lab.js.
 */
import { test, expect, LOCAL_ORIGIN } from '../support';
import { EMBEDDABLE, WIDGETS } from '../widgets';
import { HOST_ORIGIN, hostPage, page as html, startHost, stopHost } from './host';

test.describe.configure({ mode: 'serial' });
test.beforeAll(startHost);
test.afterAll(stopHost);

const widgets = EMBEDDABLE;

/** Let the host origin through the log fixture's "local only" rule (it stands for a course site). */
async function allowHost(context: import('@playwright/test').BrowserContext) {
  await context.route(`${HOST_ORIGIN}/**`, (route) => route.continue());
}

for (const name of widgets) {
  const info = WIDGETS[name];
  test(`${name}: works in <iframe sandbox="allow-scripts"> on another origin, and resizes`, async ({ page, context, log }) => {
    await allowHost(context);
    const src = `${LOCAL_ORIGIN}/embed/${name}/?theme=light`;
    const url = hostPage(
      `/sandbox-${name}.html`,
      html(
        `Course page with ${info.title}`,
        `<iframe id="f" src="${src}" title="${info.title}" width="100%" height="150" style="border:0" sandbox="allow-scripts" data-kv-cache-lab="${name}"></iframe><script src="${LOCAL_ORIGIN}/embed-host.js"></script>`,
      ),
    );
    await page.goto(url);
    const frame = page.frameLocator('#f');
    await expect(frame.locator(`${info.tag} .widget`)).toBeVisible();
    await expect(frame.locator(`${info.tag} .widget-body`)).not.toBeEmpty();
    await page.waitForLoadState('networkidle');
    await expect(frame.locator(`${info.tag} .status.error`)).toHaveCount(0);
    // The host script followed the content: taller than the 150 px it started with.
    await expect.poll(async () => Number(await page.locator('#f').getAttribute('height'))).toBeGreaterThan(300);
    const frameHeight = await page.locator('#f').evaluate((f) => f.getBoundingClientRect().height);
    expect(frameHeight).toBeGreaterThan(300);
    expect(log.externalRequests).toEqual([]);
    expect(log.failedRequests).toEqual([]);
    // A sandboxed frame cannot start the live model; widgets must not surface that as a console error.
    expect(log.consoleErrors.filter((e) => !/model cannot run in this browser or frame/.test(e))).toEqual([]);
  });
}

test('script tag: <kv-memory> and friends on a plain HTML page of another origin', async ({ page, context, log }) => {
  await allowHost(context);
  const extra = widgets.includes('quantizer') ? '<kv-quantizer bits="2" group="32"></kv-quantizer>' : '';
  const url = hostPage(
    '/script-tag.html',
    html(
      'Course page with the script-tag bundle',
      `<script type="module" src="${LOCAL_ORIGIN}/kv-cache-lab.js"></script><kv-memory model="llama-3-8b" bits="16" tokens="10000"></kv-memory>${extra}`,
    ),
  );
  await page.goto(url);
  // Llama-3-8B: 32 layers × 8 KV heads × 128 × 2 (K and V) × 2 bytes × 10,000 tokens = 1.31 GB.
  const expected = (32 * 8 * 128 * 2 * 2 * 10_000) / 1e9;
  await expect(page.locator('kv-memory [data-metric="total"] .value')).toContainText(`${expected.toFixed(2)} GB`);
  // Attributes mirror URL parameters: changing one redraws.
  await page.locator('kv-memory').evaluate((el) => el.setAttribute('bits', '8'));
  // int8, groups of 64, residual 128: 1 B + 4/64 B of scale and zero point per quantized element, fp16 residual.
  const perElem = 2 * 32 * 8 * 128;
  const int8 = (perElem * 9872 * (1 + 4 / 64) + perElem * 128 * 2) / 1e9;
  await expect(page.locator('kv-memory [data-metric="total"] .value')).toContainText(`${int8.toFixed(2)} GB`);
  // The host page's URL is untouched (url="none") and the widget CSS was injected.
  expect(new URL(page.url()).search).toBe('');
  await expect(page.locator('#kv-cache-lab-style')).toHaveCount(1);
  await expect(page.locator('kv-memory .widget')).toHaveCSS('border-top-style', 'solid');
  if (extra) {
    await expect(page.locator('kv-quantizer .widget-body')).not.toBeEmpty();
    await page.waitForLoadState('networkidle');
    await expect(page.locator('kv-quantizer .status.error')).toHaveCount(0);
  }
  // No Embed button outside chapters.
  await expect(page.locator('kv-memory .embed-panel')).toHaveCount(0);
  expect(log.externalRequests).toEqual([]);
  expect(log.failedRequests).toEqual([]);
  expect(log.consoleErrors).toEqual([]);
});

test('script tag on another origin: the trade-off sweep and the quantizer’s whole-cache row run in their workers', async ({
  page,
  context,
  log,
}) => {
  // A page cannot start `new Worker()` from another origin's script (SecurityError); before src/lib/portable-worker.ts
  // the trade-off widget drew no sweep here and the quantizer's whole-cache row never left "computing".
  await allowHost(context);
  const url = hostPage(
    '/script-tag-workers.html',
    html(
      'Course page with the trade-off and the quantizer',
      `<script type="module" src="${LOCAL_ORIGIN}/kv-cache-lab.js"></script><kv-tradeoff></kv-tradeoff><kv-quantizer></kv-quantizer>`,
    ),
  );
  await page.goto(url);
  await expect(page.locator('kv-tradeoff')).toHaveAttribute('data-sweep-done', 'true', { timeout: 90_000 });
  await expect(page.locator('kv-quantizer')).toHaveAttribute('data-whole', 'done');
  await expect(page.locator('kv-tradeoff .status.error, kv-quantizer .status.error')).toHaveCount(0);
  expect(await page.locator('kv-tradeoff svg circle, kv-tradeoff svg path').count()).toBeGreaterThan(10);
  expect(log.externalRequests).toEqual([]);
  expect(log.failedRequests).toEqual([]);
  expect(log.consoleErrors).toEqual([]);
});
