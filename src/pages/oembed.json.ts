/**
 * oEmbed 1.0 endpoint: GET /oembed.json?url=<embed or chapter URL>&maxwidth=&maxheight=
 * → a `rich` response with the iframe snippet; 400 without url, 404 for URLs that are
 * not this site's widgets. On-demand (the answer depends on the query string).
 */
import type { APIRoute } from 'astro';
import { oembedResponse } from '../widgets/embed/oembed';
import { loadersAvailable } from '../widgets/loader';

export const prerender = false;

/** The origin the consumer reached (Astro does not trust the Host header, so url.origin may read "localhost"). */
function requestOrigin(url: URL, request: Request): string | null {
  const host = request.headers.get('host');
  if (!host || !/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/i.test(host)) return null;
  const proto = request.headers.get('x-forwarded-proto') === 'https' ? 'https:' : url.protocol;
  return `${proto}//${host}`;
}

export const GET: APIRoute = ({ url, site, request }) => {
  // The snippet points at the origin the consumer reached; the configured `site` also counts as this site.
  const reached = requestOrigin(url, request);
  const origin = reached ?? site?.origin ?? url.origin;
  const origins = [...new Set([origin, url.origin, ...(site ? [site.origin] : [])])];
  const { status, body } = oembedResponse({ query: url.searchParams, origins, origin, base: import.meta.env.BASE_URL, available: loadersAvailable() });
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*', 'cache-control': status === 200 ? 'public, max-age=3600' : 'no-store', vary: 'Host' },
  });
};
