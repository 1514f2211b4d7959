import { describe, expect, it } from 'vitest';
import { MAX_QUERY_CHARS, fragmentState, placeState, stateParams } from '../../../../src/widgets/shared/state-link';
import { buildEmbedUrl, parseWidgetUrl } from '../../../../src/widgets/embed/snippet';

// 2,000 CJK characters: 6,000 UTF-8 bytes, 18,000 characters once percent-encoded in a query.
const CJK = Array.from({ length: 2000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 37) % 20000))).join('');
/** What the browser sends in the request line (the fragment is never sent). */
const requestTarget = (u: URL) => u.pathname + u.search;
// Node's default --max-http-header-size is 16 KiB; the request line counts towards it.
const NODE_HEADER_LIMIT = 16 * 1024;

describe('placeState', () => {
  it('keeps short state in the query, with the anchor', () => {
    const { url, inFragment } = placeState('https://s.test/articles/ch1/', {
      owned: ['q1.bits'],
      entries: [['q1.bits', '2']],
      anchor: 'q1',
    });
    expect(inFragment).toBe(false);
    expect(url.toString()).toBe('https://s.test/articles/ch1/?q1.bits=2#q1');
  });

  it('moves a 2,000-character CJK prompt to the fragment, and reads it back exactly', () => {
    const href = 'https://s.test/articles/ch1/?other=1';
    const { url, inFragment } = placeState(href, {
      owned: ['q1.prompt', 'q1.bits'],
      entries: [
        ['q1.prompt', CJK],
        ['q1.bits', '2'],
      ],
      anchor: 'q1',
    });
    expect(inFragment).toBe(true);
    expect(requestTarget(url).length).toBeLessThan(MAX_QUERY_CHARS + 100);
    expect(url.searchParams.get('other')).toBe('1');
    // Round trip through the string form, as a pasted link would be.
    const back = stateParams(new URL(url.toString()));
    expect(back.get('q1.prompt')).toBe(CJK);
    expect(back.get('q1.bits')).toBe('2');
  });

  it('a query that long would be refused by Node (the bug this avoids)', () => {
    const u = new URL('https://s.test/articles/ch1/');
    u.searchParams.set('q1.prompt', CJK);
    expect(requestTarget(u).length).toBeGreaterThan(NODE_HEADER_LIMIT);
  });

  it('keeps other widgets’ fragment state and moves its own back to the query when short again', () => {
    const long = placeState('https://s.test/a/', { owned: ['a.prompt'], entries: [['a.prompt', CJK]] }).url;
    const both = placeState(long.toString(), { owned: ['b.prompt'], entries: [['b.prompt', CJK]] }).url;
    expect(fragmentState(both.hash)?.get('a.prompt')).toBe(CJK);
    expect(fragmentState(both.hash)?.get('b.prompt')).toBe(CJK);
    const short = placeState(both.toString(), { owned: ['a.prompt'], entries: [['a.prompt', 'hi']] }).url;
    expect(short.searchParams.get('a.prompt')).toBe('hi');
    expect(fragmentState(short.hash)?.has('a.prompt')).toBe(false);
    expect(fragmentState(short.hash)?.get('b.prompt')).toBe(CJK);
    const none = placeState(short.toString(), { owned: ['b.prompt'], entries: [] }).url;
    expect(none.hash).toBe('');
  });

  it('leaves an ordinary fragment alone', () => {
    expect(fragmentState('#q1')).toBeNull();
    expect(placeState('https://s.test/a/#q1', { owned: ['x'], entries: [['x', '1']] }).url.hash).toBe('#q1');
  });
});

describe('embed URLs with a long prompt', () => {
  it('the iframe src stays under the header limit and oEmbed parsing recovers the prompt', () => {
    const src = buildEmbedUrl({ origin: 'https://s.test', widget: 'kv-explorer', params: { prompt: CJK, layer: '3' } });
    const u = new URL(src);
    expect(requestTarget(u).length).toBeLessThan(MAX_QUERY_CHARS);
    const parsed = parseWidgetUrl(src, { origins: ['https://s.test'], available: ['kv-explorer'] });
    expect(parsed?.params.get('prompt')).toBe(CJK);
    expect(parsed?.params.get('layer')).toBe('3');
  });

  it('a chapter link with fragment state names its widget by the parameters’ prefix', () => {
    // kv-explorer's chapter is keys-and-values (src/widgets/kv-explorer/widget.ts).
    const { url } = placeState('https://s.test/articles/keys-and-values/', {
      owned: [],
      entries: [
        ['kv-explorer-1.prompt', CJK],
        ['kv-explorer-1.layer', '5'],
      ],
    });
    const parsed = parseWidgetUrl(url.toString(), { origins: ['https://s.test'], available: ['kv-explorer'] });
    expect(parsed?.widget).toBe('kv-explorer');
    expect(parsed?.params.get('prompt')).toBe(CJK);
    expect(parsed?.params.get('layer')).toBe('5');
  });
});
