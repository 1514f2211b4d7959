/**
 * Issue 17 item 9: status lines after a live run, and ?theme= in any letter case on the page itself.
 */
import { test, expect } from '../support';

for (const [name, tag] of [
  ['kv-explorer', 'kv-explorer'],
  ['attention', 'kv-attention'],
] as const) {
  test(`${name}: the status line does not stay on "Running the prompt through the model…" after a live run`, async ({ page }) => {
    test.setTimeout(200_000);
    await page.goto(`/embed/${name}/`);
    const widget = page.locator(tag);
    const box = widget.getByRole('textbox', { name: 'Your own prompt' });
    // The precomputed example fills the box first; typing before that would be overwritten.
    await expect(box).not.toHaveValue('');
    await box.fill('The cat sat on the mat because it was warm.');
    await widget.getByRole('button', { name: 'Run the model on this text' }).click();
    // The picker writes the prompt to the URL once the live tensors are delivered.
    await expect(page).toHaveURL(/[?&]prompt=The/, { timeout: 180_000 });
    await expect(widget.getByRole('button', { name: 'Run the model on this text' })).toBeEnabled();
    await expect(widget.locator('.status')).not.toContainText('Running the prompt');
    await expect(widget.locator('.status')).not.toContainText('Loading the model');
    await expect(widget.locator('.status.error')).toHaveCount(0);
  });
}

for (const theme of ['DARK', 'Dark', ' dark ']) {
  test(`?theme=${JSON.stringify(theme)} darkens the page as well as the widget`, async ({ page }) => {
    await page.goto(`/embed/quantizer/?theme=${encodeURIComponent(theme)}`);
    await expect(page.locator('kv-quantizer')).toHaveAttribute('data-theme', 'dark');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  });
}
