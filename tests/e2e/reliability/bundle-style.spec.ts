/**
 * Issue 17 item 6: the script-tag bundle must not restyle its host. WordPress sidebars use
 * `<div class="widget">`; the bundle's stylesheet used to carry a global `.widget` rule.
 */
import http from 'node:http';
import { test, expect, LOCAL_ORIGIN } from '../support';

// A real server on another loopback port stands for the blog: a page answered by a Playwright route has no
// address, and Chromium's Private Network Access then refuses its requests to 127.0.0.1 (the bundle).
const PORT = Number(process.env.E2E_RELIABILITY_HOST_PORT ?? 4446);
const HOST = `http://127.0.0.1:${PORT}`;
let server: http.Server | null = null;
const PROPS = [
  'background-color',
  'color',
  'padding-top',
  'padding-left',
  'margin-bottom',
  'border-top-width',
  'border-top-style',
  'border-radius',
  'font-size',
  'font-family',
  'font-weight',
  'line-height',
  'display',
];

const hostHtml = (bundle: boolean) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Blog</title></head><body>
  <aside><div class="widget" id="host-widget"><p class="widget-title" id="host-title">Recent posts</p>
  <div class="widget-controls" id="host-controls"><button id="host-button">Subscribe</button><select id="host-select" aria-label="Month"><option>a</option></select></div>
  <p class="status" id="host-status">x</p><table class="data-table" id="host-table"><tr><td>1</td></tr></table></div></aside>
  ${bundle ? `<script type="module" src="${LOCAL_ORIGIN}/kv-cache-lab.js"></script>` : ''}<kv-memory model="llama-3-8b" bits="16" tokens="10000"></kv-memory></body></html>`;

test.beforeAll(async () => {
  // The same host markup without and with the bundle (a static <script> tag, as readers paste it).
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(hostHtml((req.url ?? '').startsWith('/with-bundle.html')));
  });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(PORT, '127.0.0.1', () => resolve());
  });
});
test.afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

test('a host page’s .widget elements keep their computed style after the bundle loads', async ({ page, context }) => {
  // Let the blog's origin through the log fixture's "local server only" rule.
  await context.route(`${HOST}/**`, (route) => route.continue());
  const ids = ['host-widget', 'host-title', 'host-controls', 'host-button', 'host-select', 'host-status', 'host-table'];
  const snapshot = () =>
    page.evaluate(
      ({ ids, props }) =>
        Object.fromEntries(
          ids.map((id) => [id, props.map((p) => `${p}: ${getComputedStyle(document.getElementById(id)!).getPropertyValue(p)}`)]),
        ),
      { ids, props: PROPS },
    );
  await page.goto(`${HOST}/plain.html`);
  const before = await snapshot();
  await page.goto(`${HOST}/with-bundle.html`);
  // The bundle did load and style its own widget.
  await expect(page.locator('kv-memory .widget-body')).not.toBeEmpty();
  await expect(page.locator('#kv-cache-lab-style')).toHaveCount(1);
  const ownPadding = await page
    .locator('kv-memory .widget')
    .first()
    .evaluate((e) => getComputedStyle(e).paddingTop);
  expect(ownPadding).not.toBe('0px');
  expect(await snapshot()).toEqual(before);
});
