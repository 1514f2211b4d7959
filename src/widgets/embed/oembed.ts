/**
 * The oEmbed 1.0 answer (https://oembed.com, section 2.3) for a URL of this site:
 * a `rich` response whose `html` is the iframe snippet of the widget that URL shows,
 * with its parameters. Pure (no DOM, no HTTP): scripts/serve.mjs answers
 * GET /oembed.json?url=… with it (bundled at build time by scripts/serve/postbuild.mjs,
 * the site being fully static), and the same build writes one JSON answer per embed page
 * and chapter, oembed/…/<name>.json, that the embed pages' discovery links name, so plain
 * static hosts answer discovery too.
 */
import { WIDGETS, isWidgetName, widgetByTag, type WidgetName } from '../registry';
import { paramNamesOf } from './codecs';
import { buildEmbedUrl, buildIframeSnippet, parseWidgetUrl, type ParsedWidgetUrl } from './snippet';

export const PROVIDER_NAME = 'KV Cache Lab';
export const DEFAULT_WIDTH = 720;
const MIN_SIZE = 200;

export interface OEmbedRich {
  version: '1.0';
  type: 'rich';
  title: string;
  provider_name: string;
  provider_url: string;
  html: string;
  width: number;
  height: number;
  cache_age?: number;
}

export interface OEmbedResult {
  status: 200 | 400 | 404 | 501;
  body: OEmbedRich | { error: string };
}

export interface OEmbedRequest {
  /** The query string of the request (url, maxwidth, maxheight, format). */
  query: URLSearchParams;
  /** This site's origin as seen by the request, plus its configured `site` origin. */
  origins: readonly string[];
  /** Origin used in the returned snippet (the site's public origin). */
  origin: string;
  base?: string;
  available: readonly WidgetName[];
  /**
   * The widget elements of each chapter, in document order, read from the built pages
   * (`chapterWidgetsFromHtml`): a chapter URL's fragment names an element id, and the
   * widget is the one that element shows. Without it, a chapter maps to the widgets the
   * registry files under it (ids unknown).
   */
  chapters?: Readonly<Record<string, readonly ChapterWidget[]>>;
}

/** A widget element in a chapter: its element id (prefix of its URL parameters) and widget. */
export interface ChapterWidget {
  id: string;
  widget: WidgetName;
}

/** A positive integer size limit, or undefined when absent or invalid. */
function sizeLimit(raw: string | null): number | undefined {
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 ? n : undefined;
}

export function oembedResponse(r: OEmbedRequest): OEmbedResult {
  const raw = r.query.get('url');
  if (!raw)
    return { status: 400, body: { error: 'Missing the "url" parameter: pass the address of a KV Cache Lab embed or chapter page.' } };
  const format = r.query.get('format');
  if (format && format !== 'json') return { status: 501, body: { error: `format=${format.slice(0, 20)} is not supported; only json.` } };
  let parsed: ParsedWidgetUrl | null;
  try {
    parsed = chapterWidgetUrl(raw, r) ?? parseWidgetUrl(raw, { origins: r.origins, base: r.base, available: r.available });
  } catch {
    return { status: 400, body: { error: 'The "url" parameter could not be read as a URL of this site.' } };
  }
  if (!parsed)
    return { status: 404, body: { error: 'Not a KV Cache Lab widget URL. Use /embed/<widget>/ or a chapter URL of this site.' } };
  const info = WIDGETS[parsed.widget];
  const maxW = sizeLimit(r.query.get('maxwidth'));
  const maxH = sizeLimit(r.query.get('maxheight'));
  const width = Math.max(MIN_SIZE, Math.min(DEFAULT_WIDTH, maxW ?? DEFAULT_WIDTH));
  const height = Math.max(MIN_SIZE, Math.min(info.height, maxH ?? info.height));
  const html = buildIframeSnippet({ origin: r.origin, base: r.base, widget: parsed.widget, params: parsed.params, width, height });
  return {
    status: 200,
    body: {
      version: '1.0',
      type: 'rich',
      title: `${info.title} · ${PROVIDER_NAME}`,
      provider_name: PROVIDER_NAME,
      provider_url: new URL(r.base ?? '/', r.origin).toString(),
      html,
      width,
      height,
      cache_age: 86400,
    },
  };
}

const normBase = (base = '/') => base.replace(/\/?$/, '/').replace(/^\/?/, '/');

/** The decoded fragment, or '' when absent or not valid percent-encoding (`#%ZZ`). */
function fragmentOf(url: URL): string {
  try {
    return decodeURIComponent(url.hash.slice(1));
  } catch {
    return '';
  }
}

