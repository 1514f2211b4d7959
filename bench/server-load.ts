/**
 * Load on scripts/serve.mjs (the production server of dist/): 10,000 GET requests at concurrency 16 over a mix of
 * pages, hashed assets, precomputed tensors (brotli and identity) and hostile targets (traversal, stray %, bad ranges,
 * unknown methods). Reports errors (transport failures or 5xx), p50/p99 latency and the server's RSS before and after,
 * and writes bench/results/server-load.json. No pass/fail: figures for the closing note.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';

if (!existsSync('dist/index.html')) {
  console.error('server-load: dist/index.html is missing; run `npm run build` first');
  process.exit(1);
}
const PORT = 4398;
const TOTAL = 10_000;
const CONCURRENCY = 16;
const server = spawn('node', ['scripts/serve.mjs', '--port', String(PORT), '--host', '127.0.0.1'], {
  stdio: ['ignore', 'ignore', 'ignore'],
});
const rss = () => {
  try {
    const s = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? NaN) * 1024;
  } catch {
    return NaN;
  }
};
const asset = readdirSync('dist/_astro').find((n) => n.endsWith('.js'));
type Req = { path: string; method?: string; headers?: Record<string, string> };
const mix: Req[] = [
  { path: '/' },
  { path: '/articles/keys-and-values/' },
  { path: '/embed/quantizer/?bits=2&prompt=50%' },
  { path: `/_astro/${asset}`, headers: { 'accept-encoding': 'br' } },
  { path: '/precomputed/narrative-256.bin', headers: { 'accept-encoding': 'br, gzip' } },
  { path: '/precomputed/narrative-256.json' },
  { path: '/models/kvlab-16m/tokenizer.json', headers: { range: 'bytes=0-1023' } },
  { path: '/models/kvlab-16m/config.json', headers: { range: 'bytes=5-1' } },
  { path: '/../etc/passwd' },
  { path: '/%2e%2e/%2e%2e/etc/passwd' },
  { path: '/index.html', method: 'DELETE' },
  { path: '/oembed.json?url=http%3A%2F%2F127.0.0.1%3A4398%2Farticles%2Fkeys-and-values%2F%23q1' },
  { path: '/_image?href=/figures/kv-cache-growth.svg&w=4000&f=avif' },
];

function once(r: Req): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port: PORT, path: r.path, method: r.method ?? 'GET', headers: r.headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', () => resolve({ ms: performance.now() - t0, status: 0 }));
    req.end();
  });
}
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

async function up(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await once({ path: '/' })).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

try {
  await up();
  const before = rss();
  const times: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        const r = mix[next++ % mix.length];
        const { ms, status } = await once(r);
        times.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const wall = performance.now() - t0;
  const after = rss();
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  const errors = [...statuses].filter(([s]) => s === 0 || s >= 500).reduce((a, [, n]) => a + n, 0);
  const result = {
    requests: TOTAL,
    concurrency: CONCURRENCY,
    errors,
    statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
    p50Ms: Number(q(0.5).toFixed(1)),
    p99Ms: Number(q(0.99).toFixed(1)),
    requestsPerSecond: Math.round(TOTAL / (wall / 1000)),
    rssBeforeMB: Number((before / 1e6).toFixed(1)),
    rssAfterMB: Number((after / 1e6).toFixed(1)),
  };
  console.log('server load:', JSON.stringify(result));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/server-load.json', JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2));
} finally {
  agent.destroy();
  server.kill();
}
