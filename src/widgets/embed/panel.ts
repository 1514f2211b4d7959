/**
 * The "Embed" button in a widget's footer (chapters only): a native <details>
 * panel with the iframe snippet for the widget's current state, a copy button,
 * checkboxes for which controls to show (writes `controls=`), a theme choice, the
 * sandbox level, and a live preview loaded when the panel opens. Escape closes it
 * and returns focus to its summary. The snippet is built by ./snippet (URL API and
 * escaped attributes); it is shown in a read-only textarea via `.value`, never HTML.
 */
import type { Codec, ParamName } from '../shared/params';
import { THEMES } from '../shared/params';
import { checkboxControl, copyButton, el, nextId, selectControl } from '../shared/controls';
import { WIDGETS, WIDGET_NAMES, type WidgetName } from '../registry';
import { buildEmbedUrl, buildIframeSnippet, SANDBOX, type SandboxLevel } from './snippet';
import { RESIZE_MESSAGE } from './resize';

/** What the panel needs from a KvWidget (kept structural so base.ts's API does not change). */
export interface EmbeddableWidget extends HTMLElement {
  readonly codec: Codec<ParamName>;
  readonly state: Record<string, unknown>;
  readonly footerEl: HTMLElement;
}

export function widgetNameOfTag(tag: string): WidgetName | undefined {
  return WIDGET_NAMES.find((n) => WIDGETS[n].tag === tag);
}

/** Settings the panel adds on top of the widget's own state. */
export interface PanelChoice {
  controls: string[] | null; // null = all controls
  theme: (typeof THEMES)[number];
  sandbox: SandboxLevel;
}

/** The embed parameters for a widget state plus the panel's choices (pure). */
export function embedParams(codec: Codec<ParamName>, state: Record<string, unknown>, choice: PanelChoice): URLSearchParams {
  const next = { ...state } as Record<string, unknown>;
  if (codec.names.includes('controls' as ParamName))
    next.controls = choice.controls && choice.controls.length < codec.controlNames.length ? choice.controls : [];
  if (codec.names.includes('theme' as ParamName)) next.theme = choice.theme;
  return codec.serialize(next as never);
}

/** Add the Embed button and panel to a widget's footer. No-op outside chapters or for unknown tags. */
export function attachEmbedPanel(widget: EmbeddableWidget): void {
  if (widget.getAttribute('url') !== 'scoped' || typeof location === 'undefined') return;
  const name = widgetNameOfTag(widget.localName);
  if (!name) return;
  const info = WIDGETS[name];
  const base = import.meta.env.BASE_URL;
  const origin = location.origin;
  const codec = widget.codec;
  const initialControls = (widget.state.controls as string[] | undefined) ?? [];
  const choice: PanelChoice = {
    controls: initialControls.length ? [...initialControls] : null,
    theme: (widget.state.theme as PanelChoice['theme']) ?? 'auto',
    sandbox: 'recommended',
  };

  const details = el('details', { className: 'embed-panel' });
  const summary = el('summary', { textContent: 'Embed' });
  summary.setAttribute('aria-label', `Embed this widget (${info.title}) in another page`);
  details.append(summary);
  const body = el('div', { className: 'embed-body' });
  details.append(body);

  const snippetId = nextId('embed-code');
  const code = el('textarea', { id: snippetId, readOnly: true, rows: 5, className: 'embed-code', spellcheck: false });
  const preview = el('iframe', { className: 'embed-preview', title: `Preview: ${info.title} as embedded`, loading: 'lazy' });
  preview.setAttribute('sandbox', SANDBOX.recommended);
  preview.height = String(Math.min(info.height, 640));
  const openLink = el('a', { textContent: 'Open the embed page', target: '_blank', rel: 'noopener' });
  let previewTimer = 0;

  const params = () => embedParams(codec, widget.state, choice);
  const snippet = () => buildIframeSnippet({ origin, base, widget: name, params: params(), sandbox: choice.sandbox });
  const refresh = (reloadPreview: boolean) => {
    code.value = snippet();
    const url = buildEmbedUrl({ origin, base, widget: name, params: params() });
    openLink.href = url;
    details.dataset.embedUrl = url;
    if (reloadPreview && details.open) {
      clearTimeout(previewTimer);
      previewTimer = window.setTimeout(() => {
        if (preview.src !== url) preview.src = url;
      }, 250);
    }
  };

  // Which controls the embed shows.
  const fieldset = el('fieldset', { className: 'embed-controls' }, el('legend', { textContent: 'Controls to show' }));
  const boxes = codec.controlNames.map((c) => {
    const box = checkboxControl({
      name: `embed-${c}`,
      label: c,
      checked: choice.controls === null || choice.controls.includes(c),
      onChange: () => {
        const on = boxes.filter((b) => b.input.checked).map((b) => b.input.dataset.name!);
        choice.controls = on.length === codec.controlNames.length ? null : on;
        refresh(true);
      },
    });
    box.input.dataset.name = c;
    delete box.input.dataset.control;
    delete box.root.dataset.control;
    return box;
  });
  fieldset.append(...boxes.map((b) => b.root));
  const theme = selectControl<(typeof THEMES)[number]>({
    name: 'embed-theme',
    label: 'Theme',
    options: [
      { value: 'auto', label: 'Follow the reader’s system' },
      { value: 'light', label: 'Light' },
      { value: 'dark', label: 'Dark' },
    ],
    value: choice.theme,
    onChange: (v) => {
      choice.theme = v;
      refresh(true);
    },
  });
  const sandbox = selectControl<SandboxLevel>({
    name: 'embed-sandbox',
    label: 'Sandbox',
    options: [
      { value: 'recommended', label: 'Recommended (live model works)' },
      { value: 'strict', label: 'Strict: allow-scripts only' },
    ],
    value: 'recommended',
    onChange: (v) => {
      choice.sandbox = v;
      refresh(false);
    },
  });
  for (const c of [theme, sandbox]) {
    delete c.select.dataset.control;
    delete c.root.dataset.control;
  }
  const copy = copyButton('Copy embed code', () => code.value);
  const codeLabel = el('label', { htmlFor: snippetId, textContent: 'Embed code (paste into your page’s HTML)' });
  const hint = el('p', {
    className: 'embed-hint',
    textContent: `The settings above are the widget’s current state. Height ${info.height} px; add the embed-host.js script to your page to make it follow the content.`,
  });
  body.append(
    el('div', { className: 'embed-options' }, fieldset, theme.root, sandbox.root),
    codeLabel,
    code,
    el('div', { className: 'embed-actions' }, copy.root, openLink),
    hint,
    preview,
  );

  details.addEventListener('toggle', () => {
    if (details.open) {
      refresh(false);
      preview.src = details.dataset.embedUrl!;
      code.focus();
    }
  });
  details.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && details.open) {
      e.preventDefault();
      details.open = false;
      summary.focus();
    }
  });
  // The preview follows its content height, like a host page with embed-host.js.
  window.addEventListener('message', (e) => {
    if (e.source !== preview.contentWindow || !e.data || e.data.type !== RESIZE_MESSAGE) return;
    const h = Number(e.data.height);
    if (Number.isFinite(h) && h > 0) preview.height = String(Math.min(Math.round(h), 4000));
  });
  widget.addEventListener('kv-state', () => {
    if (details.open) refresh(true);
  });
  widget.footerEl.append(details);
}