/**
 * `/articles/<chapter>/?q1.bits=2#q1` → the widget whose element id is the fragment in
 * that chapter (else the chapter's first widget), with the parameters scoped to that
 * element's id (`q1.bits` → `bits`). Null for URLs that are not chapter URLs of this site.
 */
function chapterWidgetUrl(raw: string, r: OEmbedRequest): ParsedWidgetUrl | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!r.origins.some((o) => URL.canParse(o) && new URL(o).origin === url.origin)) return null;
  const base = normBase(r.base);
  if (!url.pathname.startsWith(base)) return null;
  const m = /^articles\/([^/]+)\/?(?:index\.html)?$/.exec(url.pathname.slice(base.length));
  if (!m) return null;
  const slug = m[1];
  const listed: readonly ChapterWidget[] | undefined = r.chapters ? r.chapters[slug] : undefined;
  const all =
    listed ??
    Object.values(WIDGETS)
      .filter((w) => w.chapter === slug)
      .map((w) => ({ id: '', widget: w.name }));
  const usable = all.filter((c) => r.available.includes(c.widget));
  if (!usable.length) return null;
  const id = fragmentOf(url);
  const chosen = (id && usable.find((c) => c.id === id)) || usable[0];
  const prefix = chosen.id ? `${chosen.id}.` : '';
  const params = new URLSearchParams();
  for (const name of paramNamesOf(chosen.widget)) {
    const v = url.searchParams.get(prefix + name);
    if (v !== null) params.set(name, v);
  }
  return { widget: chosen.widget, params };
}

/**
 * The widget elements of a built chapter page, in document order: every custom element of
 * a registered widget that carries an id (`<kv-quantizer id="q1" …>`). The ids are those
 * the chapter's MDX gives its widgets; they prefix the widgets' URL parameters.
 */
export function chapterWidgetsFromHtml(html: string): ChapterWidget[] {
  const out: ChapterWidget[] = [];
  for (const m of html.matchAll(/<(kv-[a-z0-9-]+)(\s[^>]*)?>/g)) {
    const widget = widgetByTag(m[1]);
    const id = /\sid="([^"]+)"/.exec(m[2] ?? '')?.[1];
    if (widget && id && !out.some((c) => c.id === id)) out.push({ id, widget: widget.name });
  }
  return out;
}

/**
 * The discovery href for an embed page: the prerendered oEmbed answer for its bare embed
 * URL, `<base>oembed/embed/<widget>.json`, root-relative so that it names the origin the
 * page was served from (scripts/serve.mjs answers it with that origin; a plain static host
 * serves the file written at build time, whose snippet names the configured `site`).
 */
export function oembedDiscoveryHref(o: { base?: string; widget: WidgetName; origin?: string }): string {
  if (!isWidgetName(o.widget)) throw new RangeError(`widget: "${String(o.widget)}" is not a widget name`);
  return `${normBase(o.base)}oembed/embed/${o.widget}.json`;
}

/** The dynamic endpoint for any URL of this site: `<origin><base>oembed.json?url=…&format=json`. */
export function oembedEndpointHref(o: { origin: string; base?: string; url: string }): string {
  const endpoint = new URL(`${normBase(o.base)}oembed.json`, o.origin);
  endpoint.searchParams.set('url', o.url);
  endpoint.searchParams.set('format', 'json');
  return endpoint.toString();
}

/** A prerendered oEmbed answer: its path under the build output and its body. */
export interface OEmbedFile {
  path: string;
  body: OEmbedRich;
}

/**
 * The oEmbed answers a static host can serve: one per embed page
 * (`oembed/embed/<widget>.json`, the bare embed URL) and one per chapter with widgets
 * (`oembed/articles/<chapter>.json`, its first widget), for the `origin` given (the
 * configured `site`).
 */
export function oembedStaticFiles(o: {
  origin: string;
  base?: string;
  available: readonly WidgetName[];
  chapters: Readonly<Record<string, readonly ChapterWidget[]>>;
}): OEmbedFile[] {
  const r = { origins: [o.origin], origin: o.origin, base: o.base, available: o.available, chapters: o.chapters };
  const files: OEmbedFile[] = [];
  const add = (path: string, url: string) => {
    const res = oembedResponse({ ...r, query: new URLSearchParams({ url }) });
    if (res.status === 200) files.push({ path, body: res.body as OEmbedRich });
  };
  for (const widget of o.available) add(`oembed/embed/${widget}.json`, buildEmbedUrl({ origin: o.origin, base: o.base, widget }));
  for (const slug of Object.keys(o.chapters).sort())
    add(`oembed/articles/${slug}.json`, new URL(`${normBase(o.base)}articles/${slug}/`, o.origin).toString());
  return files;
}
