import { readFileSync } from 'node:fs';
import { test, expect, expectClean, axeViolations } from '../support';
import { decodePrecomputed, type PrecomputedIndex, type PrecomputedManifest } from '../../../src/lib/model/precomputed';
import { channelMaxAbs, outlierRatio } from '../../../src/widgets/kv-explorer/view';

/** The first precomputed example, decoded in Node from the same files the page loads. */
function firstExample() {
  const dir = 'public/precomputed';
  const index = JSON.parse(readFileSync(`${dir}/index.json`, 'utf8')) as PrecomputedIndex;
  const manifest = JSON.parse(readFileSync(`${dir}/${index.items[0].manifest}`, 'utf8')) as PrecomputedManifest;
  const bin = readFileSync(`${dir}/${manifest.bin}`);
  return decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

const rendered = async (page: import('@playwright/test').Page) => Number(await page.locator('kv-explorer').getAttribute('data-rendered'));

test('draws the first example at once; keyboard on layer and head changes the charts and the URL', async ({ page, log }) => {
  const ex = firstExample();
  await page.goto('/embed/kv-explorer/');
  const widget = page.locator('kv-explorer');
  await expect(widget).toHaveAttribute('data-rendered', /\d+/);
  const summary = widget.locator('.chart-summary').first();
  await expect(summary).toContainText('Layer 4, KV head 0');
  const layer = widget.getByRole('slider', { name: 'Layer' });
  await expect(layer).toHaveAttribute('aria-valuetext', 'layer 4');
  const keysCanvas = widget.locator('canvas.heatmap').first();
  const before = await rendered(page);
  await layer.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(/[?&]layer=5(&|$)/);
  await expect(keysCanvas).toHaveAttribute('aria-label', /layer 5, KV head 0/);
  expect(await rendered(page)).toBeGreaterThan(before);
  // Displayed ratio = the same computation on the same tensors in Node.
  const kRatio = outlierRatio(channelMaxAbs(ex.keys[5], 0));
  const vRatio = outlierRatio(channelMaxAbs(ex.values[5], 0));
  expect(Number(await summary.getAttribute('data-key-ratio'))).toBeCloseTo(kRatio, 9);
  expect(Number(await summary.getAttribute('data-value-ratio'))).toBeCloseTo(vRatio, 9);
  await expect(summary).toContainText(`${kRatio.toFixed(1)}× the median channel`);

  const head = widget.getByRole('slider', { name: 'KV head' });
  await head.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(/[?&]head=1(&|$)/);
  await expect(summary).toContainText('Layer 5, KV head 1');
  await expect(widget.locator('canvas.heatmap').nth(1)).toHaveAttribute('width', String(ex.keys[0].tokens));
  // The "−" stepper is keyboard operable.
  await widget.getByRole('button', { name: 'Decrease layer' }).press('Enter');
  await expect(layer).toHaveAttribute('aria-valuetext', 'layer 4');
  await expect(page).not.toHaveURL(/layer=/); // 4 is the default: dropped from the URL
  // The token list is in the table view.
  await widget.getByText('Show as table').last().click();
  await expect(widget.locator('details.data-table table').last()).toContainText(JSON.stringify(ex.tokens[0]));
  expectClean(log);
});

test('choosing another example redraws; a foreign prompt waits for the reader', async ({ page, log }) => {
  await page.goto('/embed/kv-explorer/');
  const widget = page.locator('kv-explorer');
  await expect(widget).toHaveAttribute('data-rendered', /\d+/);
  const select = widget.getByRole('combobox', { name: 'Example' });
  const options = await select.locator('option').allTextContents();
  expect(options.length).toBeGreaterThan(1);
  const before = await rendered(page);
  await select.focus();
  await page.keyboard.press('ArrowDown');
  await expect.poll(() => rendered(page)).toBeGreaterThan(before);
  await expect(page).toHaveURL(/[?&]prompt=/);
  await expect(widget.locator('.ctl-prompt')).toHaveAttribute('data-loaded', 'all'); // no fetch left to abort

  await page.goto('/embed/kv-explorer/?prompt=' + encodeURIComponent('A prompt nobody precomputed'));
  await expect(widget).toHaveAttribute('data-rendered', /\d+/);
  await expect(widget.getByRole('textbox', { name: 'Your own prompt' })).toHaveValue('A prompt nobody precomputed');
  await expect(widget.locator('.status')).toContainText('Run the model on this text');
  expectClean(log);
});

test('pointer over a heatmap reads out token, channel and value', async ({ page, log }) => {
  const ex = firstExample();
  await page.goto('/embed/kv-explorer/');
  const widget = page.locator('kv-explorer');
  await expect(widget).toHaveAttribute('data-rendered', /\d+/);
  const canvas = widget.locator('canvas.heatmap').first();
  const box = (await canvas.boundingBox())!;
  const T = ex.keys[4].tokens;
  const D = ex.keys[4].headDim;
  // Centre of the cell (token 0, channel 0).
  await page.mouse.move(box.x + box.width / T / 2, box.y + box.height / D / 2);
  const v = ex.keys[4].data[0];
  await expect(widget.locator('.hover-readout')).toHaveText(`Key of token 0 ${JSON.stringify(ex.tokens[0])}, channel 0: ${v.toFixed(3)}`);
  expectClean(log);
});

test('invalid parameters: a note and a working widget', async ({ page, log }) => {
  await page.goto('/embed/kv-explorer/?layer=99&head=x&theme=purple&prompt=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
  const widget = page.locator('kv-explorer');
  const notes = widget.locator('.param-notes');
  await expect(notes).toContainText('layer="99" is not valid');
  await expect(notes).toContainText('head="x" is not valid');
  await expect(notes).toContainText('theme="purple" is not valid');
  await expect(widget).toHaveAttribute('data-rendered', /\d+/);
  await expect(widget.locator('.chart-summary').first()).toContainText('Layer 4, KV head 0');
  await expect(widget.locator('img')).toHaveCount(0);
  await expect(widget.getByRole('textbox', { name: 'Your own prompt' })).toHaveValue('<img src=x onerror=alert(1)>');
  expectClean(log);
});

for (const theme of ['light', 'dark'] as const) {
  test(`axe clean in ${theme}`, async ({ page, log }) => {
    await page.emulateMedia({ colorScheme: theme });
    await page.goto(`/embed/kv-explorer/?theme=${theme}`);
    await expect(page.locator('kv-explorer')).toHaveAttribute('data-rendered', /\d+/);
    for (const d of await page.locator('kv-explorer details.data-table').all()) await d.locator('summary').click();
    expect(await axeViolations(page)).toEqual([]);
    expectClean(log);
  });
}

test('Example select after the reader runs their own text: "Your text" is selected; an example and the own text again both load', async ({
  page,
  log,
}) => {
  test.setTimeout(200_000);
  const index = JSON.parse(readFileSync('public/precomputed/index.json', 'utf8')) as PrecomputedIndex;
  const other = index.items[1];
  const own = 'Keys and values of my own sentence, quantized in the browser.';
  await page.goto('/embed/kv-explorer/');
  const widget = page.locator('kv-explorer');
  await expect(widget).toHaveAttribute('data-rendered', /\d+/);
  const select = widget.getByRole('combobox', { name: 'Example', exact: true });
  const area = widget.getByRole('textbox', { name: 'Your own prompt' });
  await area.fill(own);
  await widget.getByRole('button', { name: 'Run the model on this text' }).click();
  // the old picker set the select's value to '' here: a blank select with no option for what is shown
  await expect(select).toHaveValue('own', { timeout: 180_000 });
  await expect(select.locator('option:checked')).toHaveText(/^Your text \(\d+ tokens\)$/);
  await expect(page).toHaveURL(/[?&]prompt=Keys/);
  // A real example again: its prompt, its id in the select.
  let before = await rendered(page);
  await select.selectOption(other.id);
  await expect(area).toHaveValue(other.prompt!);
  await expect(select).toHaveValue(other.id);
  await expect.poll(() => rendered(page)).toBeGreaterThan(before);
  // And back to the reader's text without running the model again.
  let models = 0;
  page.on('request', (r) => (r.url().includes('/models/') ? models++ : 0));
  before = await rendered(page);
  await select.selectOption('own');
  await expect(area).toHaveValue(own);
  await expect.poll(() => rendered(page)).toBeGreaterThan(before);
  await expect(page).toHaveURL(/[?&]prompt=Keys/);
  expect(models).toBe(0);
  expectClean(log);
});
