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
      await page.goto(path, { waitUntil: 'load' });
      await page.waitForLoadState('networkidle');
      await expect(page.locator('main, [role="main"]').first()).toBeVisible();
      expect(await axeViolations(page)).toEqual([]);
      expectClean(log);
    });
  }
}
