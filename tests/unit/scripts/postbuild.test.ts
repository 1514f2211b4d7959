/**
 * scripts/serve/postbuild.mjs on a small fixture build: the precompressed siblings decode to
 * their file and are only kept when they pay; `_headers` gives static hosts the same headers
 * as scripts/serve.mjs without a catch-all CSP.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { precompress, writeHeadersFile } from '../../../scripts/serve/postbuild.mjs';

const root = mkdtempSync(join(tmpdir(), 'kvlab-postbuild-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
function write(rel: string, body: string | Buffer) {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), body);
}

describe('precompress', () => {
  const TEXT = 'export function f(x) { return x * 2; }\n'.repeat(500);
  const NOISE = randomBytes(64 * 1024);
  it('writes .br/.gz that decode to the file; skips tiny, incompressible and model files', async () => {
    write('_astro/a.js', TEXT);
    write('tiny.json', '{}');
    write('precomputed/noise.bin', NOISE);
    write('models/m/model.onnx', TEXT);
    write('_server/oembed.mjs', TEXT);
    const stats = await precompress(root);
    expect(brotliDecompressSync(readFileSync(join(root, '_astro/a.js.br'))).toString()).toBe(TEXT);
    expect(gunzipSync(readFileSync(join(root, '_astro/a.js.gz'))).toString()).toBe(TEXT);
    expect(stats['_astro/a.js'].size).toBe(TEXT.length);
    expect(stats['_astro/a.js'].br).toBe(readFileSync(join(root, '_astro/a.js.br')).length);
    // Random bytes do not compress: no variant kept (a .br would only cost bytes and CPU).
    expect(existsSync(join(root, 'precomputed/noise.bin.br'))).toBe(false);
    expect(existsSync(join(root, 'precomputed/noise.bin.gz'))).toBe(false);
    expect(existsSync(join(root, 'tiny.json.br'))).toBe(false);
    expect(existsSync(join(root, 'models/m/model.onnx.br'))).toBe(false);
    expect(existsSync(join(root, '_server/oembed.mjs.br'))).toBe(false);
  });
});

describe('_headers', () => {
  it('CSP per page folder (embed: any ancestor), never on the catch-all; CORS on everything', async () => {
    write('index.html', "<script>alert('Hello, world.');</script>");
    write('articles/a/index.html', '<p>chapter</p>');
    write('embed/memory/index.html', '<p>embed</p>');
    await writeHeadersFile(root, '/');
    const text = readFileSync(join(root, '_headers'), 'utf8');
    const rules = Object.fromEntries(
      text
        .split(/\n(?=\/)/)
        .filter((b) => b.startsWith('/'))
        .map((b) => [b.split('\n')[0], b.split('\n').slice(1).join('\n')]),
    );
    expect(rules['/*']).toContain('Access-Control-Allow-Origin: *');
    expect(rules['/*']).not.toContain('Content-Security-Policy');
    expect(rules['/articles/*']).toContain("frame-ancestors 'self'");
    // The CSP Level 3 spec's hash example (https://www.w3.org/TR/CSP3/#grammardef-hash-source).
    expect(rules['/articles/*']).toContain("'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='");
    expect(rules['/embed/*']).toContain('frame-ancestors *');
    expect(rules['/embed/*']).not.toContain('X-Frame-Options');
    expect(rules['/_astro/*']).toContain('immutable');
  });
});
