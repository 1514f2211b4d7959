#!/usr/bin/env node
/**
 * Writes `dist/sw.js`, the service worker that keeps the site readable and runnable offline after
 * the first visit (run by `npm run build` after `astro build`). Workbox's `generateSW`
 * (workbox-build 7) precaches every page, script, style, woff2 font, figure and precomputed tensor
 * of the build with a revision hash, so a redeploy replaces exactly what changed; the ONNX Runtime
 * files (27 MB) are cached on first use rather than on every first visit. Query strings are ignored
 * when matching pages, since widget state travels in them (`/embed/quantizer/?bits=2` is the
 * precached `/embed/quantizer/`).
 */
import { generateSW } from 'workbox-build';
import { resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? 'dist');
const t0 = Date.now();
const { count, size, warnings } = await generateSW({
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
  runtimeCaching: [
    {
      urlPattern: ({ url }) => /\/_astro\/ort-[^/]+\.(?:wasm|mjs)$/.test(url.pathname),
      handler: 'CacheFirst',
      options: { cacheName: 'kvlab-runtime', expiration: { maxEntries: 6 } },
    },
  ],
});
for (const w of warnings) console.warn(`service worker: ${w}`);
console.log(`service worker: precaches ${count} files, ${(size / 1e6).toFixed(1)} MB (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
