// `npm run bench`: every benchmark prints its figures (no pass/fail thresholds:
// targets are compared in the printout). Node benchmarks are bench/*.ts (run with
// tsx); browser benchmarks are Playwright specs in bench/browser/ run against the
// production build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, mkdirSync } from 'node:fs';

mkdirSync('bench/results', { recursive: true });
const run = (cmd, args, env = {}) => {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', ...env } });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
};

const only = process.argv[2];
// bytes.ts and lighthouse.ts read the production build.
if (!existsSync('dist/index.html')) run('npm', ['run', 'build']);
for (const file of readdirSync('bench')
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  if (only && !file.includes(only)) continue;
  run('npx', ['tsx', `bench/${file}`]);
}
if (existsSync('bench/browser') && (!only || only === 'browser')) {
  run('node', ['scripts/require-chromium.mjs']);
  run('npx', ['playwright', 'test', '--config', 'bench/browser/playwright.config.ts']);
}
