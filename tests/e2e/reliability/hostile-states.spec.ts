/**
 * Hostile-state sweep (issue #17): every URL parameter of every embeddable widget, set to hostile values,
 * one page load per (widget, value); plus hostile `#kv-state&…` fragments (src/widgets/shared/state-link.ts)
 * and chapter URLs with element-id-prefixed parameters (`q1.bits=…`, src/widgets/shared/base.ts `urlPrefix`).
 *
 * The parameter list comes from each widget's own codec (`WIDGETS[name].codec.names`: the shared PARAMS it
 * picks plus its `own` ones), so a new parameter or widget is swept without editing this file.
 *
 * Each load must show: no dialog, no script run (`window.__pwned` unset, no injected <script>), no element with
 * an inline event handler or `javascript:` URL and no `img[src=x]` (light DOM and open shadow roots), no uncaught
 * error, console error or failed request, a visible widget with a drawn body and no error status, and the
 * replaced-settings note naming every value the codec must reject. Chapter "Embed" panels given a hostile
 * prompt must produce iframe code that parses to one inert iframe.
 */
import type { Page } from '@playwright/test';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { test, expect, expectClean, LOCAL_ORIGIN, type PageLog } from '../support';
import { EMBEDDABLE, WIDGETS } from '../widgets';
import {
  CJK_3000,
  HOSTILE_NAMES,
  MARKS_RENDERS,
  VALUES,
  decoded,
  expectsNote,
  injections,
  waitForDraw,
  widgetProblems,
  type Hostile,
} from './hostile-corpus';

interface Load {
  label: string;
  /** Path + query + fragment. */
  url: string;
  /** Values set (counted in the summary). */
  values: number;
  /** Parameters that must be named in the widget's note (per element id on chapter pages; '' on embeds). */
  rejected: Record<string, string[]>;
}

/** Every hostile load of one widget's embed route. */
function loadsFor(name: string): Load[] {
  const codec = WIDGETS[name].codec;
  const names = codec.names;
  const base = `/embed/${name}/`;
  const loads: Load[] = [];
  const all = (raw: string) => names.map((n) => `${n}=${raw}`).join('&');
  const firstValues = (raw: string) => new Map(names.map((n) => [n, decoded(raw)]));
  for (const v of VALUES) {
    loads.push({
      label: v.label,
      url: `${base}?${all(v.raw)}`,
      values: names.length,
      rejected: { '': expectsNote(codec, firstValues(v.raw)) },
    });
  }
  // Repeated parameters: URLSearchParams.get takes the first one, so hostile-first must be noted.
  const dflt = (n: string) => {
    const d = codec.defaults[n];
    return encodeURIComponent(Array.isArray(d) ? d.join(',') : String(d));
  };
  const evil = VALUES[0].raw;
  loads.push({
    label: 'repeated, valid first',
    url: `${base}?${names.map((n) => `${n}=${dflt(n)}&${n}=${evil}`).join('&')}`,
    values: 2 * names.length,
    rejected: { '': [] },
  });
  loads.push({
    label: 'repeated, hostile first',
    url: `${base}?${names.map((n) => `${n}=%ZZ&${n}=${dflt(n)}`).join('&')}`,
    values: 2 * names.length,
    rejected: { '': expectsNote(codec, firstValues('%ZZ')) },
  });
  loads.push({ label: 'hostile names', url: `${base}?${HOSTILE_NAMES.join('&')}`, values: HOSTILE_NAMES.length, rejected: { '': [] } });
  // Fragment state (state-link.ts): read with the same parser; fragment values win over the query.
  const cjk = encodeURIComponent(CJK_3000);
  loads.push({
    label: 'fragment: 3,000 CJK characters in every parameter',
    url: `${base}#kv-state&${all(cjk)}`,
    values: names.length,
    rejected: { '': expectsNote(codec, firstValues(CJK_3000)) },
  });
  loads.push({
    label: 'fragment: hostile values win over a valid query',
    url: `${base}?${names.map((n) => `${n}=${dflt(n)}`).join('&')}#kv-state&${all(VALUES[1].raw)}`,
    values: 2 * names.length,
    rejected: { '': expectsNote(codec, firstValues(VALUES[1].raw)) },
  });
  loads.push({
    label: 'fragment: malformed',
    url: `${base}#kv-state&%E0%A4%A=%ZZ&&=&${names[0]}&%ED%A0%80&kv-state&${HOSTILE_NAMES.join('&')}`,
    values: 3 + HOSTILE_NAMES.length,
    // A bare name reads as the empty string.
    rejected: { '': expectsNote(codec, new Map([[names[0], '']])) },
  });
  loads.push({
    // Not the kv-state mark: an ordinary anchor, so nothing in it is state.
    label: 'fragment: look-alike mark',
    url: `${base}#kv-stateX&${all(evil)}`,
    values: names.length,
    rejected: { '': [] },
  });
  loads.push({
    label: 'fragment: 200,000 characters',
    url: `${base}#kv-state&${names[0]}=${'%25'.repeat(20_000)}&${'a'.repeat(140_000)}=1`,
    values: 2,
    rejected: { '': expectsNote(codec, new Map([[names[0], '%'.repeat(20_000)]])) },
  });
  return loads;
}

