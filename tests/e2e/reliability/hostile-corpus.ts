/**
 * The hostile-input corpus and checks shared by the reliability sweeps (issue #17): hostile-states.spec.ts
 * (URL parameters, `#kv-state` fragments, chapter-prefixed parameters) and hostile-attributes.spec.ts (element
 * attributes set at runtime, and the script-tag bundle's markup on a foreign-origin host page).
 */
import type { Page } from '@playwright/test';
import { readFileSync, existsSync } from 'node:fs';
import { WIDGETS } from '../widgets';
import type { ParamSpec } from '../../../src/widgets/shared/params';
import type { WidgetCodec } from '../../../src/widgets/shared/declare';

/** A hostile value: `raw` goes into the URL as is (already percent-encoded, or deliberately malformed). */
export interface Hostile {
  label: string;
  raw: string;
}
export const enc = (label: string, value: string): Hostile => ({ label, raw: encodeURIComponent(value) });
/** Written into the URL unencoded: stray `%`, invalid escapes, a lone surrogate's UTF-8 bytes. */
export const rawOf = (label: string, raw: string): Hostile => ({ label, raw });

export const CJK_3000 = '键值缓存量化'.repeat(500);

/** One page load per value and widget; every parameter of the widget carries the value. */
export const VALUES: readonly Hostile[] = [
  enc('attr-break img onerror', '"><img src=x onerror="window.__pwned=1">'),
  enc('svg onload', '<svg onload=window.__pwned=2>'),
  enc('script close/open', '</script><script>window.__pwned=3</script>'),
  enc('javascript: URL', 'javascript:window.__pwned=4'),
  rawOf('stray %', '50%'),
  rawOf('bad escape %ZZ', '%ZZ'),
  rawOf('truncated UTF-8 escape', '%E0%A4%A'),
  rawOf('lone surrogate', '%ED%A0%80'),
  enc('-1', '-1'),
  enc('1e309', '1e309'),
  enc('NaN', 'NaN'),
  enc('Infinity', 'Infinity'),
  enc('0x10', '0x10'),
  enc('1.5', '1.5'),
  enc('20 digits', '99999999999999999999'),
  enc('empty', ''),
  enc('__proto__', '__proto__'),
  enc('constructor', 'constructor'),
  enc('toString', 'toString'),
  enc('RTL override', '\u202E4'),
  enc('zero-width joiner', '4\u200D'),
  enc('emoji', '🔥4️⃣'),
];

/** Hostile parameter names (the values are plain): none is a widget parameter, so all must be ignored. */
export const HOSTILE_NAMES: readonly string[] = [
  '__proto__=1',
  '__proto__[bits]=2',
  'constructor=1',
  'constructor.prototype.bits=2',
  'toString=1',
  'hasOwnProperty=1',
  `${encodeURIComponent('<img src=x onerror=window.__pwned=5>')}=1`,
  `bits${encodeURIComponent('<svg onload=window.__pwned=6>')}=2`,
  '%ZZ=1',
  '50%=1',
  '%ED%A0%80=1',
  '=4',
  '.bits=2',
  'x.bits=2',
  '&&&',
];

/** Whether the codec must keep `raw` (decoded) for this parameter (params.ts rules, restated independently). */
export function accepted(spec: ParamSpec, raw: string, controlNames: readonly string[]): boolean {
  switch (spec.kind) {
    case 'text':
      return raw.length <= spec.maxLength;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((i) => controlNames.includes(i));
    case 'int':
      return /^\s*-?\d+\s*$/.test(raw) && Number(raw) >= spec.min && Number(raw) <= spec.max;
    case 'enum':
      return typeof spec.values[0] === 'number'
        ? raw.trim() !== '' && (spec.values as readonly number[]).includes(Number(raw))
        : (spec.values as readonly string[]).includes(raw.trim().toLowerCase());
  }
}

/** What URLSearchParams reads back for a query component (the parser the widgets use). */
export const decoded = (raw: string) => new URLSearchParams(`v=${raw}`).get('v') ?? '';

/** The parameters in `params` (name → first value) that the codec must replace or cut, each with a note. */
export function expectsNote(codec: WidgetCodec, params: ReadonlyMap<string, string>): string[] {
  return [...params].filter(([n, v]) => !accepted(codec.specs[n], v, codec.controlNames)).map(([n]) => n);
}

