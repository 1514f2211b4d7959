import { describe, expect, it } from 'vitest';
import {
  buildEmbedUrl,
  buildIframeSnippet,
  escapeAttr,
  parseWidgetUrl,
  SANDBOX,
  hostScriptTag,
} from '../../../../src/widgets/embed/snippet';
import { codecOf, paramNamesOf } from '../../../../src/widgets/embed/codecs';
import { WIDGETS, WIDGET_NAMES } from '../../../../src/widgets/registry';

const origin = 'https://lab.example';

describe('escapeAttr', () => {
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a&quot;b'],
    ['<script>', '&lt;script&gt;'],
    ["'&", '&#39;&amp;'],
  ])('%s → %s', (input, out) => expect(escapeAttr(input)).toBe(out));
});

describe('codecs are found for every widget with a state.ts', () => {
  it('memory has its codec and its parameters', () => {
    expect(codecOf('memory')).toBeDefined();
    expect(paramNamesOf('memory')).toContain('tokens');
    expect(paramNamesOf('memory')).not.toContain('prompt');
  });
});

describe.each([
  { name: 'defaults', params: {}, url: `${origin}/embed/memory/` },
  {
    name: 'own params kept in codec order',
    params: { tokens: '4096', bits: '2', model: 'llama-3-8b' },
    url: `${origin}/embed/memory/?model=llama-3-8b&tokens=4096&bits=2`,
  },
  { name: 'foreign params dropped', params: { prompt: 'x', tokens: '1', evil: 'y' }, url: `${origin}/embed/memory/?tokens=1` },
  { name: 'empty values dropped', params: { tokens: '' }, url: `${origin}/embed/memory/` },
  {
    name: 'special characters encoded',
    params: { controls: 'bits,group', model: '"><script>' },
    url: `${origin}/embed/memory/?model=%22%3E%3Cscript%3E&controls=bits%2Cgroup`,
  },
] as Array<{ name: string; params: Record<string, string>; url: string }>)('buildEmbedUrl: $name', ({ params, url }) => {
  it('builds the URL', () => expect(buildEmbedUrl({ origin, widget: 'memory', params })).toBe(url));
  it('round-trips through parseWidgetUrl', () => {
    const parsed = parseWidgetUrl(url, { origins: [origin], available: ['memory'] });
    expect(parsed?.widget).toBe('memory');
    expect(buildEmbedUrl({ origin, widget: 'memory', params: parsed!.params })).toBe(url);
  });
});

describe('buildEmbedUrl with a base path', () => {
  it('puts the route under the base', () =>
    expect(buildEmbedUrl({ origin, base: '/course', widget: 'memory' })).toBe(`${origin}/course/embed/memory/`));
  it('rejects a non-widget with a RangeError', () => expect(() => buildEmbedUrl({ origin, widget: 'nope' as never })).toThrow(RangeError));
});

describe('buildIframeSnippet', () => {
  it('has every attribute, the registry height and the recommended sandbox', () => {
    const html = buildIframeSnippet({ origin, widget: 'memory', params: { bits: '2' } });
    expect(html).toBe(
      `<iframe src="${origin}/embed/memory/?bits=2" title="KV-cache memory calculator · KV Cache Lab" loading="lazy" width="100%" height="${WIDGETS.memory.height}" style="border:0" sandbox="${SANDBOX.recommended}" allow="clipboard-write" data-kv-cache-lab="memory"></iframe>`,
    );
  });
  it('strict sandbox, numeric width and custom height', () => {
    const html = buildIframeSnippet({ origin, widget: 'memory', sandbox: 'strict', width: 600, height: 500.4 });
    expect(html).toContain('sandbox="allow-scripts"');
    expect(html).toContain('width="600"');
    expect(html).toContain('height="500"');
    expect(html).toContain('style="border:0;max-width:100%"');
  });
  it.each(['"><script>alert(1)</script>', '<img src=x onerror=alert(1)>', "' onload='alert(1)"])('escapes hostile text %s', (evil) => {
    const html = buildIframeSnippet({ origin, widget: 'memory', params: { model: evil }, title: evil });
    // Exactly one element whose attribute values hold no quote or angle bracket, and only the expected attributes.
    expect(html).toMatch(/^<iframe( [a-z-]+="[^"<>]*")+><\/iframe>$/);
    const names = [...html.matchAll(/ ([a-z-]+)="[^"]*"/g)].map((m) => m[1]);
    expect(names).toEqual(['src', 'title', 'loading', 'width', 'height', 'style', 'sandbox', 'allow', 'data-kv-cache-lab']);
  });
  it('host script tag', () => expect(hostScriptTag(origin)).toBe(`<script src="${origin}/embed-host.js" defer></script>`));
});

describe.each([
  { url: `${origin}/embed/memory/?bits=2&zzz=1`, widget: 'memory', params: 'bits=2' },
  { url: `${origin}/embed/memory`, widget: 'memory', params: '' },
  { url: `${origin}/embed/memory/index.html?tokens=5`, widget: 'memory', params: 'tokens=5' },
  { url: `${origin}/articles/kv-cache-memory/?mem.bits=2&bits=8#mem`, widget: 'memory', params: 'bits=2' },
  { url: `${origin}/articles/kv-cache-memory/?bits=8`, widget: 'memory', params: 'bits=8' },
])('parseWidgetUrl accepts $url', ({ url, widget, params }) => {
  it('finds the widget and its parameters', () => {
    const parsed = parseWidgetUrl(url, { origins: [origin], available: ['memory'] });
    expect(parsed?.widget).toBe(widget);
    expect(parsed?.params.toString()).toBe(params);
  });
});

describe.each([
  'not a url',
  'javascript:alert(1)',
  'https://evil.example/embed/memory/',
  `${origin}/embed/nope/`,
  `${origin}/embed/quantizer/`, // no embed route in `available`
  `${origin}/articles/no-such-chapter/`,
  `${origin}/references/`,
  `${origin}/embed/memory/extra/`,
])('parseWidgetUrl rejects %s', (url) => {
  it('returns null', () => expect(parseWidgetUrl(url, { origins: [origin], available: ['memory'] })).toBeNull());
});

describe('every registered widget gets a snippet', () => {
  it.each(WIDGET_NAMES.map((n) => [n]))('%s', (name) => {
    const html = buildIframeSnippet({ origin, widget: name });
    expect(html).toContain(`/embed/${name}/`);
    expect(html).toContain(`height="${WIDGETS[name].height}"`);
  });
});

import { paramUse } from '../../../../src/widgets/embed/codecs';
describe.each([
  { widget: 'memory' as const, name: 'bits', allowed: 'one of 1, 2, 3, 4, 8, 16', def: '4' },
  { widget: 'memory' as const, name: 'tokens', allowed: 'a whole number from 1 to 10000000', def: '10000' },
  { widget: 'memory' as const, name: 'theme', allowed: 'one of auto, light, dark', def: 'auto' },
])('paramUse($widget, $name)', ({ widget, name, allowed, def }) => {
  it('reads allowed values and default from the codec', () => expect(paramUse(widget, name)).toEqual({ widget, allowed, default: def }));
});
describe('paramUse edge cases', () => {
  it('controls lists the control names', () =>
    expect(paramUse('memory', 'controls')?.allowed).toMatch(/^comma-separated names from: model, tokens/));
  it('undefined for a parameter the widget does not use', () => expect(paramUse('memory', 'prompt')).toBeUndefined());
});