interface Tally {
  /** Requests cancelled by the sweep's own navigation to the next state (reported, not failed on). */
  navigationAborts: number;
  states: number;
  values: number;
  injections: number;
  errors: number;
}
const totals: Record<string, Tally> = {};

/** Runs the loads on one page; returns every problem, labelled. */
async function sweep(
  page: Page,
  log: PageLog,
  loads: readonly Load[],
  check: (page: Page, load: Load) => Promise<string[]>,
  key: string,
): Promise<string[]> {
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  const tally: Tally = { navigationAborts: 0, states: 0, values: 0, injections: 0, errors: 0 };
  const problems: string[] = [];
  for (const load of loads) {
    const before = { c: log.consoleErrors.length, f: log.failedRequests.length, x: log.externalRequests.length, d: dialogs };
    const beforeGoto = log.failedRequests.length;
    // A URL that differs from the current one only after `#` is a same-document navigation: nothing reloads
    // and the widget never reads it. Leave the page first so every state is a fresh load.
    const cur = new URL(page.url());
    const next = new URL(load.url, cur.origin === 'null' ? 'http://x' : cur);
    if (cur.origin === next.origin && cur.pathname === next.pathname && cur.search === next.search) await page.goto('about:blank');
    await page.goto(load.url, { waitUntil: 'domcontentloaded' });
    // Leaving the previous state's page cancels what it still had in flight (prefetches, a second example's
    // tensors): net::ERR_ABORTED while our own navigation runs is the test's doing, not the site's.
    const aborted = log.failedRequests.slice(beforeGoto).filter((r) => r.includes('net::ERR_ABORTED'));
    log.failedRequests.splice(
      beforeGoto,
      log.failedRequests.length - beforeGoto,
      ...log.failedRequests.slice(beforeGoto).filter((r) => !aborted.includes(r)),
    );
    tally.navigationAborts += aborted.length;
    let drawProblems: string[];
    try {
      drawProblems = await check(page, load);
    } catch (e) {
      drawProblems = [`did not draw: ${(e as Error).message.split('\n')[0]}`];
    }
    const inj = await injections(page);
    if (dialogs > before.d) inj.push(`${dialogs - before.d} dialog(s)`);
    const errs = [
      ...log.consoleErrors.slice(before.c),
      ...log.failedRequests.slice(before.f),
      ...log.externalRequests.slice(before.x).map((u) => `external request ${u}`),
      ...drawProblems,
    ];
    tally.states++;
    tally.values += load.values;
    tally.injections += inj.length;
    tally.errors += errs.length;
    for (const p of [...inj, ...errs]) problems.push(`${load.label}: ${p}`);
  }
  totals[key] = tally;
  console.log(
    `reliability: ${key} ${tally.states} hostile states, ${tally.values} values, ${tally.injections} injections, ${tally.errors} errors (${tally.navigationAborts} requests cancelled by leaving a page)`,
  );
  return problems;
}

/** Chapters with their widgets' element ids, read from the MDX sources and the widgets' `.astro` components. */
function chapterWidgets(): { slug: string; widgets: { id: string; name: string }[] }[] {
  const root = new URL('../../../', import.meta.url);
  const componentToWidget = new Map<string, string>();
  for (const name of Object.keys(WIDGETS)) {
    const dir = new URL(`src/widgets/${name}/`, root);
    for (const f of readdirSync(dir)) if (f.endsWith('.astro')) componentToWidget.set(f.replace(/\.astro$/, ''), name);
  }
  const articles = new URL('content/articles/', root);
  const out: { slug: string; widgets: { id: string; name: string }[] }[] = [];
  if (!existsSync(articles)) return out;
  for (const f of readdirSync(articles)
    .filter((f) => f.endsWith('.mdx'))
    .sort()) {
    const src = readFileSync(new URL(f, articles), 'utf8');
    const widgets = [...src.matchAll(/<([A-Z][A-Za-z]*)\s+id="([^"]+)"/g)]
      .filter((m) => componentToWidget.has(m[1]))
      .map((m) => ({ id: m[2], name: componentToWidget.get(m[1])! }));
    if (widgets.length) out.push({ slug: f.replace(/\.mdx$/, ''), widgets });
  }
  return out;
}

