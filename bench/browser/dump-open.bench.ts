/**
 * Opening a Llama-3-8B-sized KV-cache dump (src/widgets/shared/dump-source.ts): 32 layers × 8 KV heads ×
 * 2,048 tokens × head_dim 128, 32 query heads, last 8 queries, fp16 (keys, pre-RoPE keys and values: ~405 MB).
 * The file is synthetic (random finite fp16 values, same layout dump_kv.py writes) and made once in the OS
 * temp folder. Prints, does not assert:
 *   - /lab/open: ms from setInputFiles to the metadata on screen, to the checked dump, to the quantizer's first
 *     drawing below it; the longest main-thread task meanwhile (PerformanceObserver 'longtask');
 *   - /embed/quantizer/: ms from setInputFiles to the first redraw on the dump (= first layer widened and drawn);
 *   - peak resident memory (VmHWM, Linux /proc) of the renderer processes that appeared during each scenario.
 */
import { test } from '@playwright/test';
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { makeSyntheticDump, syntheticDumpPath } from './synthetic-dump';

const FILE = syntheticDumpPath();
const makeDump = () => makeSyntheticDump(FILE);

function renderers(): Map<number, number> {
  const out = new Map<number, number>();
  const ps = execSync('ps -eo pid,args').toString().split('\n');
  for (const line of ps) {
    if (!line.includes('--type=renderer')) continue;
    const pid = Number(line.trim().split(/\s+/)[0]);
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (hwm) out.set(pid, Number(hwm) * 1024);
    } catch {
      // gone
    }
  }
  return out;
}

const results: Record<string, number | string> = {};
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

test.beforeAll(() => {
  makeDump();
  results.fileBytes = statSync(FILE).size;
});

async function watchLongTasks(page: import('@playwright/test').Page) {
  await page.evaluate(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask', buffered: false });
    (window as unknown as { __longAt: string[] }).__longAt = [];
    new PerformanceObserver((l) =>
      l
        .getEntries()
        .forEach((e) => (window as unknown as { __longAt: string[] }).__longAt.push(`${e.startTime.toFixed(0)}+${e.duration.toFixed(0)}`)),
    ).observe({ type: 'longtask', buffered: false });
  });
}
const longest = (page: import('@playwright/test').Page) =>
  page.evaluate(() => Math.max(0, ...(window as unknown as { __long: number[] }).__long));

test('/embed/quantizer/: first layer drawn', async ({ page }) => {
  await page.goto('/embed/quantizer/');
  await page.waitForSelector('kv-quantizer[data-rendered]');
  await watchLongTasks(page);
  const t0 = Date.now();
  await page.locator('kv-quantizer input[type=file]').setInputFiles(FILE);
  await page.waitForFunction(
    () => /by 2048 tokens/.test(document.querySelector('kv-quantizer canvas.heatmap')?.getAttribute('aria-label') ?? ''),
    null,
    { timeout: 240_000 },
  );
  results.quantizerFirstLayerMs = Date.now() - t0;
  results.quantizerWorkers = page
    .workers()
    .map((w) => w.url().split('/').pop())
    .join(' ');
  results.quantizerLongestTaskMs = await longest(page);
  const peak = [...renderers().values()].reduce((m, v) => Math.max(m, v), 0);
  results.quantizerPeakRendererRss = peak ? mb(peak) : 'n/a';
});

test('/lab/open: metadata, checked dump, first widget drawing', async ({ page }) => {
  await page.goto('/lab/open/');
  await watchLongTasks(page);
  const t0 = Date.now();
  const p0 = await page.evaluate(() => performance.now());
  await page.locator('#dump-file').setInputFiles(FILE);
  results.openSetInputFilesMs = Date.now() - t0;
  await page.locator('#dump-meta').waitFor({ state: 'visible', timeout: 240_000 });
  results.openMetadataMs = Date.now() - t0;
  await page.waitForSelector('body[data-dump="loaded"]', { timeout: 240_000 });
  results.openCheckedMs = Date.now() - t0;
  results.openWorkers = page
    .workers()
    .map((w) => w.url().split('/').pop())
    .join(' ');
  results.openLongestTaskUntilCheckedMs = await longest(page);
  await page.waitForSelector('kv-quantizer[data-rendered]', { timeout: 240_000 });
  results.openFirstQuantizerDrawMs = Date.now() - t0;
  await page.waitForTimeout(5000); // let the widgets' whole-cache passes run
  results.openLongestTaskWithWidgetsMs = await longest(page);
  results.openLongTasks = `${await page.evaluate((p) => (window as unknown as { __longAt: string[] }).__longAt.map((x) => `${Number(x.split('+')[0]) - p}+${x.split('+')[1]}`).join(' '), p0)} (ms after setInputFiles began + duration)`;
  const peak = [...renderers().values()].reduce((m, v) => Math.max(m, v), 0);
  results.openPeakRendererRss = peak ? mb(peak) : 'n/a';
});

test.afterAll(() => {
  console.log('\ndump-open (synthetic 8B-shaped dump, %s):', mb(Number(results.fileBytes)));
  for (const [k, v] of Object.entries(results)) console.log(`  ${k}: ${v}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/dump-open.json', JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2));
});
