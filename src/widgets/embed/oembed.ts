/**
 * The oEmbed 1.0 answer (https://oembed.com, section 2.3) for a URL of this site:
 * a `rich` response whose `html` is the iframe snippet of the widget that URL shows,
 * with its parameters. Pure: the route src/pages/oembed.json.ts only adapts HTTP.
 * Consumers pass the page URL they want embedded, with its parameters; discovery
 * links on the (prerendered) embed pages name the bare embed URL.
 */
import { WIDGETS, type WidgetName } from '../registry';
import { buildEmbedUrl, buildIframeSnippet, parseWidgetUrl } from './snippet';

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
}

/** A positive integer size limit, or undefined when absent or invalid. */
function sizeLimit(raw: string | null): number | undefined {
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 ? n : undefined;
}

export function oembedResponse(r: OEmbedRequest): OEmbedResult {
  const raw = r.query.get('url');
  if (!raw) return { status: 400, body: { error: 'Missing the "url" parameter: pass the address of a KV Cache Lab embed or chapter page.' } };
  const format = r.query.get('format');
  if (format && format !== 'json') return { status: 501, body: { error: `format=${format.slice(0, 20)} is not supported; only json.` } };
  const parsed = parseWidgetUrl(raw, { origins: r.origins, base: r.base, available: r.available });
  if (!parsed) return { status: 404, body: { error: 'Not a KV Cache Lab widget URL. Use /embed/<widget>/ or a chapter URL of this site.' } };
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

/** The discovery href for an embed page: the oEmbed endpoint with the bare embed URL. */
export function oembedDiscoveryHref(o: { origin: string; base?: string; widget: WidgetName }): string {
  const endpoint = new URL(`${(o.base ?? '/').replace(/\/?$/, '/')}oembed.json`, o.origin);
  endpoint.searchParams.set('url', buildEmbedUrl({ origin: o.origin, base: o.base, widget: o.widget }));
  endpoint.searchParams.set('format', 'json');
  return endpoint.toString();
}
