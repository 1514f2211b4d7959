#!/usr/bin/env node
/**
 * After `astro build` (as an Astro integration in astro.config.mjs, so `npm run build` and
 * `astro build` both run it; or by hand on an existing build:
 * node scripts/serve/postbuild.mjs [--outDir dist] [--site http://127.0.0.1:4321] [--base /]):
 * 1. bundles the pure oEmbed code to <outDir>/_server/oembed.mjs for scripts/serve.mjs;
 * 2. reads each built chapter for its widget elements' ids (id → widget, document order)
 *    and writes <outDir>/_server/oembed-data.json { site, base, chapters };
 * 3. writes the prerendered oEmbed answers <outDir>/oembed/(embed|articles)/<name>.json
 *    that the embed pages' discovery links name (for plain static hosts);
 * 4. writes <outDir>/_headers (Netlify / Cloudflare Pages format) with the headers
 *    scripts/serve.mjs sends, for static hosts that read it (docs/hosting.md);
 * 5. precompresses text, JS, WASM, JSON, fonts and model files to .br and .gz siblings,
 *    keeping a variant only when it saves at least 10 %, and writes the byte counts to
 *    <outDir>/_server/compression.json.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { COMPRESSIBLE, contentSecurityPolicy } from './http.mjs';
import { siteScriptHashes } from './handler.mjs';

/**
 * Not precompressed: fp32 ONNX weights and safetensors are near-random bytes (model.onnx of
 * kvlab-16m: brotli 9 saves 8.5 %, 31.6 MB → 28.9 MB) — not worth 5 s of build per build.
 */
const SKIP = new Set(['.onnx', '.safetensors']);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Bundle scripts/serve/oembed-entry.ts (and the registry it reaches) to <outDir>/_server/oembed.mjs. */
export async function bundleOembed(outDir) {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    ssr: { noExternal: true },
    build: {
      ssr: join(ROOT, 'scripts/serve/oembed-entry.ts'),
      outDir: join(outDir, '_server'),
      emptyOutDir: false,
      minify: false,
      copyPublicDir: false,
      rollupOptions: {
        // The widgets' element code (declarations' `load: () => import('./element')`) is
        // browser-only and never called here: leave the dynamic import unresolved.
        external: (id) => /^\.\/element(\.ts)?$/.test(id),
        output: { entryFileNames: 'oembed.mjs', format: 'es' },
      },
    },
  });
  return import(`${pathToFileURL(join(outDir, '_server', 'oembed.mjs')).href}?t=${Date.now()}`);
}

async function* walk(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** oEmbed data and prerendered answers (steps 1–3). */
export async function writeOembed(outDir, { site, base = '/' }) {
  const m = await bundleOembed(outDir);
  const chapters = {};
  const articles = join(outDir, 'articles');
  for (const slug of (await readdir(articles).catch(() => [])).sort()) {
    const html = await readFile(join(articles, slug, 'index.html'), 'utf8').catch(() => null);
    if (!html) continue;
    const list = m.chapterWidgetsFromHtml(html);
    if (list.length) chapters[slug] = list;
  }
  const origin = new URL(site).origin;
  const data = { site: origin, base, chapters };
  await writeFile(join(outDir, '_server', 'oembed-data.json'), `${JSON.stringify(data, null, 2)}\n`);
  const files = m.oembedStaticFiles({ origin, base, available: m.loadersAvailable(), chapters });
  for (const f of files) {
    const p = join(outDir, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, JSON.stringify(f.body));
  }
  return { chapters, files: files.length };
}

/**
 * Step 4: `_headers`. CSP goes on the page folders only (listed from the build), never on a
 * catch-all: Netlify combines the values of every matching rule, and two CSPs are both
 * enforced, so `/*` with frame-ancestors 'self' would forbid framing /embed/ too.
 */
export async function writeHeadersFile(outDir, base = '/') {
  const scriptHashes = await siteScriptHashes(outDir);
  const page = contentSecurityPolicy({ embed: false, scriptHashes });
  const embed = contentSecurityPolicy({ embed: true, scriptHashes });
  const lines = [
    '# Written by scripts/serve/postbuild.mjs: the headers scripts/serve.mjs sends (see docs/hosting.md).',
    `${base}*`,
    '  Access-Control-Allow-Origin: *',
    '  Cross-Origin-Resource-Policy: cross-origin',
    '  X-Content-Type-Options: nosniff',
    '  Referrer-Policy: strict-origin-when-cross-origin',
    `${base}_astro/*`,
    '  Cache-Control: public, max-age=31536000, immutable',
    `${base}embed/*`,
    `  Content-Security-Policy: ${embed}`,
  ];
  const pageRules = [`${base}`, `${base}index.html`, `${base}404.html`];
  for (const e of await readdir(outDir, { withFileTypes: true })) {
    if (!e.isDirectory() || ['embed', '_astro', '_server', 'oembed', 'models', 'precomputed', 'figures'].includes(e.name)) continue;
    const hasPages = await (async () => {
      for await (const f of walk(join(outDir, e.name))) if (f.endsWith('.html')) return true;
      return false;
    })();
    if (hasPages) pageRules.push(`${base}${e.name}/*`);
  }
  for (const r of pageRules) lines.push(r, `  Content-Security-Policy: ${page}`, '  X-Frame-Options: SAMEORIGIN');
  await writeFile(join(outDir, '_headers'), `${lines.join('\n')}\n`);
}

/** Brotli settings: text mode for text, generic for binary; quality 11 up to 4 MiB, 9 above (11 takes minutes on 30 MB). */
function brotliOptions(size, ext) {
  const text = !['.wasm', '.onnx', '.safetensors', '.bin', '.ttf'].includes(ext);
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_MODE]: text ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
      [zlib.constants.BROTLI_PARAM_QUALITY]: size <= 4 << 20 ? 11 : 9,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
    },
  };
}

