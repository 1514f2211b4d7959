/** The instructors' page and the Embed panel of a chapter-mode widget (the live demo on that page). */
import { test, expect, expectClean, axeViolations } from '../support';
import { PARAMS } from '../../../src/widgets/shared/params';
import { WIDGETS } from '../widgets';

test('instructors page: parameters from the codecs, presets with snippets; axe clean light and dark', async ({ page, log }) => {
  await page.goto('/instructors/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('embed a widget');
  await expect(page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'For instructors' })).toBeVisible();
  // Every parameter some widget uses has a section, with its doc string.
  for (const name of ['bits', 'group', 'controls', 'theme'] as const) {
    await expect(page.locator(`#param-${name}`)).toBeVisible();
    await expect(page.locator(`section:has(#param-${name}) > p`).first()).toHaveText(PARAMS[name].doc);
  }
  // A widget's own parameters (declared in its state.ts, not shared) are listed too, with their doc.
  for (const [widget, name] of [
    ['generation', 'seed'],
    ['memory', 'gpu'],
    ['config', 'backend'],
  ] as const) {
    await expect(page.locator(`section:has(#param-${name}) > p`).first()).toHaveText(WIDGETS[widget].codec.specs[name].doc);
  }
  const presets = page.locator('section.preset');
  expect(await presets.count()).toBeGreaterThanOrEqual(1);
  for (const text of await page.locator('.snippet-text').evaluateAll((els) => els.map((e) => (e as HTMLTextAreaElement).value)))
    expect(text).toMatch(/^<iframe src="http[^"]+\/embed\/[a-z-]+\/\?[^"]*" title="[^"]+" loading="lazy"/);
  expect(await axeViolations(page)).toEqual([]);
  await page.emulateMedia({ colorScheme: 'dark' });
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('Embed panel: keyboard, current state, controls and theme choices, preview, Escape', async ({ page, log }) => {
  await page.goto('/instructors/');
  const widget = page.locator('kv-memory#demo');
  await expect(widget.locator('[data-metric="total"] .value')).toContainText('GB');
  const summary = widget.locator('.embed-panel > summary');
  await summary.focus();
  await page.keyboard.press('Enter');
  const code = widget.getByRole('textbox', { name: /Embed code/ });
  await expect(code).toBeFocused();
  await expect(code).toHaveValue(/\/embed\/memory\/\?model=llama-3-8b"/);
  await expect(code).toHaveValue(/sandbox="allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"/);
  await expect(code).toHaveValue(/height="780"/);
  const preview = widget.locator('iframe.embed-preview');
  await expect(preview).toHaveAttribute('src', /\/embed\/memory\/\?model=llama-3-8b$/);
  await expect(page.frameLocator('kv-memory#demo iframe.embed-preview').locator('kv-memory .widget')).toBeVisible();

  // Changing the widget updates the snippet (bits slider by keyboard).
  const bits = widget.getByRole('slider', { name: 'Bits' });
  await bits.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(code).toHaveValue(/bits=3/);
  await expect(page).toHaveURL(/demo\.bits=3/);

  // Only some controls: uncheck "model" by keyboard.
  const modelBox = widget.getByRole('checkbox', { name: 'model' });
  await modelBox.focus();
  await page.keyboard.press('Space');
  await expect(code).toHaveValue(/controls=tokens%2Cbatch/);
  await expect(code).not.toHaveValue(/controls=[^"]*model/);
  // Theme.
  await widget.getByRole('combobox', { name: 'Theme' }).selectOption('dark');
  await expect(code).toHaveValue(/theme=dark/);
  await expect(preview).toHaveAttribute('src', /theme=dark/);
  await expect(page.frameLocator('kv-memory#demo iframe.embed-preview').locator('kv-memory')).toHaveAttribute('data-theme', 'dark');
  // Strict sandbox.
  await widget.getByRole('combobox', { name: 'Sandbox' }).selectOption('strict');
  await expect(code).toHaveValue(/sandbox="allow-scripts"/);
  // Copy button works (clipboard or its visible fallback).
  await widget.getByRole('button', { name: 'Copy embed code' }).click();
  await expect(widget.locator('.embed-actions .copy-feedback')).not.toBeEmpty();
  expect(await axeViolations(page)).toEqual([]);

  // Escape closes and returns focus to the summary.
  await code.focus();
  await page.keyboard.press('Escape');
  await expect(widget.locator('.embed-panel')).not.toHaveAttribute('open', '');
  await expect(summary).toBeFocused();
  expectClean(log);
});
