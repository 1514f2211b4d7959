import { test as base, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const LOCAL_ORIGIN = `http://127.0.0.1:${process.env.E2E_PORT ?? 4321}`;

/** What a page did that a test may fail on. */
export interface PageLog {
  consoleErrors: string[];
  failedRequests: string[];
  externalRequests: string[];
}

/**
 * A page fixture that records console errors, uncaught exceptions and failed
 * requests, and aborts (and records) every request to a host other than the
 * local preview server, so nothing can leave the machine unnoticed.
 */
export const test = base.extend<{ log: PageLog }>({
  log: async ({ page, context }, use) => {
    const log: PageLog = { consoleErrors: [], failedRequests: [], externalRequests: [] };
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(LOCAL_ORIGIN) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      log.externalRequests.push(url);
      return route.abort('blockedbyclient');
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') log.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => log.consoleErrors.push(`uncaught: ${err.message}`));
    page.on('requestfailed', (req) => {
      const failure = req.failure()?.errorText ?? 'failed';
      // Requests we aborted ourselves are already in externalRequests. The browser fetches the favicon on its own
      // after a page loads; a test's next page.goto can abort that fetch (net::ERR_ABORTED), which says nothing
      // about the site (a missing favicon would still fail: HTTP 404 below).
      if (failure.includes('BLOCKED_BY_CLIENT')) return;
      if (failure.includes('ERR_ABORTED') && new URL(req.url()).pathname.startsWith('/favicon')) return;
      log.failedRequests.push(`${req.url()} (${failure})`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400) log.failedRequests.push(`${res.url()} (HTTP ${res.status()})`);
    });
    await use(log);
  },
});
export { expect };

export function expectClean(log: PageLog): void {
  expect(log.externalRequests, 'requests to hosts other than the local server').toEqual([]);
  expect(log.failedRequests, 'failed requests').toEqual([]);
  expect(log.consoleErrors, 'console errors').toEqual([]);
}

/** Every HTML page of the production build, as a URL path. */
export function builtPages(dist = process.env.E2E_DIST ?? 'dist'): string[] {
  // With the Node adapter, prerendered pages live in <dist>/client.
  const distDir = existsSync(join(dist, 'client')) ? join(dist, 'client') : dist;
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.html')) {
        const rel = relative(distDir, path).split(sep).join('/');
        pages.push('/' + rel.replace(/(^|\/)index\.html$/, '$1').replace(/\.html$/, ''));
      }
    }
  };
  walk(distDir);
  return pages.sort();
}

/**
 * axe exceptions, in one commented list. Each entry: rule id and why it is excused.
 * (Empty: every rule applies everywhere.)
 */
export const AXE_EXCEPTIONS: Array<{ rule: string; why: string }> = [];

export async function axeViolations(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .disableRules(AXE_EXCEPTIONS.map((e) => e.rule))
    .analyze();
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(0, 3).join(' ')}`),
  }));
}
