/**
 * The base of every `<kv-*>` widget. It owns what all widgets share so each widget
 * only builds its controls and chart:
 * - state: parsed from attributes, then from the page URL, never throwing; every
 *   replaced value becomes a visible note;
 * - URL sync (attribute `url`): "page" on embed pages (plain parameters),
 *   "scoped" in chapters (parameters prefixed with the element id, e.g. `q1.bits=2`,
 *   so several widgets share one URL), "none" elsewhere (default: third-party pages);
 * - the `controls` and `theme` parameters, a status line, a copy-link button,
 *   and an error boundary: a failing update shows a message, never a blank widget.
 *
 * Lifecycle: connected → build() once → update('all') → update(changed) on every
 * state change (synchronously, so a slider redraw lands in the same frame).
 */
import './widget.css';
import type { Codec } from './params';
import { copyButton, el, noteList, statusLine } from './controls';
import { attachEmbedPanel } from '../embed/panel';
import { attachFigureExports } from './export';
import { LONG_LINK_CHARS, fragmentState, placeState, stateParams } from './state-link';

export type UrlMode = 'page' | 'scoped' | 'none';

/** A control that shows one state parameter: `set` moves it to a value without calling its onChange. */
export interface FollowsState<V> {
  set(value: V): void;
}

/** `N`: the widget's parameter names; `S`: its state (the codec's parse result). */
export abstract class KvWidget<N extends string, S extends Record<N, unknown>> extends HTMLElement {
  abstract readonly codec: Codec<N, S>;
  /** Title shown above the widget (also its accessible group name). */
  abstract readonly widgetTitle: string;

  state!: S;
  notes: string[] = [];
  readonly status = statusLine();
  readonly noteView = noteList();
  readonly controlsEl = el('div', { className: 'widget-controls' });
  readonly bodyEl = el('div', { className: 'widget-body' });
  readonly footerEl = el('div', { className: 'widget-footer' });
  /** Says when the last copied link keeps its state in the fragment or is long (textContent only). */
  readonly linkNote = el('p', { className: 'link-note' });
  #built = false;
  #syncingAttributes = false;
  #bodyWidth = -1;
  #bound: Array<[N, FollowsState<unknown>]> = [];

