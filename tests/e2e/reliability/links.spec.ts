/**
 * Issue 17 item 4: every link the site makes must open. A 2,000-character CJK prompt is 18,000
 * characters once percent-encoded; in the query it made Node's server answer 431 (header limit 16 KB).
 */
import { test, expect } from '../support';

const CJK = Array.from({ length: 2000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 37) % 20000))).join('');

test('Copy link with a 2,000-character CJK prompt opens, and restores the prompt', async ({ page, context }) => {
  test.setTimeout(120_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/embed/kv-explorer/');
  const widget = page.locator('kv-explorer');
  await expect(widget.locator('.widget-body')).not.toBeEmpty();
  await widget.evaluate((el, prompt) => (el as unknown as { setState(p: object): void }).setState({ prompt }), CJK);
  await widget.getByRole('button', { name: 'Copy link to this state' }).click();
  const link = await widget.getByRole('button', { name: 'Copy link to this state' }).getAttribute('data-copied');
  expect(link).toBeTruthy();
  const noteShown = await widget.locator('.link-note').isVisible();

  // From another document, so the browser really requests the link (not a same-page fragment change).
  await page.goto('about:blank');
  const response = await page.goto(link!);
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('textbox', { name: 'Your own prompt' })).toHaveValue(CJK);
  // The widget said the link keeps its settings after the "#".
  expect(noteShown).toBe(true);

  // The address bar the widget keeps up to date reloads too.
  const reload = await page.reload();
  expect(reload?.status()).toBe(200);
  await expect(page.getByRole('textbox', { name: 'Your own prompt' })).toHaveValue(CJK);
});
