import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './scripts/require-chromium.mjs';

// E2E_PORT and E2E_DIST let several builds be tested side by side (default: dist/ on 4321).
const PORT = Number(process.env.E2E_PORT ?? 4321);
const DIST = process.env.E2E_DIST ?? 'dist';
export const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: process.env.CI ? 1 : 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
    trace: 'off',
    // The service worker would answer requests before page.route and the request log see them;
    // tests/e2e/offline.spec.ts allows it where offline behaviour is what is tested.
    serviceWorkers: 'block',
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    // scripts/serve.mjs: the static server of the (fully static) build, with CORS `*` (sandboxed
    // iframes and the script-tag bundle load module scripts cross-origin), CSP and the other
    // headers, Range, precompressed files and /oembed.json. tests/e2e/server/static-host.spec.ts
    // serves the same dist/ with a plain static server instead (E2E_STATIC_PORT, default 4443).
    // --quiet: the reliability suite sends thousands of hostile requests; their 4xx lines would bury the log.
    command: `node scripts/serve.mjs --port ${PORT} --host 127.0.0.1 --outDir ${DIST} --quiet`,
    url: BASE_URL,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    env: { ASTRO_TELEMETRY_DISABLED: '1' },
  },
});