/** Values used on chapter pages (each chapter is heavier than an embed, so a few): markup, bad escape, out of range. */
const CHAPTER_VALUES: readonly Hostile[] = [VALUES[0], VALUES[3], VALUES[5], VALUES[14]];

function chapterLoads(): Load[] {
  const loads: Load[] = [];
  for (const { slug, widgets } of chapterWidgets()) {
    for (const v of CHAPTER_VALUES) {
      const params = widgets.flatMap((w) => WIDGETS[w.name].codec.names.map((n) => `${encodeURIComponent(w.id)}.${n}=${v.raw}`));
      // Each widget on the page notes its own rejected values (every value here is rejected by `theme` at least).
      const rejected = Object.fromEntries(
        widgets.map((w) => {
          const codec = WIDGETS[w.name].codec;
          return [w.id, expectsNote(codec, new Map(codec.names.map((n) => [n, decoded(v.raw)])))];
        }),
      );
      loads.push({ label: `${slug} ${v.label}`, url: `/articles/${slug}/?${params.join('&')}`, values: params.length, rejected });
    }
  }
  return loads;
}

// Each widget's sweep is its own test, so the two workers share them (one page per test, reused across loads).
test.describe.configure({ mode: 'parallel' });

// The detector itself: a page with each planted injection must be reported, or a clean sweep would mean nothing.
test('the injection check reports planted injections', async ({ page }) => {
  await page.setContent('<p>clean</p>');
  expect(await injections(page)).toEqual([]);
  await page.setContent(
    '<div id="host"></div><img src="x" onerror="window.__pwned=1"><a href="javascript:void 0">a</a><script>window.__pwned=3</script>',
  );
  await page.evaluate(() => {
    document.getElementById('host')!.attachShadow({ mode: 'open' }).innerHTML = '<svg onload="void 0"></svg>';
  });
  const found = await injections(page);
  // The script sets 3 while parsing; the image's onerror may set 1 after it.
  expect(found.filter((f) => /^window\.__pwned = [13]$/.test(f))).toHaveLength(1);
  for (const f of ['<img onerror>', 'img[src="x"]', '<a href="javascript:void 0">', '<script> with __pwned', '<svg onload>'])
    expect(found).toContain(f);
});

// The corpus itself: it must not shrink silently (a refactor that drops values or parameters fails here).
test('hostile corpus covers every parameter of every embeddable widget', () => {
  expect(EMBEDDABLE.length).toBeGreaterThanOrEqual(11);
  expect(VALUES.length).toBeGreaterThanOrEqual(22);
  let states = 0;
  let values = 0;
  for (const name of EMBEDDABLE) {
    const loads = loadsFor(name);
    // Every parameter the codec reads carries every hostile value, one load per value.
    const valueLoads = loads.slice(0, VALUES.length);
    for (const l of valueLoads) {
      const present = [...new Set(new URLSearchParams(new URL(l.url, LOCAL_ORIGIN).search).keys())];
      expect(present.sort(), `${name}: ${l.label}`).toEqual([...WIDGETS[name].codec.names].sort());
    }
    // `theme` (auto, light or dark) rejects every hostile value, so each value load must show a note.
    for (const l of valueLoads) expect(l.rejected[''], `${name}: ${l.label}`).toContain('theme');
    states += loads.length;
    values += loads.reduce((s, l) => s + l.values, 0);
  }
  const chapters = chapterLoads();
  expect(chapters.length).toBeGreaterThanOrEqual(4 * 8);
  expect(chapters.every((l) => Object.values(l.rejected).every((r) => r.includes('theme')))).toBe(true);
  states += chapters.length;
  values += chapters.reduce((s, l) => s + l.values, 0);
  console.log(
    `reliability: total ${states} hostile states, ${values} values planned (${EMBEDDABLE.length} widgets, ${chapters.length} chapter loads)`,
  );
  expect(states).toBeGreaterThanOrEqual(300);
  expect(values).toBeGreaterThanOrEqual(3000);
});

