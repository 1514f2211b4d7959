import { describe, expect, it } from 'vitest';
import {
  chapterWidgetsFromHtml,
  oembedResponse,
  oembedDiscoveryHref,
  oembedStaticFiles,
  DEFAULT_WIDTH,
} from '../../../../src/widgets/embed/oembed';
import { WIDGETS } from '../../../../src/widgets/registry';

const origin = 'http://127.0.0.1:4441';
const req = (q: Record<string, string>) =>
  oembedResponse({ query: new URLSearchParams(q), origins: [origin], origin, available: ['memory'] });

describe('oembedResponse', () => {
  it('answers a rich response for an embed URL with parameters', () => {
    const r = req({ url: `${origin}/embed/memory/?bits=2&tokens=4096` });
    expect(r.status).toBe(200);
    const b = r.body as Record<string, unknown>;
    expect(b).toMatchObject({
      version: '1.0',
      type: 'rich',
      provider_name: 'KV Cache Lab',
      provider_url: `${origin}/`,
      width: DEFAULT_WIDTH,
      height: WIDGETS.memory.height,
    });
    expect(b.title).toBe('KV-cache memory calculator · KV Cache Lab');
    expect(b.html).toContain(`src="${origin}/embed/memory/?tokens=4096&amp;bits=2"`);
    expect(Number.isInteger(b.width) && Number.isInteger(b.height)).toBe(true);
  });
  it.each([
    [{ maxwidth: '400', maxheight: '300' }, 400, 300],
    [{ maxwidth: '5000' }, DEFAULT_WIDTH, WIDGETS.memory.height],
    [{ maxwidth: '-5', maxheight: 'abc' }, DEFAULT_WIDTH, WIDGETS.memory.height],
    [{ maxwidth: '10', maxheight: '10' }, 200, 200],
  ])('respects maxwidth/maxheight %o', (limits, w, h) => {
    const r = req({ url: `${origin}/embed/memory/`, ...limits });
    expect(r.body).toMatchObject({ width: w, height: h });
    expect((r.body as { html: string }).html).toContain(`width="${w}" height="${h}"`);
  });
  it('400 without url', () => expect(req({}).status).toBe(400));
  it('501 for xml', () => expect(req({ url: `${origin}/embed/memory/`, format: 'xml' }).status).toBe(501));
  it.each(['https://evil.example/embed/memory/', `${origin}/embed/nope/`, `${origin}/`, 'garbage'])('404 for %s', (url) => {
    const r = req({ url });
    expect(r.status).toBe(404);
    expect((r.body as { error: string }).error).toMatch(/Not a KV Cache Lab widget URL/);
  });
});

describe('oembedDiscoveryHref', () => {
  // Root-relative, so the link names the origin the page was served from (no build-time origin).
  it('names the prerendered answer for the bare embed URL', () => {
    expect(oembedDiscoveryHref({ widget: 'memory' })).toBe('/oembed/embed/memory.json');
    expect(oembedDiscoveryHref({ base: '/lab', widget: 'memory' })).toBe('/lab/oembed/embed/memory.json');
  });
});

describe('chapter URLs', () => {
  // As built from content/articles/keys-and-values.mdx and does-the-model-notice.mdx:
  // <KvExplorer id="kv1" …/>, <Quantizer id="q1" …/>; <Attention id="attn1"/>, <Generation id="gen1"/>, <Perplexity id="ppl1"/>.
  const KEYS_HTML =
    '<p>text</p><kv-explorer id="kv1" url="scoped" layer="4"><p>needs JS</p></kv-explorer><h2 id="q-section">x</h2><kv-quantizer id="q1" url="scoped" kaxis="channel" bits="2"></kv-quantizer>';
  const NOTICE_HTML =
    '<kv-attention id="attn1" url="scoped"></kv-attention><kv-generation id="gen1" url="scoped"></kv-generation><kv-perplexity id="ppl1" url="scoped"></kv-perplexity>';
  const available = ['kv-explorer', 'quantizer', 'attention', 'generation', 'perplexity'];
  const chapters = { 'keys-and-values': chapterWidgetsFromHtml(KEYS_HTML), 'does-the-model-notice': chapterWidgetsFromHtml(NOTICE_HTML) };
  const ask = (url: string) => oembedResponse({ query: new URLSearchParams({ url }), origins: [origin], origin, available, chapters });
  const src = (r: ReturnType<typeof ask>) => /src="([^"]*)"/.exec((r.body as { html: string }).html)?.[1].replace(/&amp;/g, '&');

  it('reads the widget elements and their ids from a built chapter, in document order', () => {
    expect(chapters['keys-and-values']).toEqual([
      { id: 'kv1', widget: 'kv-explorer' },
      { id: 'q1', widget: 'quantizer' },
    ]);
  });
  it('the fragment names the element: #q1 is the quantizer, with the q1.-scoped settings', () => {
    const r = ask(`${origin}/articles/keys-and-values/?q1.bits=2&kv1.layer=3&bits=8#q1`);
    expect(r.status).toBe(200);
    expect(src(r)).toBe(`${origin}/embed/quantizer/?bits=2`);
  });
  it.each([
    ['gen1', 'generation'],
    ['ppl1', 'perplexity'],
    ['attn1', 'attention'],
  ])('#%s in does-the-model-notice → %s', (id, widget) => {
    expect(src(ask(`${origin}/articles/does-the-model-notice/#${id}`))).toBe(`${origin}/embed/${widget}/`);
  });
  it('without a fragment (or with one that is no widget) the first widget, with its own scoped settings', () => {
    expect(src(ask(`${origin}/articles/keys-and-values/?kv1.layer=3`))).toBe(`${origin}/embed/kv-explorer/?layer=3`);
    expect(src(ask(`${origin}/articles/keys-and-values/#q-section`))).toBe(`${origin}/embed/kv-explorer/`);
  });
  it('a fragment that is not valid percent-encoding (#%ZZ) is ignored, not a 500', () => {
    const r = ask(`${origin}/articles/keys-and-values/?q1.bits=2#%ZZ`);
    expect(r.status).toBe(200);
    expect(src(r)).toBe(`${origin}/embed/kv-explorer/`);
  });
  it('a chapter without widgets, or another origin, is 404', () => {
    expect(ask(`${origin}/articles/no-such-chapter/`).status).toBe(404);
    expect(ask(`https://evil.example/articles/keys-and-values/#q1`).status).toBe(404);
  });
});

describe('oembedStaticFiles', () => {
  it('one answer per embed page and per chapter, equal to the dynamic answer for the same URL', () => {
    const chapters = { 'kv-cache-memory': [{ id: 'mem1', widget: 'memory' }] };
    const files = oembedStaticFiles({ origin, available: ['memory'], chapters });
    expect(files.map((f) => f.path)).toEqual(['oembed/embed/memory.json', 'oembed/articles/kv-cache-memory.json']);
    expect(files[0].body).toEqual(
      oembedResponse({ query: new URLSearchParams({ url: `${origin}/embed/memory/` }), origins: [origin], origin, available: ['memory'] })
        .body,
    );
  });
});
