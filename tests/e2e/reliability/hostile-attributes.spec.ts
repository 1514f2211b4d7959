/**
 * Hostile-attribute sweep (issue #17), the attribute side of hostile-states.spec.ts: instructors configure widgets
 * by element attributes, which `KvWidget.attributeChangedCallback` (src/widgets/shared/base.ts) parses through the
 * same codec as URL parameters, and the script-tag bundle (src/widgets/embed-bundle.ts, built as /kv-cache-lab.js)
 * reads them from a foreign page's markup.
 *
 * 1. Runtime: on `/embed/<name>/`, after the first draw, every observed attribute is set to each hostile value in
 *    turn (`el.setAttribute`); then every attribute is removed, and valid values are set back.
 * 2. Markup: host pages on another origin (a second local server) write every embeddable widget's tag with hostile
 *    attribute values (quotes and markup included, HTML-escaped as a host page must) next to the bundle's script tag.
 *
 * Each state must show what the URL sweep requires: no dialog, no script run, no inline handler, `javascript:` URL or
 * `img[src=x]` (light DOM and open shadow roots), no uncaught error, console error or failed request, a visible drawn
 * widget without an error status, and the replaced-settings note naming every value the codec must reject (base.ts
 * re-parses all attributes on each change and shows those notes). After valid values are set back the widget must
 * show what a fresh load of the same settings shows. On host pages, the page's own DOM outside the widgets is unchanged.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect, expectClean, LOCAL_ORIGIN, type PageLog } from '../support';
import { EMBEDDABLE, WIDGETS } from '../widgets';
import { CJK_3000, MARKS_RENDERS, VALUES, expectsNote, injections, waitForDraw, widgetProblems } from './hostile-corpus';
import type { WidgetCodec } from '../../../src/widgets/shared/declare';

/** An attribute value: the string `setAttribute` receives, or that the host page's markup decodes to. */
interface AttrValue {
  label: string;
  value: string;
}

/**
 * The URL corpus as attribute text: encoded values decoded back to what they stand for; the deliberately malformed
 * escapes (`50%`, `%ZZ`, …) stay literal, as an instructor could type them.
 */
const fromUrlCorpus: AttrValue[] = VALUES.map((v) => {
  try {
    return { label: v.label, value: decodeURIComponent(v.raw) };
  } catch {
    return { label: v.label, value: v.raw };
  }
});

/** Values only an attribute can carry, or that matter most in markup. */
const ATTRIBUTE_ONLY: readonly AttrValue[] = [
  { label: 'single-quote break', value: "' onmouseover='window.__pwned=7' x='" },
  { label: 'entity text', value: '&lt;img src=x onerror=window.__pwned=8&gt;' },
  { label: 'closing the widget tag', value: '</kv-memory><img src=x onerror="window.__pwned=9">' },
  { label: 'lone surrogate (UTF-16)', value: '\uD800' },
  { label: 'NUL', value: '4\u0000' },
  { label: 'newline and tab', value: ' 4\n\t' },
  { label: 'JSON', value: '{"bits":2,"__proto__":{"polluted":1}}' },
  { label: 'query look-alike', value: 'bits=2&group=32#kv-state&bits=1' },
  { label: '3,000 CJK characters', value: CJK_3000 },
  // Over the prompt's 4,000-character limit: the codec cuts it and says so.
  { label: '5,000 characters of markup', value: '"><svg onload=window.__pwned=10>'.repeat(157).slice(0, 5000) },
];

const ATTR_VALUES: readonly AttrValue[] = [...fromUrlCorpus, ...ATTRIBUTE_ONLY];

/** Attribute values in a host page's markup, escaped as any host page must (the decoded value is the hostile one). */
const escapeAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The valid settings set back at the end: every enum and whole-number parameter moved off its default (the next
 * allowed value; the next whole number), a dark theme and one visible control. `model` and `prompt` keep their
 * defaults: another model or prompt means a download or a live model run, not an attribute's parse.
 */
