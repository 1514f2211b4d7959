import { describe, expect, it } from 'vitest';
import { oembedResponse, oembedDiscoveryHref, DEFAULT_WIDTH } from '../../../../src/widgets/embed/oembed';
import { WIDGETS } from '../../../../src/widgets/registry';

const origin = 'http://127.0.0.1:4441';
const req = (q: Record<string, string>) => oembedResponse({ query: new URLSearchParams(q), origins: [origin], origin, available: ['memory'] });

describe('oembedResponse', () => {
  it('answers a rich response for an embed URL with parameters', () => {
    const r = req({ url: `${origin}/embed/memory/?bits=2&tokens=4096` });
    expect(r.status).toBe(200);
    const b = r.body as Record<string, unknown>;
    expect(b).toMatchObject({ version: '1.0', type: 'rich', provider_name: 'KV Cache Lab', provider_url: `${origin}/`, width: DEFAULT_WIDTH, height: WIDGETS.memory.height });
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
