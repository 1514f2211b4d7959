/**
 * Pure builders for embedding a widget elsewhere (no DOM): the embed URL for a
 * widget and its settings, the iframe snippet an instructor pastes into a course
 * page, and the parsing of a site URL back into (widget, parameters) for oEmbed.
 * Every value ends up in the snippet through the URL API and attribute escaping,
 * never as raw text.
 */
import { fragmentState, placeState, stateParams } from '../shared/state-link';
import { WIDGETS, isWidgetName, type WidgetName } from '../registry';
import { paramNamesOf } from './codecs';

/**
 * Sandbox flags of the recommended snippet, and why:
 * - allow-scripts: the widgets are JavaScript;
 * - allow-same-origin: the frame keeps the site's own origin, so the live model's
 *   Web Worker, its download cache and storage work. This is safe here because the
 *   framed page is on another origin than the course page, so it still cannot touch
 *   the course page (the known escape needs a same-origin frame);
 * - allow-popups and allow-popups-to-escape-sandbox: the "explained in …" link and
 *   shared links open the chapter in a normal new tab.
 * The strict variant (`allow-scripts` only) works too: the widget runs from the
 * precomputed tensors of the bundled model, without storage, without the live model,
 * and its links cannot open new tabs.
 */
export const SANDBOX = {
  recommended: 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox',
  strict: 'allow-scripts',
} as const;
export type SandboxLevel = keyof typeof SANDBOX;

/** Escape a string for a double-quoted HTML attribute value. */
export function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;');
}

export interface EmbedUrlOptions {
  /** The site's origin, e.g. "https://kv-cache-lab.example". */
  origin: string;
  /** The site's base path (Astro BASE_URL), default "/". */
  base?: string;
  widget: WidgetName;
  /** Widget parameters (plain names, no element-id prefix); unknown names are dropped. */
  params?: URLSearchParams | Iterable<[string, string]> | Record<string, string>;
}

function toPairs(params: EmbedUrlOptions['params']): [string, string][] {
  if (!params) return [];
  if (params instanceof URLSearchParams) return [...params.entries()];
  if (Symbol.iterator in Object(params)) return [...(params as Iterable<[string, string]>)];
  return Object.entries(params as Record<string, string>);
}

const normBase = (base = '/') => base.replace(/\/?$/, '/').replace(/^\/?/, '/');

/** `<origin><base>embed/<widget>/?<params>`, keeping only the widget's own parameters, in its codec's order. */
export function buildEmbedUrl(o: EmbedUrlOptions): string {
  if (!isWidgetName(o.widget)) throw new RangeError(`widget: "${String(o.widget)}" is not a widget name`);
  const url = new URL(`${normBase(o.base)}embed/${o.widget}/`, o.origin);
  const allowed = paramNamesOf(o.widget);
  const given = new Map(toPairs(o.params));
  const entries: [string, string][] = [];
  for (const name of allowed) {
    const v = given.get(name);
    if (v !== undefined && v !== '') entries.push([name, v]);
  }
  // A long prompt goes to the fragment, or the iframe's request would exceed the server's header limit.
  return placeState(url.toString(), { owned: [], entries }).url.toString();
}

export interface SnippetOptions extends EmbedUrlOptions {
  /** iframe height in CSS pixels (default: the widget's registry height). */
  height?: number;
  /** iframe width: a number of pixels or "100%" (default). */
  width?: number | '100%';
  sandbox?: SandboxLevel;
  /** Accessible name of the frame (default: "<widget title> · KV Cache Lab"). */
  title?: string;
}

/** The iframe snippet for a widget in a given state. */
export function buildIframeSnippet(o: SnippetOptions): string {
  const info = WIDGETS[o.widget];
  const src = buildEmbedUrl(o);
  const height = Math.round(o.height ?? info.height);
  const width = o.width ?? '100%';
  const title = o.title ?? `${info.title} · KV Cache Lab`;
  const style = typeof width === 'number' ? 'border:0;max-width:100%' : 'border:0';
  const attrs: [string, string][] = [
    ['src', src],
    ['title', title],
    ['loading', 'lazy'],
    ['width', String(width)],
    ['height', String(height)],
    ['style', style],
    ['sandbox', SANDBOX[o.sandbox ?? 'recommended']],
    ['allow', 'clipboard-write'],
    ['data-kv-cache-lab', o.widget],
  ];
  return `<iframe ${attrs.map(([k, v]) => `${k}="${escapeAttr(v)}"`).join(' ')}></iframe>`;
}

/** The script tag of the height-following helper (optional: without it the frame keeps its fixed height). */
export function hostScriptTag(origin: string, base = '/'): string {
  return `<script src="${escapeAttr(new URL(`${normBase(base)}embed-host.js`, origin).toString())}" defer></script>`;
}

export interface ParsedWidgetUrl {
  widget: WidgetName;
  params: URLSearchParams;
}

/**
 * Which widget (and settings) a URL of this site shows, or null:
 * - `/embed/<widget>/?bits=2` → that widget with its plain parameters;
 * - `/articles/<chapter>/?q1.bits=2#q1` → a widget of that chapter: the one whose
 *   name starts the fragment (element ids are named after their widget), else the
 *   first one with an embed route; parameters scoped to the fragment's element id
 *   (`q1.bits`) lose their prefix.
 * `origins` lists the origins that count as this site; `available` the widgets that
 * have an embed route.
 */
export function parseWidgetUrl(
  raw: string,
  o: { origins: readonly string[]; base?: string; available: readonly WidgetName[] },
): ParsedWidgetUrl | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!o.origins.some((origin) => safeOrigin(origin) === url.origin)) return null;
  const base = normBase(o.base);
  if (!url.pathname.startsWith(base)) return null;
  const rest = url.pathname
    .slice(base.length)
    .replace(/\/index\.html$/, '/')
    .replace(/\/$/, '');
  const parts = rest.split('/');
  if (parts.length === 2 && parts[0] === 'embed') {
    const name = parts[1];
    if (!isWidgetName(name) || !o.available.includes(name)) return null;
    return { widget: name, params: pick(name, stateParams(url), '') };
  }
  if (parts.length === 2 && parts[0] === 'articles') {
    const slug = parts[1];
    const candidates = o.available.filter((n) => WIDGETS[n].chapter === slug);
    if (!candidates.length) return null;
    // With long state in the fragment (`#kv-state&q1.prompt=…`), the element id is the parameters' prefix.
    const frag = fragmentState(url.hash);
    const id = frag ? ([...frag.keys()].find((k) => k.includes('.'))?.split('.')[0] ?? '') : decodeURIComponent(url.hash.slice(1));
    const byId = id ? candidates.find((n) => id === n || id.startsWith(`${n}-`) || id.startsWith(n)) : undefined;
    const widget = byId ?? candidates[0];
    return { widget, params: pick(widget, stateParams(url), id ? `${id}.` : '') };
  }
  return null;
}

function safeOrigin(s: string): string {
  try {
    return new URL(s).origin;
  } catch {
    return '';
  }
}

function pick(widget: WidgetName, from: URLSearchParams, prefix: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const name of paramNamesOf(widget)) {
    const v = from.get(prefix + name);
    if (v !== null) out.set(name, v);
  }
  return out;
}
