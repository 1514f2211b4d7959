import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FileIntegrityError,
  HASH_HEADER,
  checkBytes,
  createVerifyingFetch,
  describeFailures,
  isManifest,
  pruneCache,
  sha256Hex,
  type ModelManifest,
} from '../../../../src/lib/model/integrity';

// Reference hashes come from Node's own crypto (OpenSSL), not from the code under test.
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const MODEL_URL = 'http://site.test/models/toy/';
const onnx = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
const tokenizer = new TextEncoder().encode(JSON.stringify({ model: { vocab: { a: 0, b: 1 } } }));
const manifest: ModelManifest = {
  model: 'toy',
  version: 'test',
  files: [
    { path: 'onnx/model.onnx', bytes: onnx.length, sha256: nodeSha(onnx) },
    { path: 'tokenizer.json', bytes: tokenizer.length, sha256: nodeSha(tokenizer) },
  ],
};
const HTML = new TextEncoder().encode('<!DOCTYPE html><html><body>Please sign in to the hotel Wi-Fi</body></html>');

/** A fake network: each URL answers from a queue of responses (the last one repeats). */
function network(answers: Record<string, Array<() => Response | Promise<Response>>>) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init });
    const queue = answers[url];
    if (!queue) return new Response('missing', { status: 404 });
    const next = queue.length > 1 ? queue.shift()! : queue[0];
    return next();
  }) as typeof fetch;
  return { fetchFn, calls };
}
const ok =
  (b: Uint8Array, type = 'application/octet-stream') =>
  () =>
    new Response(b.slice(), { status: 200, headers: { 'content-type': type } });