function validSettings(codec: WidgetCodec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of codec.names) {
    const spec = codec.specs[n];
    const d = codec.defaults[n];
    out[n] = Array.isArray(d) ? d.join(',') : String(d);
    if (n === 'theme') out[n] = 'dark';
    else if (n === 'controls') out[n] = codec.controlNames[0];
    else if (n === 'model' || n === 'prompt') continue;
    else if (spec.kind === 'enum') {
      const vs = spec.values as readonly (string | number)[];
      out[n] = String(vs[(vs.indexOf(d as string | number) + 1) % vs.length]);
    } else if (spec.kind === 'int') out[n] = String((d as number) + 1 <= spec.max ? (d as number) + 1 : (d as number) - 1);
  }
  return out;
}

/** The settings that differ from the defaults (what url="page" writes to the address bar). */
function nonDefault(codec: WidgetCodec, settings: Record<string, string>): [string, string][] {
  return Object.entries(settings)
    .filter(([n, v]) => {
      const d = codec.defaults[n];
      return v !== (Array.isArray(d) ? d.join(',') : String(d));
    })
    .sort();
}

/** What a reader sees of a widget's settings and draw: theme, visible controls, control values, chart summaries. */
async function snapshot(page: Page, selector: string) {
  return page.evaluate((sel) => {
    const w = document.querySelector(sel)!;
    const controls = w.querySelector('.widget-controls');
    return {
      theme: w.getAttribute('data-theme'),
      shown: [...(controls?.querySelectorAll<HTMLElement>('[data-control]') ?? [])].map((c) => `${c.dataset.control}:${!c.hidden}`),
      prompt: w.querySelector<HTMLTextAreaElement>('.ctl-prompt textarea')?.value ?? null,
      values: [...(controls?.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select, textarea') ?? [])].map((i) =>
        i instanceof HTMLInputElement && (i.type === 'checkbox' || i.type === 'radio') ? String(i.checked) : i.value,
      ),
      notes: [...w.querySelectorAll('.param-notes li')].map((li) => li.textContent),
      // Not the status text itself: some widgets report a duration there ("304 configurations in 5.6 s").
      asksToRun: (w.querySelector('.widget > .status')?.textContent ?? '').includes('The prompt from the link is in the text box'),
      summaries: [...w.querySelectorAll('.chart-summary')].map((s) => s.textContent),
      errors: [...w.querySelectorAll('.status.error')].map((e) => e.textContent),
    };
  }, selector);
}

/**
 * Widgets whose controls do not follow an attribute change (the state, the chart, the summaries and the address
 * bar follow, but a slider or select keeps showing the value it had before): their control values are left out of
 * the recovery comparison (everything else is compared). Empty now: memory, vector, kv-explorer, quantizer,
 * residual, attention, perplexity, config and rotation were on it (their `kv-state` listeners moved only bits and
 * group back) and now register their controls with the base (`bindControls` in src/widgets/shared/base.ts), which
 * moves every one to the state after each change; kv-generation was fixed in src/widgets/generation/element.ts.
 * Add a widget here only with a reason; the prompt box of the tensor-picker widgets is compared for all.
 */
const STALE_CONTROLS = new Set<string>([]);

/**
 * Waits until the widget on `page` shows what the same widget on `reference` shows (both may still be loading
 * tensors or computing, so both are read on every poll); null when they agree.
 */
async function expectSameView(page: Page, reference: Page, selector: string, name: string, label: string) {
  const controls = !STALE_CONTROLS.has(name);
  await expect
    .poll(
      async () => {
        const [got, want] = await Promise.all([snapshot(page, selector), snapshot(reference, selector)]);
        if (!controls) got.values = want.values = [];
        // Only what differs, item by item (a full snapshot is cut short in the failure message).
        const diff: string[] = [];
        for (const k of Object.keys(want) as (keyof typeof want)[]) {
          const g = got[k];
          const w = want[k];
          if (Array.isArray(g) && Array.isArray(w)) {
            for (let i = 0; i < Math.max(g.length, w.length); i++)
              if (JSON.stringify(g[i]) !== JSON.stringify(w[i]))
                diff.push(`${k}[${i}]: ${JSON.stringify(g[i])?.slice(0, 160)} (fresh: ${JSON.stringify(w[i])?.slice(0, 160)})`);
          } else if (JSON.stringify(g) !== JSON.stringify(w)) diff.push(`${k}: ${JSON.stringify(g)} (fresh: ${JSON.stringify(w)})`);
        }
        return diff.length ? diff : null;
      },
      { message: `${label}: widget after valid attributes vs a fresh load of the same settings` },
    )
    .toBeNull();
}

/** Two animation frames: attribute changes redraw synchronously, but some widgets start their load on the next frame. */
const settle = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

interface Tally {
  sets: number;
  values: number;
  injections: number;
  errors: number;
}

/** Counts dialogs (and dismisses them) on a page. */
function dialogCounter(page: Page) {
  const counter = { n: 0 };
  page.on('dialog', (d) => {
    counter.n++;
    void d.dismiss();
  });
  return counter;
}

/** Injections, dialogs and new log entries since `before`, plus the given widget problems. */
async function problemsSince(
  page: Page,
  log: PageLog,
  dialogs: { n: number },
  before: { c: number; f: number; x: number; d: number },
  widget: string[],
) {
  const inj = await injections(page);
  if (dialogs.n > before.d) inj.push(`${dialogs.n - before.d} dialog(s)`);
  const errs = [
    ...log.consoleErrors.slice(before.c),
    ...log.failedRequests.slice(before.f),
    ...log.externalRequests.slice(before.x).map((u) => `external request ${u}`),
    ...widget,
  ];
  return { inj, errs };
}
const mark = (log: PageLog, dialogs: { n: number }) => ({
  c: log.consoleErrors.length,
  f: log.failedRequests.length,
  x: log.externalRequests.length,
  d: dialogs.n,
});

test.describe.configure({ mode: 'parallel' });

// The corpus must not shrink silently: every value reaches every observed attribute of every embeddable widget.
test('hostile attribute corpus covers every parameter of every embeddable widget', () => {
  expect(EMBEDDABLE.length).toBeGreaterThanOrEqual(11);
  expect(ATTR_VALUES.length).toBeGreaterThanOrEqual(32);
  let sets = 0;
  let values = 0;
  for (const name of EMBEDDABLE) {
    const codec = WIDGETS[name].codec;
    // `theme` (auto, light or dark) rejects every hostile value, so each set must show a note.
    for (const v of ATTR_VALUES)
      expect(expectsNote(codec, new Map(codec.names.map((n) => [n, v.value]))), `${name}: ${v.label}`).toContain('theme');
    sets += ATTR_VALUES.length;
    values += ATTR_VALUES.length * codec.names.length;
  }
  const pages = hostPages();
  expect(pages.length).toBeGreaterThanOrEqual(6);
  sets += pages.length * EMBEDDABLE.length;
  values += pages.reduce((s, p) => s + p.widgets.reduce((t, w) => t + Object.keys(w.attrs).length, 0), 0);
  // The mixed host page carries every value somewhere.
  const mixed = new Set(pages[0].widgets.flatMap((w) => Object.values(w.attrs)));
  for (const v of ATTR_VALUES) expect(mixed.has(v.value), `mixed host page: ${v.label}`).toBe(true);
  console.log(
    `reliability: total ${sets} hostile attribute sets, ${values} values planned (${EMBEDDABLE.length} widgets, ${pages.length} host pages)`,
  );
  for (const n of STALE_CONTROLS) expect(EMBEDDABLE, 'STALE_CONTROLS names an embeddable widget').toContain(n);
  expect(sets).toBeGreaterThanOrEqual(400);
  expect(values).toBeGreaterThanOrEqual(4000);
});

for (const name of EMBEDDABLE) {
  const { tag, codec } = WIDGETS[name];
  test(`${name}: hostile attributes set at runtime never inject, never break the widget, and it recovers`, async ({
    page,
    context,
    log,
  }) => {
    const dialogs = dialogCounter(page);
    await page.goto(`/embed/${name}/`, { waitUntil: 'domcontentloaded' });
    await waitForDraw(page, tag, MARKS_RENDERS.has(name));
    // The element observes exactly its codec's parameters (params.ts `observedAttributesOf`).
    const observed = await page.evaluate(
      (t) => [...((customElements.get(t) as unknown as { observedAttributes: string[] }).observedAttributes ?? [])],
      tag,
    );
    expect([...observed].sort()).toEqual([...codec.names].sort());

    const tally: Tally = { sets: 0, values: 0, injections: 0, errors: 0 };
    const problems: string[] = [];
    for (const v of ATTR_VALUES) {
      const before = mark(log, dialogs);
      await page.evaluate(
        ({ t, names, value }) => {
          const e = document.querySelector(t)!;
          for (const n of names) e.setAttribute(n, value);
        },
        { t: tag, names: observed, value: v.value },
      );
      let widget: string[];
      try {
        await settle(page);
        await waitForDraw(page, tag, MARKS_RENDERS.has(name));
        widget = await widgetProblems(page, tag, expectsNote(codec, new Map(observed.map((n) => [n, v.value]))));
      } catch (e) {
        widget = [`did not draw: ${(e as Error).message.split('\n')[0]}`];
      }
      const { inj, errs } = await problemsSince(page, log, dialogs, before, widget);
      tally.sets++;
      tally.values += observed.length;
      tally.injections += inj.length;
      tally.errors += errs.length;
      for (const p of [...inj, ...errs]) problems.push(`${v.label}: ${p}`);
    }
    console.log(
      `reliability: ${name} ${tally.sets} hostile attribute sets, ${tally.values} values, ${tally.injections} injections, ${tally.errors} errors`,
    );
    expect(problems).toEqual([]);
    expect(tally.sets).toBe(ATTR_VALUES.length);

    // Removing every attribute brings back the defaults, with no note left.
    await page.evaluate(
      ({ t, names }) => {
        const e = document.querySelector(t)!;
        for (const n of names) e.removeAttribute(n);
      },
      { t: tag, names: observed },
    );
    await settle(page);
    await waitForDraw(page, tag, MARKS_RENDERS.has(name));
    await expect(page.locator(`${tag} .param-notes`)).toBeHidden();
    expect(await widgetProblems(page, tag, [])).toEqual([]);

    // Valid values set back: the widget must show what a fresh load of the same settings shows, and write exactly
    // the non-default ones to the address bar (url="page").
    const valid = validSettings(codec);
    await page.evaluate(
      ({ t, valid }) => {
        const e = document.querySelector(t)!;
        for (const [n, v] of Object.entries(valid)) e.setAttribute(n, v);
      },
      { t: tag, valid },
    );
    const expectedQuery = nonDefault(codec, valid);
    expect(expectedQuery.length).toBeGreaterThanOrEqual(2);
    const fresh = await context.newPage();
    await fresh.goto(`/embed/${name}/?${new URLSearchParams(expectedQuery)}`, { waitUntil: 'domcontentloaded' });
    await waitForDraw(fresh, tag, MARKS_RENDERS.has(name));
    await expectSameView(page, fresh, tag, name, name);
    const reference = await snapshot(fresh, tag);
    await fresh.close();
    expect(reference.theme).toBe('dark');
    expect(reference.errors).toEqual([]);
    expect(reference.notes).toEqual([]);
    expect([...new URL(page.url()).searchParams].sort()).toEqual(expectedQuery);
    expect(await injections(page)).toEqual([]);
    expect(dialogs.n).toBe(0);
    expectClean(log);
  });
}

/** Widgets whose prompt goes through the shared tensor picker (src/widgets/shared/tensor-picker.ts `applyPrompt`). */
const PICKER_WIDGETS = EMBEDDABLE.filter((n) =>
  readFileSync(new URL(`../../../src/widgets/${n}/element.ts`, import.meta.url), 'utf8').includes('applyPrompt('),
);

// Found by the sweep above: after a hostile `prompt` attribute was removed (or set back to ''), the picker drew the
// default example again but left the hostile text in the prompt box, with the status line still asking the reader to
// run it. The box must show the text whose tensors are drawn.
test('a prompt attribute taken back leaves the drawn example’s text in the prompt box, not the old prompt', async ({ page, log }) => {
  expect(PICKER_WIDGETS.length).toBeGreaterThanOrEqual(4);
  const evil = fromUrlCorpus[0].value;
  for (const name of PICKER_WIDGETS) {
    const tag = WIDGETS[name].tag;
    await page.goto(`/embed/${name}/`, { waitUntil: 'domcontentloaded' });
    await waitForDraw(page, tag, MARKS_RENDERS.has(name));
    const area = page.locator(`${tag} .ctl-prompt textarea`);
    // Some widgets draw their chart frame before the example's tensors (and text) arrive.
    await expect(area, name).not.toHaveValue('');
    const example = await area.inputValue();
    expect(example.length, name).toBeGreaterThan(0);
    const status = page.locator(`${tag} .widget > .status`);
    for (const takeBack of ['remove', 'empty'] as const) {
      await page.locator(tag).evaluate((e, v) => e.setAttribute('prompt', v), evil);
      await expect(area, name).toHaveValue(evil);
      await page
        .locator(tag)
        .evaluate((e, how) => (how === 'remove' ? e.removeAttribute('prompt') : e.setAttribute('prompt', '')), takeBack);
      await expect(area, `${name}: ${takeBack}`).toHaveValue(example);
      await expect(status, `${name}: ${takeBack}`).not.toContainText('The prompt from the link');
    }
    expect(await injections(page)).toEqual([]);
  }
  expectClean(log);
});

// ---- The script-tag bundle on a foreign-origin host page ----

// A real server on another loopback port stands for the course site (as in bundle-style.spec.ts: a page answered
// by a Playwright route has no address, and Chromium's Private Network Access then refuses its requests to
// 127.0.0.1, where the bundle lives).
const PORT = Number(process.env.E2E_HOSTILE_HOST_PORT ?? 4447);
const HOST = `http://127.0.0.1:${PORT}`;

interface HostWidget {
  tag: string;
  name: string;
  attrs: Record<string, string>;
}
interface HostPage {
  path: string;
  label: string;
  widgets: HostWidget[];
}

/** The host page's own content around the widgets (what must stay as it was). */
const hostHtml = (widgets: readonly HostWidget[], bundle: boolean) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Course page</title><style>.note{color:#333}</style></head><body>
<header id="host-header"><p class="widget-title" id="host-title">Week 3: KV caches</p><nav><a href="#reading">Reading</a></nav></header>
<main id="host-main"><p id="host-intro" class="note">Try the widgets below.</p>
${widgets
  .map(
    (w) =>
      `<${w.tag} ${Object.entries(w.attrs)
        .map(([n, v]) => `${n}="${escapeAttr(v)}"`)
        .join(' ')}></${w.tag}>`,
  )
  .join('\n<p class="between">…</p>\n')}
<form id="host-form" action="/search"><label>Search <input name="q" value="kv cache"></label></form>
<div class="widget" id="host-widget"><p class="status">Host status</p></div>
<p id="host-outro">End of page.</p></main>
${bundle ? `<script type="module" src="${LOCAL_ORIGIN}/kv-cache-lab.js"></script>` : ''}
</body></html>`;

/**
 * Host pages: a mixed one (attribute i of widget j gets value (i + 7j) mod n, so every value appears) and uniform
 * ones with one markup value in every attribute of every widget.
 */
function hostPages(): HostPage[] {
  const pages: HostPage[] = [];
  const n = ATTR_VALUES.length;
  pages.push({
    path: '/mixed.html',
    label: 'mixed values',
    widgets: EMBEDDABLE.map((name, j) => ({
      name,
      tag: WIDGETS[name].tag,
      attrs: Object.fromEntries(WIDGETS[name].codec.names.map((p, i) => [p, ATTR_VALUES[(i + 7 * j) % n].value])),
    })),
  });
  const uniform = ['attr-break img onerror', 'script close/open', 'single-quote break', 'entity text', 'closing the widget tag'];
  for (const label of uniform) {
    const v = ATTR_VALUES.find((a) => a.label === label)!.value;
    pages.push({
      path: `/uniform-${pages.length}.html`,
      label,
      widgets: EMBEDDABLE.map((name) => ({
        name,
        tag: WIDGETS[name].tag,
        attrs: Object.fromEntries(WIDGETS[name].codec.names.map((p) => [p, v])),
      })),
    });
  }
  return pages;
}

function validPage(): HostPage {
  return {
    path: '/valid.html',
    label: 'valid',
    widgets: EMBEDDABLE.map((name) => ({ name, tag: WIDGETS[name].tag, attrs: validSettings(WIDGETS[name].codec) })),
  };
}

/**
 * The host page's DOM with the widgets reduced to bare tags (their content and attributes are the widgets' own) and
 * the bundle's stylesheet set aside, as markup: equal before and after the bundle ran means the page is unchanged.
 */
async function hostDom(page: Page): Promise<{ html: string; styles: number; preloadOrigins: string[] }> {
  return page.evaluate(() => {
    const doc = document.documentElement.cloneNode(true) as HTMLElement;
    for (const w of doc.querySelectorAll('*')) {
      if (!w.localName.startsWith('kv-')) continue;
      w.replaceChildren();
      for (const a of w.getAttributeNames()) w.removeAttribute(a);
    }
    const styles = doc.querySelectorAll('#kv-cache-lab-style').length;
    doc.querySelector('#kv-cache-lab-style')?.remove();
    // The bundle's own script tag (absent from the page without the bundle), and the <link rel="modulepreload"> and
    // <link rel="stylesheet"> tags that Vite's dynamic-import helper adds to <head> for the widgets' code chunks and
    // their CSS (their origins are checked).
    for (const sc of doc.querySelectorAll('script[src$="/kv-cache-lab.js"]')) sc.remove();
    const preloads: string[] = [];
    for (const l of doc.querySelectorAll<HTMLLinkElement>('head > link[rel="modulepreload"], head > link[rel="stylesheet"]')) {
      preloads.push(new URL(l.href).origin);
      l.remove();
    }
    return { html: doc.outerHTML, styles, preloadOrigins: [...new Set(preloads)] };
  });
}

test.describe('script-tag bundle', () => {
  let server: http.Server | null = null;
  test.beforeAll(async () => {
    const pages = new Map<string, string>();
    for (const p of [...hostPages(), validPage()]) {
      pages.set(p.path, hostHtml(p.widgets, true));
      pages.set(p.path.replace('.html', '-plain.html'), hostHtml(p.widgets, false));
    }
    server = http.createServer((req, res) => {
      const html = pages.get(new URL(req.url ?? '/', HOST).pathname);
      res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html ?? 'not found');
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(PORT, '127.0.0.1', () => resolve());
    });
  });
  test.afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  test('hostile attributes in a foreign host page’s markup never inject, never break a widget or the page', async ({
    page,
    context,
    log,
  }) => {
    // Let the host origin through the log fixture's "local server only" rule (it stands for a course site).
    await context.route(`${HOST}/**`, (route) => route.continue());
    const dialogs = dialogCounter(page);
    const tally: Tally = { sets: 0, values: 0, injections: 0, errors: 0 };
    const problems: string[] = [];
    const pages = hostPages();
    for (const hp of pages) {
      // The same markup without the bundle: what the host page's DOM is when no widget code runs.
      await page.goto(`${HOST}${hp.path.replace('.html', '-plain.html')}`);
      const plain = await hostDom(page);
      const before = mark(log, dialogs);
      await page.goto(`${HOST}${hp.path}`, { waitUntil: 'domcontentloaded' });
      const widget: string[] = [];
      for (const w of hp.widgets) {
        try {
          await page.locator(w.tag).scrollIntoViewIfNeeded();
          await waitForDraw(page, w.tag, MARKS_RENDERS.has(w.name));
          const rejected = expectsNote(WIDGETS[w.name].codec, new Map(Object.entries(w.attrs)));
          widget.push(...(await widgetProblems(page, w.tag, rejected)).map((m) => `<${w.tag}>: ${m}`));
        } catch (e) {
          widget.push(`<${w.tag}> did not draw: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      await page.waitForLoadState('networkidle');
      const after = await hostDom(page);
      if (after.styles !== 1) widget.push(`${after.styles} bundle stylesheets`);
      for (const o of after.preloadOrigins) if (o !== LOCAL_ORIGIN) widget.push(`bundle <link> from ${o}`);
      if (after.html !== plain.html) {
        let i = 0;
        while (after.html[i] === plain.html[i]) i++;
        widget.push(
          `host page DOM outside the widgets changed at …${plain.html.slice(i - 80, i + 80)}… → …${after.html.slice(i - 80, i + 80)}…`,
        );
      }
      if (page.url() !== `${HOST}${hp.path}`) widget.push(`host URL changed to ${page.url()}`);
      const { inj, errs } = await problemsSince(page, log, dialogs, before, widget);
      tally.sets += hp.widgets.length;
      tally.values += hp.widgets.reduce((s, w) => s + Object.keys(w.attrs).length, 0);
      tally.injections += inj.length;
      tally.errors += errs.length;
      for (const p of [...inj, ...errs]) problems.push(`${hp.label}: ${p}`);
    }
    console.log(
      `reliability: script-tag bundle ${tally.sets} hostile attribute sets, ${tally.values} values, ${tally.injections} injections, ${tally.errors} errors (${pages.length} host pages)`,
    );
    expect(problems).toEqual([]);

    // Recovery on the foreign page: valid attributes set on the mixed page's widgets show what a host page with
    // those attributes in its markup shows.
    const valid = validPage();
    await page.goto(`${HOST}${pages[0].path}`, { waitUntil: 'domcontentloaded' });
    for (const w of valid.widgets) {
      await page.locator(w.tag).scrollIntoViewIfNeeded();
      await waitForDraw(page, w.tag, MARKS_RENDERS.has(w.name));
      await page.evaluate(
        ({ t, attrs }) => {
          const e = document.querySelector(t)!;
          for (const [n, v] of Object.entries(attrs)) e.setAttribute(n, v);
        },
        { t: w.tag, attrs: w.attrs },
      );
    }
    const fresh = await context.newPage();
    await fresh.goto(`${HOST}${valid.path}`, { waitUntil: 'domcontentloaded' });
    for (const w of valid.widgets) {
      await fresh.locator(w.tag).scrollIntoViewIfNeeded();
      await waitForDraw(fresh, w.tag, MARKS_RENDERS.has(w.name));
      await expectSameView(page, fresh, w.tag, w.name, `script tag <${w.tag}>`);
      const reference = await snapshot(fresh, w.tag);
      expect(reference.theme, w.tag).toBe('dark');
      expect(reference.notes, w.tag).toEqual([]);
      expect(reference.errors, w.tag).toEqual([]);
    }
    await fresh.close();
    expect(await injections(page)).toEqual([]);
    expect(new URL(page.url()).search).toBe('');
    expect(dialogs.n).toBe(0);
    expectClean(log);
  });
});
