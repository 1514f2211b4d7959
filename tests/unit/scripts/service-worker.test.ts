/**
 * scripts/service-worker.mjs on a small fixture build: the service worker it writes keeps nothing
 * damaged (issue #17). Precache entries carry the SHA-384 of their file as `integrity`, which
 * workbox-precaching 7.4.1 (`PrecacheController.js` `install()`) hands to the browser's fetch; the
 * ONNX Runtime rule only stores a 200 of the right MIME type whose SHA-256 is the build's.
 * The plugin is checked as workbox-build serialises it into sw.js (its own
 * `build/lib/stringify-without-comments.js`), then evaluated; sw.js itself must hold that text.
 * The browser side (a captive portal's page answering a precached file) is
 * tests/e2e/reliability/sw-cache.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSW } from 'workbox-build';
import { stringifyWithoutComments } from 'workbox-build/build/lib/stringify-without-comments.js';
import { RUNTIME_CACHE, serviceWorkerConfig } from '../../../scripts/service-worker.mjs';
import { SW_RUNTIME_CACHE, evictFromSwRuntimeCache, type CacheStorageLike } from '../../../src/lib/model/sw-cache';

const root = mkdtempSync(join(tmpdir(), 'kvlab-sw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
function write(rel: string, body: string | Buffer) {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), body);
}

const WASM_NAME = 'ort-wasm-simd-threaded-AB12cd34.wasm';
const MJS_NAME = 'ort-wasm-simd-threaded-EF56gh78.mjs';
const WASM = Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), randomBytes(4096)]);
const MJS = 'export default function ort() { return 1; }\n';
const PRECACHED: Record<string, string | Buffer> = {
  'index.html': '<!doctype html><title>KV Cache Lab</title><p>home</p>',
  'articles/keys-and-values/index.html': '<!doctype html><title>Keys</title><p>chapter</p>',
  '_astro/page.Ab12.js': 'console.log("page");\n',
  '_astro/page.Cd34.css': 'body { color: #111; }\n',
  'precomputed/index.json': '{"prompts":[]}',
  'precomputed/factual.bin': randomBytes(2048),
};

let sw = '';
beforeAll(async () => {
  for (const [rel, body] of Object.entries(PRECACHED)) write(rel, body);
  write(`_astro/${WASM_NAME}`, WASM);
  write(`_astro/${MJS_NAME}`, MJS);
  write('models/m/model.onnx', randomBytes(64)); // not precached (globIgnores)
  await generateSW(serviceWorkerConfig(root));
  sw = readFileSync(join(root, 'sw.js'), 'utf8');
}, 60_000);

describe('precache integrity', () => {
  it('every precache entry in sw.js carries the SHA-384 of its file, and only the expected files are precached', () => {
    // The manifest literal as workbox-build's template writes it and terser keeps it.
    const entries = [...sw.matchAll(/\{url:"([^"]+)",revision:"[0-9a-f]+"(?:,integrity:"([^"]*)")?\}/g)].map((m) => ({
      url: m[1],
      integrity: m[2],
    }));
    expect(entries.map((e) => e.url).sort()).toEqual(Object.keys(PRECACHED).sort());
    for (const { url, integrity } of entries) {
      const expected = `sha384-${createHash('sha384').update(PRECACHED[url]).digest('base64')}`;
      expect(integrity, url).toBe(expected);
    }
  });
});

describe('ONNX Runtime runtime cache', () => {
  const rule = () => {
    const cfg = serviceWorkerConfig(root) as unknown as { runtimeCaching: { options: { cacheName: string; plugins?: object[] } }[] };
    return cfg.runtimeCaching[0].options;
  };
  // What generateSW writes into sw.js for the plugin, evaluated back into a function.
  const serialisedPlugin = () => {
    const plugins = rule().plugins ?? [];
    expect(plugins).toHaveLength(1);
    const text = stringifyWithoutComments(plugins[0]);
    return { text, plugin: new Function(`return (${text});`)() as { cacheWillUpdate: CacheWillUpdate } };
  };
  type CacheWillUpdate = (p: { request: Request; response: Response }) => Promise<Response | null>;
  const url = (name: string) => `https://kvlab.example/_astro/${name}`;
  const answer = (name: string, body: BodyInit, type: string, status = 200) =>
    serialisedPlugin().plugin.cacheWillUpdate({
      request: new Request(url(name)),
      response: new Response(body, { status, headers: { 'content-type': type } }),
    });

  it('uses the cache name the model worker clears', () => {
    expect(RUNTIME_CACHE).toBe(SW_RUNTIME_CACHE);
    expect(rule().cacheName).toBe(SW_RUNTIME_CACHE);
    expect(sw).toContain(`cacheName:"${SW_RUNTIME_CACHE}"`);
  });

  it('sw.js holds the SHA-256 of each ORT file of the build', () => {
    expect(sw).toContain(createHash('sha256').update(WASM).digest('hex'));
    expect(sw).toContain(createHash('sha256').update(MJS).digest('hex'));
  });

  it('keeps the right file with its MIME type', async () => {
    const wasm = new Response(WASM, { status: 200, headers: { 'content-type': 'application/wasm' } });
    const kept = await serialisedPlugin().plugin.cacheWillUpdate({ request: new Request(url(WASM_NAME)), response: wasm });
    expect(kept).toBe(wasm);
    // The response handed back is still readable (the plugin hashed a clone).
    expect(Buffer.from(await kept!.arrayBuffer()).equals(WASM)).toBe(true);
    expect(await answer(MJS_NAME, MJS, 'text/javascript; charset=utf-8')).not.toBeNull();
  });

  it("refuses a captive portal's HTML page with status 200", async () => {
    const html = '<!doctype html><title>Sign in to Wi-Fi</title>';
    expect(await answer(WASM_NAME, html, 'text/html; charset=utf-8')).toBeNull();
    expect(await answer(MJS_NAME, html, 'text/html; charset=utf-8')).toBeNull();
    // Even when the portal lies about the type, the bytes give it away.
    expect(await answer(WASM_NAME, html, 'application/wasm')).toBeNull();
  });

  it('refuses a damaged or truncated body with the right type, a wrong type, a non-200, an unknown name', async () => {
    const flipped = Buffer.from(WASM);
    flipped[100] ^= 1;
    expect(await answer(WASM_NAME, flipped, 'application/wasm')).toBeNull();
    expect(await answer(WASM_NAME, WASM.subarray(0, 2048), 'application/wasm')).toBeNull();
    expect(await answer(WASM_NAME, WASM, 'application/octet-stream')).toBeNull();
    expect(await answer(MJS_NAME, MJS, 'text/html')).toBeNull();
    expect(await answer(WASM_NAME, WASM, 'application/wasm', 206)).toBeNull();
    // The right bytes under another deploy's name: not this build's file.
    expect(await answer('ort-wasm-simd-threaded-ZZ99zz99.wasm', WASM, 'application/wasm')).toBeNull();
  });

  it('is written into sw.js as serialised', () => {
    // Minified there, so compare the parts terser keeps: the hash table literal and the MIME list.
    const { text } = serialisedPlugin();
    const table = text.match(/const hashes = (\{[^}]*\});/)?.[1];
    expect(table).toBeDefined();
    expect(sw).toContain(table!.replace(/\s+/g, ''));
    expect(sw).toContain('"application/wasm"');
  });
});

describe('evictFromSwRuntimeCache', () => {
  function fakeStorage(names: Record<string, Set<string>>) {
    const opened: string[] = [];
    const storage: CacheStorageLike = {
      has: async (n) => n in names,
      open: async (n) => {
        opened.push(n);
        names[n] ??= new Set();
        return { delete: async (u: string) => names[n].delete(u) };
      },
    };
    return { storage, opened, names };
  }

  it('deletes the given URLs from the runtime cache only, and reports those that were there', async () => {
    const a = url('a');
    const b = url('b');
    const { storage, names } = fakeStorage({ [SW_RUNTIME_CACHE]: new Set([a, 'other']), 'transformers-cache': new Set([b]) });
    expect(await evictFromSwRuntimeCache(storage, [a, b])).toEqual([a]);
    expect([...names[SW_RUNTIME_CACHE]]).toEqual(['other']);
    expect([...names['transformers-cache']]).toEqual([b]);
  });

  it('does not create the cache when there is none, and copes with no Cache Storage', async () => {
    const { storage, opened } = fakeStorage({});
    expect(await evictFromSwRuntimeCache(storage, [url('a')])).toEqual([]);
    expect(opened).toEqual([]);
    expect(await evictFromSwRuntimeCache(undefined, [url('a')])).toEqual([]);
  });
  function url(name: string) {
    return `https://kvlab.example/_astro/ort-${name}.wasm`;
  }
});