describe('sha256Hex', () => {
  it('matches Node crypto on the empty input, "abc" and binary data', async () => {
    for (const b of [new Uint8Array(0), new TextEncoder().encode('abc'), onnx]) expect(await sha256Hex(b)).toBe(nodeSha(b));
    // FIPS 180-2 test vector for "abc".
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('checkBytes', () => {
  const f = manifest.files[0];
  it('accepts the exact bytes', async () => expect(await checkBytes(onnx, f, null)).toBeNull());
  it('reports a truncated file', async () => expect((await checkBytes(onnx.subarray(0, 1000), f, null))?.kind).toBe('truncated'));
  it('reports one flipped byte as a hash mismatch', async () => {
    const bad = onnx.slice();
    bad[2000] ^= 0x01;
    expect((await checkBytes(bad, f, null))?.kind).toBe('hash');
  });
  it('recognises an HTML page answered for a JSON file', async () => {
    expect((await checkBytes(HTML, manifest.files[1], 'text/html; charset=utf-8'))?.kind).toBe('html');
    expect((await checkBytes(HTML, manifest.files[1], null))?.kind).toBe('html');
  });
});

describe('createVerifyingFetch', () => {
  it('refetches a truncated model.onnx once, bypassing the HTTP cache, and tags the good copy', async () => {
    const url = `${MODEL_URL}onnx/model.onnx`;
    const { fetchFn, calls } = network({ [url]: [ok(onnx.subarray(0, 100)), ok(onnx)] });
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    const res = await vf(url);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(onnx);
    expect(res.headers.get(HASH_HEADER)).toBe(nodeSha(onnx));
    expect(calls.map((c) => c.init?.cache)).toEqual([undefined, 'reload']);
    expect(vf.failures).toEqual([]);
  });

  it('refetches a captive-portal page answered for tokenizer.json (status 200)', async () => {
    const url = `${MODEL_URL}tokenizer.json`;
    const { fetchFn, calls } = network({ [url]: [ok(HTML, 'text/html'), ok(tokenizer, 'application/json')] });
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    expect(await (await vf(url)).text()).toBe(new TextDecoder().decode(tokenizer));
    expect(calls).toHaveLength(2);
  });

  it('resolves a root-relative path (transformers.js passes env.localModelPath + file)', async () => {
    const { fetchFn } = network({ [`${MODEL_URL}tokenizer.json`]: [ok(tokenizer)] });
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    expect((await vf('/models/toy/tokenizer.json')).headers.get(HASH_HEADER)).toBe(nodeSha(tokenizer));
  });

  it('gives up after the second bad copy with a reason and records it', async () => {
    const url = `${MODEL_URL}onnx/model.onnx`;
    const flipped = onnx.slice();
    flipped[0] ^= 0xff;
    const { fetchFn, calls } = network({ [url]: [ok(flipped)] });
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    await expect(vf(url)).rejects.toBeInstanceOf(FileIntegrityError);
    expect(calls).toHaveLength(2);
    expect(vf.failures).toMatchObject([{ file: 'onnx/model.onnx', kind: 'hash' }]);
    expect(describeFailures(vf.failures)?.message).toMatch(/onnx\/model\.onnx arrived damaged twice/);
  });

  it('reports a connection reset as a network error, not as a missing file', async () => {
    const url = `${MODEL_URL}onnx/model.onnx`;
    const { fetchFn } = network({
      [url]: [
        () => {
          throw new TypeError('Failed to fetch (ERR_CONNECTION_RESET)');
        },
      ],
    });
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    await expect(vf(url)).rejects.toBeInstanceOf(FileIntegrityError);
    const d = describeFailures(vf.failures)!;
    expect(d.kind).toBe('network');
    expect(`${d.message} ${d.action}`).toMatch(/connection/i);
    expect(`${d.message} ${d.action}`).not.toMatch(/built without/i);
  });

  it('passes a 404 through unchanged (transformers.js treats it as "not found")', async () => {
    const { fetchFn, calls } = network({});
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    expect((await vf(`${MODEL_URL}generation_config.json`)).status).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('threads the abort signal into the request and reports the cancel', async () => {
    const url = `${MODEL_URL}onnx/model.onnx`;
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const fetchFn = ((_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        seen = init?.signal ?? undefined;
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      })) as typeof fetch;
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn, signal: controller.signal });
    const p = vf(url);
    controller.abort();
    await expect(p).rejects.toBeInstanceOf(FileIntegrityError);
    expect(seen).toBe(controller.signal);
    expect(vf.failures.map((f) => f.kind)).toEqual(['aborted']);
  });

  it('passes a file of another origin (a Hub model) through as streamed, with the signal', async () => {
    const url = 'https://huggingface.co/x/resolve/main/onnx/model.onnx';
    const body = new Uint8Array(10);
    const { fetchFn, calls } = network({ [url]: [() => new Response(body, { headers: { 'content-length': '20' } })] });
    const controller = new AbortController();
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn, signal: controller.signal });
    const res = await vf(url);
    expect(res.headers.get(HASH_HEADER)).toBeNull();
    expect(calls[0].init?.signal).toBe(controller.signal);
  });

  it('refuses a non-manifest file shorter than its content-length', async () => {
    const url = 'http://site.test/_astro/ort.wasm';
    const body = new Uint8Array(10);
    const { fetchFn } = network({ [url]: [() => new Response(body, { headers: { 'content-length': '20' } })] });
    const vf = createVerifyingFetch({ modelUrl: MODEL_URL, manifest, fetch: fetchFn });
    await expect(vf(url)).rejects.toBeInstanceOf(FileIntegrityError);
    expect(vf.failures[0].kind).toBe('truncated');
  });
});

describe('pruneCache', () => {
  it('deletes cached copies without the tag or with another hash, keeps verified ones', async () => {
    const store = new Map<string, Response>([
      [`${MODEL_URL}onnx/model.onnx`, new Response(onnx.slice(), { headers: { [HASH_HEADER]: 'f'.repeat(64) } })], // previous deploy
      [`${MODEL_URL}tokenizer.json`, new Response(HTML)], // cached before verification existed
      ['http://site.test/other', new Response('x')],
    ]);
    const cache = { match: async (k: string) => store.get(k), delete: async (k: string) => store.delete(k) };
    expect(await pruneCache(cache, manifest, MODEL_URL)).toEqual([`${MODEL_URL}onnx/model.onnx`, `${MODEL_URL}tokenizer.json`]);
    store.set(`${MODEL_URL}tokenizer.json`, new Response(tokenizer.slice(), { headers: { [HASH_HEADER]: nodeSha(tokenizer) } }));
    expect(await pruneCache(cache, manifest, MODEL_URL)).toEqual([]);
    expect([...store.keys()].sort()).toEqual([`${MODEL_URL}tokenizer.json`, 'http://site.test/other']);
  });
});

describe('scripts/model-manifest.mjs output', () => {
  it('the committed manifest lists the bundled files with their real sizes and hashes', () => {
    const dir = new URL('../../../../public/models/kvlab-16m/', import.meta.url);
    const m = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as unknown;
    expect(isManifest(m)).toBe(true);
    const files = (m as ModelManifest).files;
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx/model.onnx']));
    for (const f of files) {
      const data = readFileSync(new URL(f.path, dir));
      expect(f.bytes).toBe(data.length);
      expect(f.sha256).toBe(nodeSha(data));
    }
    // --check exits 0 only when every manifest matches the files.
    execFileSync('node', ['scripts/model-manifest.mjs', '--check'], { cwd: new URL('../../../../', import.meta.url) });
  });
});