  /**
   * The body's width in px (0 before layout), kept by a ResizeObserver: reading clientWidth inside a redraw,
   * after the redraw has written to the DOM, forces a synchronous layout (~1 ms per read at 1,024 tokens).
   */
  protected get bodyWidth(): number {
    if (this.#bodyWidth < 0) this.#bodyWidth = this.bodyEl.clientWidth; // first draw, before the observer reports
    return this.#bodyWidth;
  }

  /** Called when the body's width changes (after layout); widgets whose charts follow the width redraw them. */
  protected onBodyResize(_width: number): void {}

  /** Create controls (append to controlsEl, each root with data-control="name") and the chart DOM (bodyEl). */
  protected abstract build(): void;
  /** Redraw for the changed parameters ('all' after build or a bulk change). */
  protected abstract update(changed: ReadonlySet<N> | 'all'): void | Promise<void>;

  get urlMode(): UrlMode {
    const m = this.getAttribute('url');
    return m === 'page' || m === 'scoped' ? m : 'none';
  }

  get urlPrefix(): string {
    return this.urlMode === 'scoped' && this.id ? `${this.id}.` : '';
  }

  connectedCallback(): void {
    if (this.#built) return;
    this.#built = true;
    this.readState();
    const heading = el('p', { className: 'widget-title', textContent: this.widgetTitle });
    // `kv-widget` carries every style rule (widget.css); `widget` stays for readers' and tests' selectors.
    const group = el('div', { className: 'widget kv-widget' });
    group.setAttribute('role', 'group');
    const headingId = `${this.id || this.localName}-title`;
    heading.id = headingId;
    group.setAttribute('aria-labelledby', headingId);
    const copy = copyButton('Copy link to this state', () => this.linkToState());
    this.linkNote.hidden = true;
    this.footerEl.append(copy.root, this.linkNote);
    // Chapters (url="scoped") get an "Embed" button with the iframe snippet for this state.
    attachEmbedPanel(this as unknown as Parameters<typeof attachEmbedPanel>[0]);
    group.append(heading, this.noteView.root, this.controlsEl, this.status.root, this.bodyEl, this.footerEl);
    this.replaceChildren(group);
    if (typeof ResizeObserver !== 'undefined') {
      // Reported after layout, so reading clientWidth here is free.
      new ResizeObserver(() => {
        const w = this.bodyEl.clientWidth;
        if (w === this.#bodyWidth) return;
        this.#bodyWidth = w;
        try {
          this.onBodyResize(w);
        } catch (err) {
          this.fail(err);
        }
      }).observe(this.bodyEl);
    }
    try {
      this.build();
      attachFigureExports(this.bodyEl, this.localName, this.widgetTitle, (m) => this.status.error(m));
      this.applyControlsFilter();
      this.applyTheme();
      this.noteView.show(this.notes);
      this.runUpdate('all');
    } catch (err) {
      this.fail(err);
    }
  }

  static get observedAttributes(): string[] {
    return [];
  }

  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
    if (!this.#built || this.#syncingAttributes || oldValue === newValue) return;
    if (!(this.codec.names as readonly string[]).includes(name)) return;
    const { state, notes } = this.codec.parse({ get: (n) => this.getAttribute(n) });
    const key = name as N;
    this.notes = notes;
    this.noteView.show(notes);
    const patch: Partial<S> = {};
    patch[key] = state[key];
    this.setState(patch);
  }

  /** Attributes first (author's configuration), then the URL (the reader's deep link) wins. */
  protected readState(): void {
    const fromAttrs = this.codec.parse({ get: (n) => this.getAttribute(n) });
    let state = fromAttrs.state;
    const notes = [...fromAttrs.notes];
    if (this.urlMode !== 'none' && typeof location !== 'undefined') {
      // Long state (a long prompt) travels in the fragment (see ./state-link).
      let params: URLSearchParams;
      try {
        params = stateParams(new URL(location.href));
      } catch {
        params = new URLSearchParams(location.search);
      }
      const prefix = this.urlPrefix;
      const present = this.codec.names.filter((n) => params.has(prefix + n));
      if (present.length) {
        const fromUrl = this.codec.parse(params, prefix);
        const merged = { ...state } as Record<string, unknown>;
        for (const n of present) merged[n] = (fromUrl.state as Record<string, unknown>)[n];
        state = merged as S;
        notes.push(...fromUrl.notes);
        // A chapter link with fragment state cannot also name the element: bring it into view instead.
        const frag = fragmentState(location.hash);
        if (this.urlMode === 'scoped' && frag && this.codec.names.some((n) => frag.has(prefix + n))) {
          requestAnimationFrame(() => this.scrollIntoView({ block: 'start' }));
        }
      }
    }
    this.state = state;
    this.notes = notes;
  }

  /**
   * Registers the controls that show state parameters (call in build()). After every state change, from a control,
   * an attribute (script-tag pages) or a preset, each one is moved to the state's value, so no control keeps showing
   * a setting the chart no longer uses. All of them, not only the changed ones: a slider's aria-valuetext may name
   * other parameters (the bits slider says the group size), and `set` without a change only refreshes that text.
   */
  protected bindControls(controls: { [K in N]?: FollowsState<S[K]> }): void {
    for (const [k, c] of Object.entries(controls) as [N, FollowsState<unknown> | undefined][]) if (c) this.#bound.push([k, c]);
  }

  /** Moves every control registered with bindControls to the current state. */
  protected syncControls(): void {
    for (const [k, c] of this.#bound) c.set((this.state as Record<string, unknown>)[k]);
  }

  /** Merge a change, write it to the URL, and redraw what depends on it. */
  setState(patch: Partial<S>): void {
    const changed = new Set<N>();
    for (const [k, v] of Object.entries(patch) as [N, unknown][]) {
      const cur = (this.state as Record<string, unknown>)[k];
      if (Array.isArray(v) ? JSON.stringify(v) !== JSON.stringify(cur) : v !== cur) changed.add(k);
    }
    if (!changed.size) return;
    this.state = { ...this.state, ...patch };
    this.writeUrl();
    if (changed.has('theme' as N)) this.applyTheme();
    if (changed.has('controls' as N)) this.applyControlsFilter();
    try {
      this.syncControls();
    } catch (err) {
      this.fail(err);
    }
    this.dispatchEvent(new CustomEvent('kv-state', { detail: { state: this.state }, bubbles: true }));
    this.runUpdate(changed);
  }

  protected runUpdate(changed: ReadonlySet<N> | 'all'): void {
    try {
      const r = this.update(changed);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((e) => this.fail(e));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Show an error where the chart would be, with what to do next. */
  fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.status.error(`Something went wrong: ${message} Try other settings or reload the page.`);
    console.warn(`[${this.localName}]`, err);
  }

  protected writeUrl(): void {
    if (this.urlMode === 'none' || typeof history === 'undefined') return;
    try {
      const { url } = this.placeState();
      history.replaceState(history.state, '', url);
    } catch {
      // Sandboxed documents (about:srcdoc, opaque origins) may refuse replaceState: the widget still works.
    }
  }

  /** The URL that reopens this widget in its current state. */
  linkToState(): string {
    const { url, inFragment } = this.placeState(this.urlMode === 'scoped' && this.id ? this.id : undefined);
    const href = url.toString();
    const notes: string[] = [];
    if (inFragment)
      notes.push('The settings are long, so this link keeps them after the “#” (browsers open it; the server never sees that part).');
    if (href.length > LONG_LINK_CHARS) {
      notes.push(
        `The link is ${href.length.toLocaleString('en')} characters long: some chat and mail apps cut long links, so check that it arrives whole, or share a shorter prompt.`,
      );
    }
    this.linkNote.textContent = notes.join(' ');
    this.linkNote.hidden = notes.length === 0;
    return href;
  }

  /** The current URL with this widget's state in the query, or in the fragment when too long. */
  private placeState(anchor?: string) {
    const prefix = this.urlPrefix;
    return placeState(location.href, {
      owned: this.codec.names.map((n) => prefix + n),
      entries: this.codec.serialize(this.state, prefix),
      anchor,
    });
  }

  protected applyTheme(): void {
    const theme = (this.state as Record<string, unknown>).theme;
    if (theme === 'light' || theme === 'dark') this.setAttribute('data-theme', theme);
    else this.removeAttribute('data-theme');
  }

  /** `controls=bits,group` shows only those controls; the others keep their values. */
  protected applyControlsFilter(): void {
    const visible = ((this.state as Record<string, unknown>).controls as string[] | undefined) ?? [];
    for (const node of this.controlsEl.querySelectorAll<HTMLElement>('[data-control]')) {
      if (node.parentElement !== this.controlsEl && !node.classList.contains('ctl')) continue;
      node.hidden = visible.length > 0 && !visible.includes(node.dataset.control!);
    }
  }

  /** Keep attributes in step with state for script-tag users who read them back. */
  protected reflect(): void {
    this.#syncingAttributes = true;
    try {
      for (const [k, v] of this.codec.serialize(this.state)) this.setAttribute(k, v);
    } finally {
      this.#syncingAttributes = false;
    }
  }
}
