import { describe, expect, it } from 'vitest';
import { portableWorkerUrl } from '../../../src/lib/portable-worker';

const SITE = 'https://kv.example/_astro/sweep.worker-abc.js';
const HOST_PAGE = 'https://blog.example/post/';

async function blobText(url: string): Promise<string> {
  // Node 20 resolves blob: URLs made by URL.createObjectURL through fetch.
  return (await fetch(url)).text();
}

describe('portableWorkerUrl', () => {
  it('keeps a worker of the page’s own origin as it is', () => {
    expect(portableWorkerUrl(SITE, { type: 'module' }, 'https://kv.example/embed/tradeoff/')).toBe(SITE);
    expect(portableWorkerUrl('/_astro/w.js', { type: 'module' }, 'https://kv.example/x')).toBe('/_astro/w.js');
  });

  it('starts a module worker of another origin from a same-origin blob that imports it', async () => {
    const url = portableWorkerUrl(new URL(SITE), { type: 'module' }, HOST_PAGE);
    expect(String(url)).toMatch(/^blob:/);
    expect(await blobText(String(url))).toBe(`import "${SITE}";\n`);
    // One shim per chunk, reused for the next worker.
    expect(portableWorkerUrl(SITE, { type: 'module' }, HOST_PAGE)).toBe(url);
  });

  it('quotes the URL as a string literal (no code from a crafted URL)', async () => {
    const odd = 'https://kv.example/_astro/a";alert(1);".js';
    const url = portableWorkerUrl(odd, { type: 'module' }, HOST_PAGE);
    const text = await blobText(String(url));
    expect(text).toBe(`import ${JSON.stringify(new URL(odd).href)};\n`);
    // The literal between `import ` and the final `;` parses back to exactly the URL.
    expect(JSON.parse(text.slice('import '.length, -2))).toBe(new URL(odd).href);
  });

  it('leaves classic workers, blob: and data: URLs and unparsable input unchanged', () => {
    expect(portableWorkerUrl(SITE, undefined, HOST_PAGE)).toBe(SITE);
    expect(portableWorkerUrl('blob:https://kv.example/1234', { type: 'module' }, HOST_PAGE)).toBe('blob:https://kv.example/1234');
    expect(portableWorkerUrl('data:text/javascript,1', { type: 'module' }, HOST_PAGE)).toBe('data:text/javascript,1');
    expect(portableWorkerUrl('http://[bad', { type: 'module' }, HOST_PAGE)).toBe('http://[bad');
  });
});
