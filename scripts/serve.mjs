#!/usr/bin/env node
/**
 * Serves a production build (Astro Node adapter, standalone) with one addition:
 * `Access-Control-Allow-Origin: *` on every response.
 *
 * Why: widgets embedded in `<iframe sandbox="allow-scripts">` run in an opaque
 * origin, so every module script, precomputed tensor and model file they load is a
 * cross-origin (CORS) request; the same holds for the script-tag bundle
 * (/kv-cache-lab.js) on other sites. The adapter's static file server sends no CORS
 * header and Astro middleware does not run for static files, so the header is added
 * here, around the adapter's own handler. Nothing on the site is private (no
 * cookies, no credentials), so `*` is safe.
 *
 * Usage: node scripts/serve.mjs [--outDir dist] [--port 4321] [--host 127.0.0.1]
 */
import http from 'node:http';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const outDir = resolve(arg('outDir', 'dist'));
const port = Number(arg('port', process.env.PORT ?? 4321));
const host = arg('host', process.env.HOST ?? '127.0.0.1');

// Import the adapter's entry without letting it start its own server.
process.env.ASTRO_NODE_AUTOSTART = 'disabled';
const { handler } = await import(pathToFileURL(join(outDir, 'server', 'entry.mjs')).href);

const server = http.createServer((req, res) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.writeHead(204);
    res.end();
    return;
  }
  // /404 itself is a prerendered page the adapter cannot render on demand (it answers 500):
  // send it through the not-found path, which serves the same page with status 404.
  if (/^\/404(\.html)?\/?(\?|$)/.test(req.url ?? '')) req.url = '/__kv-cache-lab-not-found__/';
  handler(req, res);
});
server.listen(port, host, () => console.log(`KV Cache Lab: serving ${outDir} at http://${host}:${port}/ (CORS: *)`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
