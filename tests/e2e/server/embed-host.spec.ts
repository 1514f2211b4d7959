/**
 * public/embed-host.js on a course page of another origin (tests/e2e/embed/host.ts): it
 * resizes only iframes whose src is on the script's own origin and whose window sent the
 * message, and only within 50-10000 px.
 */
import { test, expect, LOCAL_ORIGIN } from '../support';
import { HOST_ORIGIN, hostPage, page as html, startHost, stopHost } from '../embed/host';

test.describe.configure({ mode: 'serial' });
test.beforeAll(startHost);
test.afterAll(stopHost);

const TYPE = 'kv-cache-lab:resize';

test('only frames of the site that sent the message are resized, within bounds', async ({ page, context }) => {
  await context.route(`${HOST_ORIGIN}/**`, (route) => route.continue());
  // A frame of the course page's own origin that claims to be a widget.
  hostPage(
    '/impostor.html',
    `<!doctype html><title>impostor</title><script>parent.postMessage({ type: '${TYPE}', height: 3333 }, '*');</script>`,
  );
  const url = hostPage(
    '/resize.html',
    html(
      'Course page',
      `<iframe id="site" src="${LOCAL_ORIGIN}/embed/memory/" title="site" height="150" sandbox="allow-scripts"></iframe>` +
        `<iframe id="other" title="other" height="150"></iframe>` +
        `<script src="${LOCAL_ORIGIN}/embed-host.js"></script>`,
    ),
  );
  await page.goto(url);
  const height = (id: string) => page.locator(`#${id}`).evaluate((f) => Number(f.getAttribute('height')));

  // The site's frame follows its content.
  await expect.poll(() => height('site')).toBeGreaterThan(300);

  // The impostor frame (another origin) posts a resize: ignored.
  await page.locator('#other').evaluate((f: HTMLIFrameElement, src) => (f.src = src), `${HOST_ORIGIN}/impostor.html`);
  await page.frameLocator('#other').locator('title').waitFor({ state: 'attached' });
  await page.waitForTimeout(300);
  expect(await height('other')).toBe(150);

  // The page itself posts a resize (event.source is not a frame): nothing changes.
  const before = await height('site');
  await page.evaluate((type) => window.postMessage({ type, height: 4444 }, '*'), TYPE);
  await page.waitForTimeout(300);
  expect(await height('site')).toBe(before);

  // The site's frame asks for absurd heights: clamped to 10000 and 50.
  const site = page.frames().find((f) => f.url().startsWith(`${LOCAL_ORIGIN}/embed/memory/`))!;
  await site.evaluate((type) => parent.postMessage({ type, height: 1e9 }, '*'), TYPE);
  await expect.poll(() => height('site')).toBe(10000);
  await site.evaluate((type) => parent.postMessage({ type, height: -5 }, '*'), TYPE);
  await expect.poll(() => height('site')).toBe(50);
});
