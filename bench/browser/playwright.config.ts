import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, findChromium } from '../../scripts/require-chromium.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Browser benchmarks (`npm run bench`): Playwright specs in bench/browser/ against the
// production build. BENCH_DIST / BENCH_PORT let a build in another folder be measured.
const PORT = Number(process.env.BENCH_PORT ?? 4499);
const DIST = process.env.BENCH_DIST ?? 'dist';
export const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.bench\.ts$/,
  timeout: 300_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  // One worker: timings must not compete with each other.
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 900 },
    trace: 'off',
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: `node scripts/serve.mjs --port ${PORT} --host 127.0.0.1 --outDir ${DIST}`,
    // Run from the repository root (Playwright would use this folder), so dist/ and astro.config resolve.
    cwd: ROOT,
    url: BASE_URL,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    env: { ASTRO_TELEMETRY_DISABLED: '1' },
  },
});
