#!/usr/bin/env node
/**
 * Writes `dist/sw.js`, the service worker that keeps the site readable and runnable offline after
 * the first visit (run by `npm run build` after `astro build`). Workbox's `generateSW`
 * (workbox-build 7) precaches every page, script, style, woff2 font, figure and precomputed tensor
 * of the build with a revision hash, so a redeploy replaces exactly what changed; the ONNX Runtime
 * files (27 MB) are cached on first use rather than on every first visit. Query strings are ignored
 * when matching pages, since widget state travels in them (`/embed/quantizer/?bits=2` is the
 * precached `/embed/quantizer/`).
 *
 * Nothing damaged is kept (issue #17: "a bad download is cached for good", the service worker's
 * share of it). Both caches would otherwise keep any status-200 answer: a captive portal's login
 * page, or a file a proxy cut short, until the next deploy renames it, and the ONNX Runtime files,
 * whose names are content hashes, for ever.
 *
 * - Precache: every entry carries `integrity` (SHA-384 of the file in dist/, added by
 *   `manifestTransforms`). workbox-precaching 7.4.1 `PrecacheController.js` `install()` passes it
 *   to `new Request(url, { integrity, … })`, so the browser checks the body (Subresource
 *   Integrity) and a mismatch rejects the fetch: the install fails with nothing wrong cached, and
 *   the browser tries again on the next page load. `PrecacheStrategy.js` `_handleFetch` also only
 *   repairs a missing entry from the network when the manifest has an integrity.
 * - ONNX Runtime (runtime `CacheFirst` rule): a `cacheWillUpdate` plugin keeps a response only if it
 *   is a 200 with the file type's MIME type and the SHA-256 computed here for that exact file name
 *   (Vite puts a content hash in the name, so the build knows every ORT file it will serve). Any
 *   other answer still reaches the page, which fails to start ONNX Runtime as it would without a
 *   service worker, but it is not stored, so the next load fetches again.
 *
 * Why generateSW and not injectManifest: generateSW writes the plugin into sw.js as source text
 * (workbox-build 7.4.1 `build/lib/runtime-caching-converter.js` serialises `plugins` with
 * `stringify-object`, `build/lib/stringify-without-comments.js`), so the function may not use
 * anything from this module's scope. `ortCachePlugin` therefore builds its source with the hash
 * table inlined as a literal and evaluates exactly that text, which is what sw.js will contain.
 * injectManifest would need a service worker source and a bundler step for the Workbox modules,
 * for one 20-line function.
 */
import { generateSW } from 'workbox-build';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Cache Storage name of the runtime cache. `src/lib/model/sw-cache.ts` has the same string for the
 * model worker, which clears the ORT files from it after a failed load
 * (tests/unit/scripts/service-worker.test.ts checks that the two agree).
 */
export const RUNTIME_CACHE = 'kvlab-runtime';
/** The ONNX Runtime files Vite emits (`ort-wasm-simd-threaded-<hash>.wasm` and `.mjs`). */
export const ORT_FILE = /^ort-[^/]+\.(?:wasm|mjs)$/;

/** `sha384-<base64>` of a file, as Subresource Integrity writes it. */
export function sriOf(file) {
  return `sha384-${createHash('sha384').update(readFileSync(file)).digest('base64')}`;
}

/** SHA-256 (hex) of every ONNX Runtime file in `<dist>/_astro`, by file name. */
export function ortHashes(dist) {
  let names = [];
  try {
    names = readdirSync(resolve(dist, '_astro')).filter((n) => ORT_FILE.test(n));
  } catch {
    // no _astro folder: nothing to cache at run time
  }
  return Object.fromEntries(
    names.sort().map((n) => [
      n,
      createHash('sha256')
        .update(readFileSync(resolve(dist, '_astro', n)))
        .digest('hex'),
    ]),
  );
}

/**
 * The runtime rule's plugin for the ORT files: `cacheWillUpdate` returns the response to store it
 * or null to leave it out (workbox-strategies 7 `StrategyHandler.cachePut`). Its source text, with
 * `hashes` inlined, is what generateSW copies into sw.js; it must stay free of `//` and block
 * comments' openers inside strings or regexes, since workbox-build strips comments from it.
 */
export function ortCachePlugin(hashes) {
  const source = `async ({ request, response }) => {
    const hashes = ${JSON.stringify(hashes)};
    if (!response || response.status !== 200 || response.type === 'opaque') return null;
    const name = new URL(request.url).pathname.split('/').pop();
    const expected = Object.prototype.hasOwnProperty.call(hashes, name) ? hashes[name] : null;
    if (!expected) return null;
    const type = (response.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
    const typeOk = name.endsWith('.wasm')
      ? type === 'application/wasm'
      : ['text/javascript', 'application/javascript', 'application/x-javascript', 'application/ecmascript', 'text/ecmascript'].includes(type);
    if (!typeOk) return null;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await response.clone().arrayBuffer()));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    return hex === expected ? response : null;
  }`;
  // The evaluated function is the very text sw.js receives (String(fn) of a Function is its source).
  const cacheWillUpdate = new Function(`return (${source});`)();
  return { cacheWillUpdate };
}

/**
 * The generateSW options for a build in `dist`.
 * @param {string} dist
 * @returns {import('workbox-build').GenerateSWOptions}
 */
export function serviceWorkerConfig(dist) {
  return {
    globDirectory: dist,
    globPatterns: [
      '**/*.html',
      '_astro/**/*.{js,css,woff2}',
      'precomputed/**/*.{json,bin}',
      'figures/**/*',
      'favicon.svg',
      'embed-host.js',
      'kv-cache-lab.js',
    ],
    // 404.html: the server answers it with status 404, and a non-2xx response fails the whole precache.
    globIgnores: ['**/*.br', '**/*.gz', '_server/**', 'models/**', 'lab/**', '404.html'],
    swDest: resolve(dist, 'sw.js'),
    mode: 'production',
    sourcemap: false,
    inlineWorkboxRuntime: true,
    skipWaiting: true,
    clientsClaim: true,
    cleanupOutdatedCaches: true,
    directoryIndex: 'index.html',
    ignoreURLParametersMatching: [/.*/],
    maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
    // Entry URLs are relative to globDirectory here (no modifyURLPrefix), so each names its file.
    manifestTransforms: [
      async (entries) => ({ manifest: entries.map((e) => ({ ...e, integrity: sriOf(resolve(dist, e.url)) })), warnings: [] }),
    ],
    runtimeCaching: [
      {
        urlPattern: ({ url }) => /\/_astro\/ort-[^/]+\.(?:wasm|mjs)$/.test(url.pathname),
        handler: 'CacheFirst',
        options: { cacheName: RUNTIME_CACHE, expiration: { maxEntries: 6 }, plugins: [ortCachePlugin(ortHashes(dist))] },
      },
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dist = resolve(process.argv[2] ?? 'dist');
  const t0 = Date.now();
  const { count, size, warnings } = await generateSW(serviceWorkerConfig(dist));
  for (const w of warnings) console.warn(`service worker: ${w}`);
  console.log(
    `service worker: precaches ${count} files, ${(size / 1e6).toFixed(1)} MB, with integrity; ` +
      `${Object.keys(ortHashes(dist)).length} ONNX Runtime files checked by SHA-256 (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}
