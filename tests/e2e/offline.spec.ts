/**
 * Offline after the first visit: the service worker (dist/sw.js, scripts/service-worker.mjs)
 * precaches every page, script, style and precomputed tensor, so with the network gone a reader can
 * open chapters and embeds they never visited, with query strings, and the widgets draw real tensors.
 * The rest of the suite blocks service workers (playwright.config.ts) so that its request checks and
 * routes see every request; this file allows them.
 */
import { test, expect, expectClean } from './support';

test.use({ serviceWorkers: 'allow' });

test('after one visit, unvisited chapters and embeds open and draw offline', async ({ page, context, log }) => {
  test.setTimeout(90_000);
  await page.goto('/');
  // `ready` resolves once a worker is active, i.e. after its install step (the precache) has finished.
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

  await context.setOffline(true);
  try {
    await page.goto('/articles/keys-and-values/');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await page.waitForLoadState('networkidle'); // the chapter's widgets fetch tensors; leaving now would abort them
    await page.goto('/embed/quantizer/?bits=2&kaxis=channel');
    const w = page.locator('kv-quantizer');
    await expect(w.locator('.widget-body')).not.toBeEmpty();
    // The precomputed tensors arrived through the cache: the metrics table has numbers.
    await expect(w.locator('.metrics-table td').first()).toHaveText(/\d/);
    await expect(w.locator('.status.error')).toHaveCount(0);
    await page.waitForLoadState('networkidle');
    await page.goto('/glossary/');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  } finally {
    await context.setOffline(false);
  }
  expectClean(log);
});

test('a page outside the precache fails offline as the browser does, not with a stale page', async ({ page, context }) => {
  await page.goto('/');
  await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  await context.setOffline(true);
  try {
    const res = await page.goto('/no-such-page/').catch((e: Error) => e);
    // Either the browser's offline error or, if the server's 404 page was cached, a 404: never a 200 page.
    if (!(res instanceof Error)) expect(res?.status()).not.toBe(200);
  } finally {
    await context.setOffline(false);
  }
});
