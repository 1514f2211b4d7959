/**
 * Native, labelled controls shared by the widgets: a range over a list of allowed
 * values with −/+ steppers and aria-valuetext, a select, a checkbox, a status line
 * with a progress bar, a note list for replaced URL values, a copy-link button and
 * a "show as table" toggle (with a CSV download). Text from users or URLs only ever goes in textContent.
 */

import { downloadCsv } from './export';

let uid = 0;
export const nextId = (prefix: string) => `${prefix}-${++uid}`;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}
export { el };

export interface RangeControl<T> {
  root: HTMLElement;
  input: HTMLInputElement;
  get value(): T;
  set(value: T): void;
  setValues(values: readonly T[], value: T): void;
}

/**
 * A slider over `values` (by index, so uneven steps like 1,2,3,4,8 bits work),
 * with −/+ buttons. `describe(v)` gives the aria-valuetext and the visible value.
 */
export function rangeControl<T>(o: {
  name: string;
  label: string;
  values: readonly T[];
  value: T;
  describe: (v: T) => string;
  short?: (v: T) => string;
  onChange: (v: T) => void;
}): RangeControl<T> {
  let values = o.values;
  const id = nextId(`ctl-${o.name}`);
  const input = el('input', { type: 'range', id, min: '0', step: '1' });
  input.dataset.control = o.name;
  const output = el('output', { className: 'ctl-value' });
  output.setAttribute('for', id);
  output.setAttribute('aria-hidden', 'true');
  const minus = el('button', { type: 'button', className: 'stepper', textContent: '−' });
  const plus = el('button', { type: 'button', className: 'stepper', textContent: '+' });
  minus.setAttribute('aria-label', `Decrease ${o.label.toLowerCase()}`);
  plus.setAttribute('aria-label', `Increase ${o.label.toLowerCase()}`);
  const label = el('label', { htmlFor: id, textContent: o.label });
  const root = el('div', { className: 'ctl ctl-range' }, label, el('div', { className: 'ctl-row' }, minus, input, plus, output));
  root.dataset.control = o.name;
  const sync = () => {
    const v = values[Number(input.value)];
    input.setAttribute('aria-valuetext', o.describe(v));
    output.textContent = (o.short ?? o.describe)(v);
    minus.disabled = Number(input.value) <= 0;
    plus.disabled = Number(input.value) >= values.length - 1;
  };
  const setIndex = (i: number, fire: boolean) => {
    const clamped = Math.max(0, Math.min(values.length - 1, i));
    const changed = String(clamped) !== input.value;
    input.value = String(clamped);
    sync();
    if (fire && changed) o.onChange(values[clamped]);
  };
  input.addEventListener('input', () => {
    sync();
    o.onChange(values[Number(input.value)]);
  });
  minus.addEventListener('click', () => setIndex(Number(input.value) - 1, true));
  plus.addEventListener('click', () => setIndex(Number(input.value) + 1, true));
  const api: RangeControl<T> = {
    root,
    input,
    get value() {
      return values[Number(input.value)];
    },
    set(v) {
      const i = values.indexOf(v);
      setIndex(i < 0 ? 0 : i, false);
    },
    setValues(vs, v) {
      values = vs;
      input.max = String(vs.length - 1);
      api.set(v);
    },
  };
  input.max = String(values.length - 1);
  api.set(o.value);
  return api;
}

/** `steps` with `v` added in order when it is not one of them (a value from a link or attribute between the steps). */
export const withStep = (steps: readonly number[], v: number): number[] =>
  steps.includes(v) ? [...steps] : [...steps, v].sort((a, b) => a - b);

/**
 * Follows the state with a slider built over `withStep(steps, initial)`: a new value that is not a step is added,
 * as building the widget with that value would.
 */
export const followSteps = (c: RangeControl<number>, steps: readonly number[]) => ({
  set: (v: number) => c.setValues(withStep(steps, v), v),
});

/**
 * Follows the state with a slider over 0…n−1 (layers, heads): a value past the end shows the last step, as the
 * widget's clamp to the model does, instead of the first.
 */
export const followIndex = (c: RangeControl<number>) => ({
  set: (v: number) => c.set(Math.min(Math.max(0, v), Number(c.input.max))),
});

export interface SelectControl<T extends string | number> {
  root: HTMLElement;
  select: HTMLSelectElement;
  get value(): T;
  set(v: T): void;
}

export function selectControl<T extends string | number>(o: {
  name: string;
  label: string;
  options: ReadonlyArray<{ value: T; label: string }>;
  value: T;
  onChange: (v: T) => void;
}): SelectControl<T> {
  const id = nextId(`ctl-${o.name}`);
  const select = el('select', { id });
  select.dataset.control = o.name;
  for (const opt of o.options) select.append(el('option', { value: String(opt.value), textContent: opt.label }));
  const root = el('div', { className: 'ctl ctl-select' }, el('label', { htmlFor: id, textContent: o.label }), select);
  root.dataset.control = o.name;
  const parse = (s: string) => o.options.find((opt) => String(opt.value) === s)!.value;
  select.addEventListener('change', () => o.onChange(parse(select.value)));
  select.value = String(o.value);
  return {
    root,
    select,
    get value() {
      return parse(select.value);
    },
    set(v) {
      select.value = String(v);
    },
  };
}