for (const name of EMBEDDABLE) {
  const tag = WIDGETS[name].tag;
  test(`${name}: hostile states never inject, never break the widget`, async ({ page, log }) => {
    const loads = loadsFor(name);
    const problems = await sweep(
      page,
      log,
      loads,
      async (p, load) => {
        await waitForDraw(p, tag, MARKS_RENDERS.has(name));
        return widgetProblems(p, tag, load.rejected['']);
      },
      name,
    );
    expect(problems).toEqual([]);
    expect(totals[name].states).toBe(loads.length);
    expectClean(log);
  });
}

for (const { slug, widgets } of chapterWidgets()) {
  test(`chapter ${slug}: element-id-prefixed hostile parameters`, async ({ page, log }) => {
    const loads = chapterLoads().filter((l) => l.url.startsWith(`/articles/${slug}/?`));
    const problems = await sweep(
      page,
      log,
      loads,
      async (p, load) => {
        const out: string[] = [];
        for (const w of widgets) {
          const sel = `${WIDGETS[w.name].tag}#${w.id}`;
          await p.locator(sel).scrollIntoViewIfNeeded();
          await waitForDraw(p, sel, MARKS_RENDERS.has(w.name));
          out.push(...(await widgetProblems(p, sel, load.rejected[w.id])).map((m) => `#${w.id}: ${m}`));
        }
        return out;
      },
      `chapter ${slug}`,
    );
    expect(problems).toEqual([]);
    expect(totals[`chapter ${slug}`].states).toBe(CHAPTER_VALUES.length);
    expectClean(log);
  });
}

// A chapter widget's "Embed" panel turns its state (a hostile prompt included) into iframe code that a teacher
// pastes into another site: that code must parse to one iframe whose src carries the prompt as data.
test('chapter embed code with a hostile prompt is one inert iframe', async ({ page, log }) => {
  const evil = decoded(VALUES[0].raw);
  const withPrompt = chapterWidgets()
    .map((c) => ({ slug: c.slug, widgets: c.widgets.filter((w) => WIDGETS[w.name].codec.names.includes('prompt')) }))
    .filter((c) => c.widgets.length);
  let snippets = 0;
  for (const { slug, widgets } of withPrompt) {
    const q = widgets.map((w) => `${encodeURIComponent(w.id)}.prompt=${VALUES[0].raw}`).join('&');
    await page.goto(`/articles/${slug}/?${q}`, { waitUntil: 'domcontentloaded' });
    for (const w of widgets) {
      const widget = page.locator(`${WIDGETS[w.name].tag}#${w.id}`);
      await widget.locator('.embed-panel > summary').click();
      const area = widget.locator('.embed-panel textarea.embed-code');
      // Filled by the panel's toggle event, which fires after the click returns.
      await expect(area).not.toHaveValue('');
      const code = await area.inputValue();
      const parsed = await page.evaluate((html) => {
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const all = [...doc.body.querySelectorAll('*')];
        return {
          tags: all.map((e) => e.localName),
          handlers: all.flatMap((e) => e.getAttributeNames().filter((a) => a.startsWith('on'))),
          src: doc.querySelector('iframe')?.getAttribute('src') ?? '',
        };
      }, code);
      expect(parsed.tags, `${slug}#${w.id}`).toEqual(['iframe']);
      expect(parsed.handlers, `${slug}#${w.id}`).toEqual([]);
      expect(new URL(parsed.src).pathname, `${slug}#${w.id}`).toBe(`/embed/${w.name}/`);
      // A 41-character prompt stays in the query (only long state moves to the #kv-state fragment).
      expect(new URL(parsed.src).searchParams.get('prompt'), `${slug}#${w.id}`).toBe(evil);
      snippets++;
    }
    expect(await injections(page)).toEqual([]);
  }
  console.log(`reliability: embed code checked for ${snippets} chapter widgets with a hostile prompt`);
  expect(snippets).toBeGreaterThanOrEqual(8);
  // The open panels' preview iframes are still loading when the test moves to the next chapter; that
  // cancels their requests (net::ERR_ABORTED). Every other failure, console error or external request counts.
  expect(log.failedRequests.filter((r) => !r.includes('net::ERR_ABORTED'))).toEqual([]);
  expect(log.consoleErrors).toEqual([]);
  expect(log.externalRequests).toEqual([]);
});
