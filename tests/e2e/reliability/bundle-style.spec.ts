/**
 * Issue 17 item 6: the script-tag bundle must not restyle its host. WordPress sidebars use
 * `<div class="widget">`; the bundle's stylesheet used to carry a global `.widget` rule.
 */
import { test, expect, LOCAL_ORIGIN } from '../support';

// A loopback origin other than the site's (answered by the route below): Chromium's Private Network Access
// would block a public-looking host page from loading the bundle from 127.0.0.1.
const HOST = 'http://127.0.0.1:4446';
const PROPS = ['background-color', 'color', 'padding-top', 'padding-left', 'margin-bottom', 'border-top-width', 'border-top-style', 'border-radius', 'font-size', 'font-family', 'font-weight', 'line-height', 'display'];

test('a host page’s .widget elements keep their computed style after the bundle loads', async ({ page, context }) => {
  await context.route(`${HOST}/**`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Blog</title></head><body>
        <aside><div class="widget" id="host-widget"><p class="widget-title" id="host-title">Recent posts</p>
        <div class="widget-controls" id="host-controls"><button id="host-button">Subscribe</button><select id="host-select"><option>a</option></select></div>
        <p class="status" id="host-status">x</p><table class="data-table" id="host-table"><tr><td>1</td></tr></table></div></aside>
        <kv-memory model="llama-3-8b" bits="16" tokens="10000"></kv-memory></body></html>`,
    }),
  );
  await page.goto(`${HOST}/post.html`);
  const ids = ['host-widget', 'host-title', 'host-controls', 'host-button', 'host-select', 'host-status', 'host-table'];
  const snapshot = () =>
    page.evaluate(
      ({ ids, props }) => Object.fromEntries(ids.map((id) => [id, props.map((p) => getComputedStyle(document.getElementById(id)!).getPropertyValue(p))])),
      { ids, props: PROPS },
    );
  const before = await snapshot();
  await page.evaluate((src) => {
    const s = document.createElement('script');
    s.type = 'module';
    s.src = src;
    document.head.append(s);
  }, `${LOCAL_ORIGIN}/kv-cache-lab.js`);
  // The bundle did load and style its own widget.
  await expect(page.locator('kv-memory .widget-body')).not.toBeEmpty();
  await expect(page.locator('#kv-cache-lab-style')).toHaveCount(1);
  const ownPadding = await page.locator('kv-memory .widget').first().evaluate((e) => getComputedStyle(e).paddingTop);
  expect(ownPadding).not.toBe('0px');
  expect(await snapshot()).toEqual(before);
});
