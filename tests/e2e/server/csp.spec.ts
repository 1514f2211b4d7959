/**
 * The Content-Security-Policy of scripts/serve.mjs against the real pages: nothing the
 * pages do is refused (every `securitypolicyviolation` event is recorded from the first
 * script on), including the live model in its worker (WASM) and a widget in a frame.
 */
import { test, expect, expectClean } from '../support';

async function recordViolations(page: import('@playwright/test').Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
    );
  });
}
const violations = (page: import('@playwright/test').Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);

for (const path of [
  '/',
  '/articles/keys-and-values/',
  '/articles/does-the-model-notice/',
  '/instructors/',
  '/embed/quantizer/?theme=dark',
  '/embed/memory/',
]) {
  test(`${path}: no CSP violation`, async ({ page, log }) => {
    await recordViolations(page);
    const res = await page.goto(path);
    expect(res?.headers()['content-security-policy']).toBeTruthy();
    await page.waitForLoadState('networkidle');
    // Widgets that are on the page have built (their code, styles and tensors loaded).
    for (const w of await page.locator('.widget-body').all()) await expect(w).not.toBeEmpty();
    expect(await violations(page)).toEqual([]);
    expectClean(log);
  });
}

test('the live model runs under the policy (worker, ONNX Runtime WASM)', async ({ page, log }) => {
  test.setTimeout(180_000);
  await recordViolations(page);
  await page.goto('/lab/model-check');
  await page.locator('#run').click();
  await expect(page.locator('#status')).toHaveText(/^(Done\.|Error)/, { timeout: 150_000 });
  await expect(page.locator('#status')).toHaveText('Done.');
  expect(await violations(page)).toEqual([]);
  expectClean(log);
});
