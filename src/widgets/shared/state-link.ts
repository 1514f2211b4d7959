/**
 * Where a widget's parameters go in a URL the site makes (address bar, "Copy link", embed src).
 *
 * Short state stays in the query (`?q1.bits=2`). Long state (a reader's prompt: 2,000 CJK characters
 * are 18,000 percent-encoded characters) would make the request line longer than servers accept —
 * Node's default header limit is 16 KB (`--max-http-header-size`, answered with 431), many proxies and
 * CDNs stop at 8 KB. Such state moves to the fragment, which the browser never sends:
 * `#kv-state&q1.prompt=…&q1.bits=2`. Parameters keep their usual encoding (URLSearchParams), so the
 * fragment is read back with the same parser as the query.
 *
 * Not compressed (CompressionStream is asynchronous, and "Copy link" writes the clipboard within the
 * click's user activation, which an await could lose in Safari); the prompt is capped at 4,000
 * characters by its codec, so the longest link stays near 40,000 characters, which Chrome, Firefox
 * and Safari open (their limits are far above 64 KB).
 */

/** Longest query string (after `?`) the site puts in a URL it makes. */
export const MAX_QUERY_CHARS = 2000;
/** Links longer than this may be cut by chat and mail apps: the widget says so. */
export const LONG_LINK_CHARS = 2000;
export const FRAGMENT_MARK = 'kv-state';

/** The parameters carried by a `#kv-state&…` fragment, or null for any other fragment. */
export function fragmentState(hash: string): URLSearchParams | null {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (h !== FRAGMENT_MARK && !h.startsWith(`${FRAGMENT_MARK}&`)) return null;
  const params = new URLSearchParams(h);
  params.delete(FRAGMENT_MARK);
  return params;
}

/** Query parameters, then fragment-state parameters (which win), as one source. */
export function stateParams(url: URL): URLSearchParams {
  const out = new URLSearchParams(url.search);
  const frag = fragmentState(url.hash);
  if (frag) for (const [k, v] of frag) out.set(k, v);
  return out;
}

export interface PlaceOptions {
  /** Names this widget owns (already prefixed): removed from query and fragment before writing. */
  owned: readonly string[];
  /** The widget's serialized state (prefixed names). */
  entries: Iterable<[string, string]>;
  /** Fragment to use when the state stays in the query (e.g. the element id of a chapter widget). */
  anchor?: string;
  maxQuery?: number;
}

/** `href` with this widget's state written to the query, or to the fragment when the query would be too long. */
export function placeState(href: string, o: PlaceOptions): { url: URL; inFragment: boolean } {
  const url = new URL(href);
  const frag = fragmentState(url.hash) ?? new URLSearchParams();
  for (const n of o.owned) {
    url.searchParams.delete(n);
    frag.delete(n);
  }
  const entries = [...o.entries];
  const query = new URLSearchParams(url.search);
  for (const [k, v] of entries) query.set(k, v);
  const inFragment = query.toString().length > (o.maxQuery ?? MAX_QUERY_CHARS);
  if (inFragment) for (const [k, v] of entries) frag.set(k, v);
  else url.search = query.toString();
  const rest = frag.toString();
  if (rest) url.hash = `${FRAGMENT_MARK}&${rest}`;
  else if (o.anchor !== undefined) url.hash = o.anchor;
  else if (fragmentState(url.hash)) url.hash = '';
  return { url, inFragment };
}