/** Inline handlers, injected images/scripts, `javascript:` URLs, the flag: in the light DOM and open shadow roots. */
export async function injections(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    if ((window as unknown as { __pwned?: unknown }).__pwned !== undefined)
      found.push(`window.__pwned = ${String((window as unknown as { __pwned?: unknown }).__pwned)}`);
    const visit = (root: Document | ShadowRoot) => {
      for (const e of root.querySelectorAll('*')) {
        for (const a of e.getAttributeNames()) {
          if (a.startsWith('on')) found.push(`<${e.localName} ${a}>`);
          const v = (e.getAttribute(a) ?? '').trim().toLowerCase();
          if ((a === 'href' || a === 'src' || a === 'action' || a === 'formaction' || a === 'xlink:href') && v.startsWith('javascript:'))
            found.push(`<${e.localName} ${a}="${v.slice(0, 40)}">`);
        }
        if (e.localName === 'img' && e.getAttribute('src') === 'x') found.push('img[src="x"]');
        if (e.localName === 'script' && (e.textContent ?? '').includes('__pwned')) found.push('<script> with __pwned');
        if (e.shadowRoot) visit(e.shadowRoot);
      }
    };
    visit(document);
    return found;
  });
}

/**
 * Widgets that mark each finished draw of real tensors with `data-rendered` (their heatmap canvases exist before
 * the tensors arrive, so a canvas alone is not a draw): read from the widget's own element source.
 */
export const MARKS_RENDERS = new Set(
  Object.keys(WIDGETS).filter((n) => {
    const f = new URL(`../../../src/widgets/${n}/element.ts`, import.meta.url);
    return existsSync(f) && readFileSync(f, 'utf8').includes('dataset.rendered');
  }),
);

/** The widget's first draw: a chart, table or metric (or a filled summary) in its body, with no load in progress. */
export async function waitForDraw(page: Page, selector: string, rendered: boolean): Promise<void> {
  await page.waitForFunction(
    ({ sel, rendered }) => {
      const w = document.querySelector(sel);
      const body = w?.querySelector('.widget-body');
      if (!w || !body || !body.querySelector('canvas, svg, table, .metric, .chart-summary:not(:empty)')) return false;
      if (rendered && !w.hasAttribute('data-rendered')) return false;
      const bar = w.querySelector('.status progress') as HTMLProgressElement | null;
      return !bar || bar.hidden;
    },
    { sel: selector, rendered },
    // The trade-off widget's first draw includes its whole sweep (up to ~20 s on a loaded 2-core machine, longer
    // with two sweeps side by side on the script-tag pages); a widget that never draws still fails here.
    { timeout: 90_000, polling: 100 },
  );
}

/**
 * Visible widget, non-empty body, no error status; when values were rejected, a visible note with an item
 * naming each of them (one round trip per load).
 */
export async function widgetProblems(page: Page, selector: string, rejected: readonly string[]): Promise<string[]> {
  return page.evaluate(
    ({ sel, rejected }) => {
      // What Playwright's isVisible() means: rendered with a non-empty box and not visibility:hidden.
      const visible = (e: Element | null) => {
        if (!e || !e.checkVisibility({ visibilityProperty: true })) return false;
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0;
      };
      const problems: string[] = [];
      if (!visible(document.querySelector(`${sel} .widget`))) problems.push('widget not visible');
      const body = document.querySelector(`${sel} .widget-body`);
      if (!body || (body.childElementCount === 0 && !body.textContent?.trim())) problems.push('empty widget body');
      const errors = [...document.querySelectorAll(`${sel} .status.error`)].map((e) => e.textContent ?? '');
      if (errors.length) problems.push(`error status: ${errors.join(' | ')}`);
      const notes = document.querySelector(`${sel} .param-notes`);
      if (rejected.length && !visible(notes)) problems.push('no note for a rejected value');
      else {
        const items = [...(notes?.querySelectorAll('li') ?? [])].map((li) => li.textContent ?? '');
        for (const n of rejected)
          if (!items.some((t) => t.startsWith(n) && /^[=: ]/.test(t.slice(n.length)))) problems.push(`note does not name ${n}`);
      }
      return problems;
    },
    { sel: selector, rejected },
  );
}
