/**
 * Lighthouse (12.2, mobile defaults: emulated Moto G power, slow 4G, 4× CPU slowdown) on the home page,
 * a chapter and an embed of the production build, served by scripts/serve.mjs as in production
 * (compression, headers). Debian Chromium, headless. Prints the performance, accessibility and
 * best-practices scores (target ≥ 95 each) and writes bench/results/lighthouse.json.
 * Scores move with machine load (performance most): compare runs made on a quiet machine.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { CHROMIUM_ARGS, findChromium } from '../scripts/require-chromium.mjs';

if (!existsSync('dist/index.html')) {
  console.error('lighthouse: dist/index.html is missing; run `npm run build` first');
  process.exit(1);
}
const PORT = 4399;
const origin = `http://127.0.0.1:${PORT}`;
const server = spawn('node', ['scripts/serve.mjs', '--port', String(PORT), '--host', '127.0.0.1'], { stdio: 'ignore' });
const pages = ['/', '/articles/keys-and-values/', '/embed/quantizer/'];

async function waitForServer(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(origin)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

const results: Array<{ page: string; performance: number; accessibility: number; bestPractices: number; lcpMs: number; tbtMs: number }> =
  [];
try {
  await waitForServer();
  const chrome = await chromeLauncher.launch({ chromePath: findChromium(), chromeFlags: [...CHROMIUM_ARGS, '--headless=new'] });
  try {
    for (const p of pages) {
      const r = await lighthouse(`${origin}${p}`, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility', 'best-practices'],
      });
      const lhr = r!.lhr;
      const score = (k: string) => Math.round((lhr.categories[k]?.score ?? 0) * 100);
      results.push({
        page: p,
        performance: score('performance'),
        accessibility: score('accessibility'),
        bestPractices: score('best-practices'),
        lcpMs: Math.round(lhr.audits['largest-contentful-paint']?.numericValue ?? NaN),
        tbtMs: Math.round(lhr.audits['total-blocking-time']?.numericValue ?? NaN),
      });
      const failing = Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary')
        .map((a) => a.id);
      if (failing.length) console.log(`${p}: audits below 0.9: ${failing.join(', ')}`);
    }
  } finally {
    await chrome.kill();
  }
} finally {
  server.kill();
}
console.log('\nLighthouse, mobile (target ≥ 95)');
console.log('page'.padEnd(32), 'perf', ' a11y', ' best', '   LCP ms', '  TBT ms');
for (const r of results)
  console.log(
    r.page.padEnd(32),
    String(r.performance).padStart(4),
    String(r.accessibility).padStart(5),
    String(r.bestPractices).padStart(5),
    String(r.lcpMs).padStart(9),
    String(r.tbtMs).padStart(8),
  );
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/lighthouse.json', JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
