#!/usr/bin/env node
/**
 * Serves a production build: the static files of dist/ (the site is fully static, no
 * adapter) and the one dynamic URL, /oembed.json?url=…, answered with the pure oEmbed code
 * that the build bundles to dist/_server/oembed.mjs (scripts/serve/postbuild.mjs).
 *
 * Every answer carries `Access-Control-Allow-Origin: *`: widgets embedded in
 * `<iframe sandbox="allow-scripts">` run in an opaque origin, so every module script,
 * precomputed tensor and model file they load is a CORS request; the same holds for the
 * script-tag bundle (/kv-cache-lab.js) on other sites. Nothing on the site is private (no
 * cookies, no credentials), so `*` is safe. Headers, ranges, precompressed files and the
 * refusals are in scripts/serve/handler.mjs; docs/hosting.md says how to get the same on
 * other hosts.
 *
 * Usage: node scripts/serve.mjs [--outDir dist] [--port 4321] [--host 127.0.0.1] [--quiet]
 */
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSiteHandler } from './serve/handler.mjs';
import { ALLOW, logSafe } from './serve/http.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};

/**
 * The oEmbed answerer for a build, or null when the build has no dist/_server/oembed.mjs.
 * The snippet names the origin the client reached (Host, X-Forwarded-Proto); URLs of that
 * origin and of the configured `site` both count as this site's.
 */
export async function loadOembed(outDir) {
  const mod = join(outDir, '_server', 'oembed.mjs');
  const dataPath = join(outDir, '_server', 'oembed-data.json');
  if (!existsSync(mod) || !existsSync(dataPath)) return null;
  const m = await import(pathToFileURL(mod).href);
  const data = JSON.parse(readFileSync(dataPath, 'utf8'));
  const available = m.loadersAvailable();
  return ({ query, origin }) => {
    const used = origin ?? data.site;
    const origins = [...new Set([used, data.site])];
    return m.oembedResponse({ query, origins, origin: used, base: data.base, available, chapters: data.chapters });
  };
}

/** Start the server; resolves to the listening http.Server. */
export async function startServer({ outDir = 'dist', port = 4321, host = '127.0.0.1', log = (line) => console.warn(line) } = {}) {
  const root = resolve(outDir);
  const base = existsSync(join(root, '_server', 'oembed-data.json'))
    ? JSON.parse(readFileSync(join(root, '_server', 'oembed-data.json'), 'utf8')).base
    : '/';
  const handler = await createSiteHandler({ root, base, oembed: await loadOembed(root), log });
  const server = http.createServer(handler);
  // Requests Node cannot even parse (bad request line, bad headers): one line, a bare 400.
  server.on('clientError', (err, socket) => {
    log(`client error → 400 (${logSafe(err.code ?? err.message)})`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  // CONNECT never reaches the handler: Node gives it to 'connect' listeners and, with none,
  // drops the connection without a word. It gets the 405 every other method gets (handler.mjs).
  server.on('connect', (req, socket) => {
    log(`CONNECT ${logSafe(req.url)} → 405 (method)`);
    // Node no longer watches this socket: a client reset must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOW}\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(undefined));
  });
  return server;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const outDir = arg('outDir', 'dist');
  const port = Number(arg('port', process.env.PORT ?? 4321));
  const host = arg('host', process.env.HOST ?? '127.0.0.1');
  // --quiet: leave out the one line per 4xx answer (the e2e suite sends thousands of hostile requests on
  // purpose); 5xx answers and read errors are still logged.
  const quiet = process.argv.includes('--quiet');
  const log = (line) => {
    if (!(quiet && /→ 4\d\d\b/.test(line))) console.warn(line);
  };
  let server;
  try {
    server = await startServer({ outDir, port, host, log });
  } catch (e) {
    // One line, no stack: a missing build or a port in use is not a crash.
    console.error(
      `KV Cache Lab: cannot serve ${resolve(outDir)} on ${host}:${port}: ${e?.message ?? e}${e?.code === 'ENOENT' ? ' (run npm run build first)' : ''}`,
    );
    process.exit(1);
  }
  console.log(`KV Cache Lab: serving ${resolve(outDir)} at http://${host}:${port}/ (CORS: *)`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
}