/**
 * Brotli and gzip of a file's bytes, cached by content hash under node_modules/.cache (the
 * 26.9 MB ONNX Runtime WASM, the tokenizer and the tensors are the same from one build to
 * the next, and brotli of them takes most of this step's time).
 */
async function compressed(body, ext) {
  const key = createHash('sha256').update(body).update(ext).digest('hex');
  const dir = join(ROOT, 'node_modules', '.cache', 'kvlab-precompress');
  const hit = await Promise.all([readFile(join(dir, `${key}.br`)), readFile(join(dir, `${key}.gz`))]).catch(() => null);
  if (hit) return hit;
  const out = await Promise.all([brotli(body, brotliOptions(body.length, ext)), gzip(body, { level: 9 })]);
  await mkdir(dir, { recursive: true });
  // Written under a temporary name and renamed, so a concurrent build never reads half a file.
  for (const [i, e] of /** @type {const} */ ([
    [0, 'br'],
    [1, 'gz'],
  ])) {
    const tmp = join(dir, `${key}.${e}.${process.pid}.tmp`);
    await writeFile(tmp, out[i]);
    await rename(tmp, join(dir, `${key}.${e}`));
  }
  return out;
}

/** Step 5: .br and .gz siblings; returns { path: { size, br, gzip } } (null = variant not kept). */
export async function precompress(outDir, { minSize = 1024, keepRatio = 0.9 } = {}) {
  const jobs = [];
  for await (const file of walk(outDir)) {
    const rel = relative(outDir, file).split('\\').join('/');
    const ext = extname(file).toLowerCase();
    if (rel.startsWith('_server/') || !COMPRESSIBLE.has(ext) || SKIP.has(ext)) continue;
    jobs.push({ file, rel });
  }
  const stats = {};
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { file, rel } = jobs[next++];
      const body = await readFile(file);
      if (body.length < minSize) continue;
      const ext = extname(file).toLowerCase();
      const [b, g] = await compressed(body, ext);
      const entry = { size: body.length, br: null, gzip: null };
      if (b.length <= body.length * keepRatio) {
        await writeFile(`${file}.br`, b);
        entry.br = b.length;
      }
      if (g.length <= body.length * keepRatio) {
        await writeFile(`${file}.gz`, g);
        entry.gzip = g.length;
      }
      stats[rel] = entry;
    }
  };
  await Promise.all([worker(), worker()]);
  const sorted = Object.fromEntries(Object.entries(stats).sort(([a], [b]) => a.localeCompare(b)));
  await mkdir(join(outDir, '_server'), { recursive: true });
  await writeFile(join(outDir, '_server', 'compression.json'), `${JSON.stringify(sorted, null, 2)}\n`);
  return sorted;
}

export async function postBuild(outDir, { site, base }) {
  const t0 = Date.now();
  const o = await writeOembed(outDir, { site, base });
  await writeHeadersFile(outDir, base);
  const c = await precompress(outDir);
  const kept = Object.values(c).filter((e) => e.br !== null || e.gzip !== null).length;
  return `oEmbed: ${o.files} prerendered answers, ${Object.keys(o.chapters).length} chapters mapped; precompressed ${kept} of ${Object.keys(c).length} files (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
}

/** The Astro integration (astro.config.mjs). */
export function kvlabPostBuild() {
  let site = 'http://127.0.0.1:4321';
  let base = '/';
  return {
    name: 'kv-cache-lab:post-build',
    hooks: {
      'astro:config:done': ({ config }) => {
        if (config.site) site = config.site;
        base = config.base.replace(/\/?$/, '/');
      },
      'astro:build:done': async ({ dir, logger }) => {
        logger.info(await postBuild(fileURLToPath(dir), { site, base }));
      },
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // (astro.config.mjs imports this module, so it cannot be imported back from here.)
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
  };
  const outDir = resolve(arg('outDir', 'dist'));
  await stat(outDir);
  console.log(await postBuild(outDir, { site: arg('site', 'http://127.0.0.1:4321'), base: arg('base', '/').replace(/\/?$/, '/') }));
}
