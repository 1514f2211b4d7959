/**
 * The pure pieces of scripts/serve (http.mjs), against RFC 9110 and the CSP spec's own
 * examples.
 */
import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  contentTypeFor,
  cacheControlFor,
  inlineScriptHashes,
  negotiateEncoding,
  parseRange,
  parseTarget,
  logSafe,
} from '../../../scripts/serve/http.mjs';

describe('parseTarget', () => {
  it.each([
    ['/embed/generation/?prompt=50%', '/embed/generation/', 'prompt=50%'],
    ['/articles/x/?a=%ZZ#f', '/articles/x/', 'a=%ZZ#f'],
    ['/caf%C3%A9/', '/café/', ''],
    ['/', '/', ''],
  ])('%s → path %s, raw query kept', (target, path, query) => {
    expect(parseTarget(target)).toEqual({ ok: true, path, query });
  });
  it.each([
    '*',
    'http://evil.example/',
    '',
    '/..',
    '/../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/a/%2E%2E/b',
    '/a/./b',
    '/%ZZ',
    '/50%',
    '/a%00b',
    '/a%5c..%5cb',
    '//evil.example/',
  ])('%s → 400', (target) => {
    expect(parseTarget(target)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('parseRange (RFC 9110 §14.1.2 examples on a 10000-byte file)', () => {
  const size = 10000;
  it.each([
    ['bytes=0-499', { start: 0, end: 499 }],
    ['bytes=500-999', { start: 500, end: 999 }],
    ['bytes=-500', { start: 9500, end: 9999 }],
    ['bytes=9500-', { start: 9500, end: 9999 }],
    ['bytes=0-0', { start: 0, end: 0 }],
    ['bytes=9999-20000', { start: 9999, end: 9999 }],
    ['bytes=-20000', { start: 0, end: 9999 }],
    // Past Number.MAX_SAFE_INTEGER is still "to the end" (was 416; hostile-requests.spec found it).
    ['bytes=0-99999999999999999999', { start: 0, end: 9999 }],
    ['bytes=-99999999999999999999', { start: 0, end: 9999 }],
  ])('%s', (h, want) => expect(parseRange(h, size)).toEqual(want));
  it.each(['bytes=5-1', 'bytes=10000-', 'bytes=10000-10005', 'bytes=-0', 'bytes=99999999999999999999-'])('%s is unsatisfiable', (h) =>
    expect(parseRange(h, size)).toBe('unsatisfiable'),
  );
  it.each([undefined, 'bytes=0-1,5-9', 'items=0-5', 'bytes=a-b', 'bytes=-', ''])('%s is ignored (whole file)', (h) =>
    expect(parseRange(h, size)).toBeNull(),
  );
  it('an empty file has no satisfiable suffix', () => expect(parseRange('bytes=-5', 0)).toBe('unsatisfiable'));
});

describe('negotiateEncoding (RFC 9110 §12.5.3)', () => {
  const both: ('br' | 'gzip')[] = ['br', 'gzip'];
  it.each([
    ['gzip, deflate, br, zstd', both, 'br'],
    ['gzip', both, 'gzip'],
    ['br;q=0, gzip', both, 'gzip'],
    ['gzip;q=1.0, br;q=0.5', both, 'gzip'],
    ['*', both, 'br'],
    ['*;q=0', both, null],
    ['identity', both, null],
    ['br', ['gzip' as const], null],
    [undefined, both, null],
    ['gzip, br', [], null],
  ])('%s with %o → %s', (h, avail, want) => expect(negotiateEncoding(h, avail)).toBe(want));
});

describe('headers', () => {
  it('content types the browser insists on (wasm for streaming compile, JS for module scripts)', () => {
    expect(contentTypeFor('/_astro/ort.wasm')).toBe('application/wasm');
    expect(contentTypeFor('/_astro/ort.mjs')).toMatch(/^text\/javascript/);
    expect(contentTypeFor('/models/m/tokenizer.json')).toMatch(/^application\/json/);
    expect(contentTypeFor('/models/m/model.safetensors')).toBe('application/octet-stream');
    expect(contentTypeFor('/x.unknown')).toBe('application/octet-stream');
  });
  it('hashed assets are immutable, model files revalidate', () => {
    expect(cacheControlFor('/_astro/index.C3GHsR1w.js')).toContain('immutable');
    expect(cacheControlFor('/models/kvlab-16m/onnx/model.onnx')).toBe('public, max-age=0, must-revalidate');
    expect(cacheControlFor('/lab/_astro/a.js', '/lab/')).toContain('immutable');
  });
  it('frame-ancestors: anyone for embed pages, the site only elsewhere', () => {
    expect(contentSecurityPolicy({ embed: true, scriptHashes: [] })).toContain('frame-ancestors *');
    expect(contentSecurityPolicy({ embed: false, scriptHashes: [] })).toContain("frame-ancestors 'self'");
    expect(contentSecurityPolicy({ embed: false, scriptHashes: ['sha256-abc='] })).toContain(
      "script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='",
    );
  });
  it("inline script hashes match the CSP Level 3 spec's example (§8.3)", async () => {
    // https://www.w3.org/TR/CSP3/#grammardef-hash-source: <script>alert('Hello, world.');</script>
    const html = `<p><script>alert('Hello, world.');</script><script type="module" src="/a.js"></script><script type="application/ld+json">{}</script>`;
    expect(await inlineScriptHashes(html)).toEqual(['sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=']);
  });
  it('log lines carry no control characters and are bounded', () => {
    const line = logSafe('/a\r\nInjected: yes' + 'x'.repeat(500));
    expect(line).not.toMatch(/[\r\n]/);
    expect(line.length).toBeLessThan(220);
  });
});