export function checkboxControl(o: { name: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = nextId(`ctl-${o.name}`);
  const input = el('input', { type: 'checkbox', id, checked: o.checked });
  input.dataset.control = o.name;
  input.addEventListener('change', () => o.onChange(input.checked));
  const root = el('div', { className: 'ctl ctl-check' }, input, el('label', { htmlFor: id, textContent: o.label }));
  root.dataset.control = o.name;
  return { root, input };
}

/** A polite live status line with an optional progress bar (bytes or steps). */
export function statusLine() {
  const text = el('span', { className: 'status-text' });
  const bar = el('progress', { max: 1, value: 0 });
  bar.hidden = true;
  const root = el('div', { className: 'status' }, text, bar);
  root.setAttribute('role', 'status');
  root.setAttribute('aria-live', 'polite');
  const labelId = nextId('status');
  text.id = labelId;
  bar.setAttribute('aria-labelledby', labelId);
  return {
    root,
    set(message: string, progress?: { done: number; total: number }) {
      root.classList.remove('error');
      text.textContent = message;
      if (progress && progress.total > 0) {
        bar.hidden = false;
        bar.max = progress.total;
        bar.value = Math.min(progress.done, progress.total);
      } else bar.hidden = true;
    },
    error(message: string) {
      root.classList.add('error');
      text.textContent = message;
      bar.hidden = true;
    },
  };
}

/** Notes for replaced URL/attribute values: short, visible, never HTML. */
export function noteList() {
  const root = el('ul', { className: 'param-notes' });
  root.setAttribute('aria-label', 'Settings that were replaced');
  root.hidden = true;
  return {
    root,
    show(notes: readonly string[]) {
      root.replaceChildren(...notes.map((n) => el('li', { textContent: n })));
      root.hidden = notes.length === 0;
    },
  };
}

/** Copies a URL to the clipboard, with a visible fallback when the clipboard is unavailable (sandboxed iframes). */
export function copyButton(label: string, getText: () => string) {
  const button = el('button', { type: 'button', className: 'copy-link', textContent: label });
  const feedback = el('span', { className: 'copy-feedback' });
  feedback.setAttribute('role', 'status');
  const fallback = el('input', { type: 'text', readOnly: true, className: 'copy-fallback' });
  fallback.setAttribute('aria-label', 'Link to copy');
  fallback.hidden = true;
  button.addEventListener('click', async () => {
    const text = getText();
    button.dataset.copied = text;
    try {
      await navigator.clipboard.writeText(text);
      feedback.textContent = 'Copied.';
      fallback.hidden = true;
    } catch {
      fallback.value = text;
      fallback.hidden = false;
      fallback.select();
      feedback.textContent = 'Copy the selected link.';
    }
  });
  return { root: el('span', { className: 'copy' }, button, feedback, fallback), button };
}

export interface TableData {
  caption: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

/**
 * A disclosure that shows a chart's data as an accessible table, built on demand, with a
 * "Download CSV" button (the same rows, numbers at full precision; see ./export).
 */
export function tableToggle(getTable: () => TableData) {
  const details = el('details', { className: 'data-table' });
  const summary = el('summary', { textContent: 'Show as table' });
  const holder = el('div');
  const csv = el('button', { type: 'button', className: 'export-button', textContent: 'Download CSV' });
  csv.dataset.export = 'csv';
  csv.addEventListener('click', () => {
    // The widget's tag name (kv-quantizer) starts the file name; outside a widget, the page's.
    const widget = details.closest('[class~="kv-widget"]')?.parentElement?.localName ?? 'kv-cache-lab';
    downloadCsv(getTable(), widget);
  });
  details.append(summary, el('div', { className: 'table-export' }, csv), holder);
  const render = () => {
    if (!details.open) return;
    const t = getTable();
    csv.setAttribute('aria-label', `Download the table “${t.caption}” as CSV`);
    const table = el('table');
    table.append(el('caption', { textContent: t.caption }));
    const head = el('tr', {}, ...t.columns.map((c) => el('th', { scope: 'col', textContent: c })));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    for (const r of t.rows)
      body.append(
        el(
          'tr',
          {},
          ...r.map((v) =>
            el('td', { textContent: typeof v === 'number' ? formatNumber(v) : v, className: typeof v === 'number' ? 'num' : '' }),
          ),
        ),
      );
    table.append(body);
    holder.replaceChildren(table);
  };
  details.addEventListener('toggle', render);
  return { root: details, refresh: render };
}

export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(2)} ${units[i]}`;
}

export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}
