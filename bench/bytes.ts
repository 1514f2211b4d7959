/**
 * Bytes a reader downloads, from the production build in dist/ (run `npm run build` first):
 * - per page, the JavaScript its HTML loads before any widget starts (module scripts and
 *   modulepreloads plus their static imports), raw / gzip / brotli, against the budget of
 *   150 KB gzip for an article page;
 * - what the first live model result costs: the model worker's JS, the ONNX Runtime files,
 *   the model, tokenizer and config, raw and as sent compressed (the .br files the server sends).
 * Prints a table and writes bench/results/bytes.json. No pass/fail: figures for the closing note.
 */
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const dist = path.resolve(process.argv[2] ?? 'dist');
if (!existsSync(path.join(dist, 'index.html'))) {
  console.error('bytes: dist/index.html is missing; run `npm run build` first');
  process.exit(1);
}

const sizeCache = new Map<string, { raw: number; gz: number; br: number }>();
function sizes(file: string) {
  let s = sizeCache.get(file);
  if (!s) {
    const buf = readFileSync(file);
    s = {
      raw: buf.length,
      gz: gzipSync(buf, { level: 9 }).length,
      br: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
    sizeCache.set(file, s);
  }
  return s;
}

/** A built URL path (`/_astro/x.js`) as a file in dist. */
const fileOf = (url: string) => path.join(dist, decodeURIComponent(url.split(/[?#]/)[0]).replace(/^\//, ''));

/** Static imports of a built JS chunk (`import … from "./x.js"`, `import "./x.js"`), resolved to files. */
function staticImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^'"()]*?from\s*)?["']([^"']+\.m?js)["']/g)) {
    const target = path.resolve(path.dirname(file), m[1]);
    if (existsSync(target)) out.push(target);
  }
  return out;
}

function pageJs(html: string): string[] {
  const text = readFileSync(html, 'utf8');
  const entries = [
    ...[...text.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => m[1]),
    ...[...text.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]),
  ].map(fileOf);
  const seen = new Set<string>();
  const stack = entries.filter((f) => existsSync(f));
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...staticImports(f));
  }
  // Inline module scripts count too (their bytes are in the HTML).
  return [...seen];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const BUDGET_GZ = 150 * 1024;
const pages = walk(dist).filter((f) => f.endsWith('index.html'));
const rows = pages
  .map((html) => {
    const files = pageJs(html);
    const sum = files.reduce((a, f) => ({ raw: a.raw + sizes(f).raw, gz: a.gz + sizes(f).gz, br: a.br + sizes(f).br }), {
      raw: 0,
      gz: 0,
      br: 0,
    });
    const page = '/' + path.relative(dist, path.dirname(html)).replace(/\\/g, '/') + (path.dirname(html) === dist ? '' : '/');
    return { page: page.replace('//', '/'), files: files.length, ...sum, withinBudget: sum.gz <= BUDGET_GZ };
  })
  .sort((a, b) => b.gz - a.gz);

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
console.log('\nJavaScript each page loads before any widget starts (gzip budget for articles: 150 KB)');
console.log('page'.padEnd(40), 'files'.padStart(6), 'raw'.padStart(11), 'gzip'.padStart(11), 'brotli'.padStart(11), ' budget');
for (const r of rows)
  console.log(
    r.page.padEnd(40),
    String(r.files).padStart(6),
    kb(r.raw).padStart(11),
    kb(r.gz).padStart(11),
    kb(r.br).padStart(11),
    r.page.startsWith('/articles/') ? (r.withinBudget ? ' ok' : ' OVER') : '',
  );

// First live result: the model worker chunk and what it imports, the ONNX Runtime files, the model files.
const astro = path.join(dist, '_astro');
const worker = readdirSync(astro)
  .filter((n) => /^model\.worker.*\.js$/.test(n))
  .map((n) => path.join(astro, n));
const ort = readdirSync(astro)
  .filter((n) => /^ort-.*\.(wasm|mjs)$/.test(n))
  .map((n) => path.join(astro, n));
const modelDir = path.join(dist, 'models', 'kvlab-16m');
const model = existsSync(modelDir) ? walk(modelDir).filter((f) => /\.(onnx|json)$/.test(f)) : [];
const live = [...worker, ...ort, ...model].map((f) => {
  const s = sizes(f);
  const sentBr = existsSync(`${f}.br`) ? statSync(`${f}.br`).size : s.raw;
  return { file: path.relative(dist, f), raw: s.raw, gzip: s.gz, brotli: s.br, sent: sentBr };
});
const total = live.reduce((a, r) => ({ raw: a.raw + r.raw, sent: a.sent + r.sent }), { raw: 0, sent: 0 });
console.log('\nBytes before the first live model result (besides the page itself)');
for (const r of live) console.log(r.file.padEnd(60), mb(r.raw).padStart(10), 'sent', mb(r.sent).padStart(10));
console.log('total'.padEnd(60), mb(total.raw).padStart(10), 'sent', mb(total.sent).padStart(10));

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/bytes.json',
  JSON.stringify({ date: new Date().toISOString(), budgetGzip: BUDGET_GZ, pages: rows, firstLiveResult: { files: live, total } }, null, 2),
);
