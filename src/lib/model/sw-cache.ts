/**
 * The service worker's runtime cache, where it keeps the ONNX Runtime files (`dist/sw.js`, written
 * by `scripts/service-worker.mjs`, which has the same name as `RUNTIME_CACHE`; Node 20 cannot import
 * this file from a build script, so tests/unit/scripts/service-worker.test.ts checks that both agree).
 *
 * The service worker now only stores an ORT file whose SHA-256 matches the build's, but a copy
 * stored by an older service worker, or one damaged on disk, would be served for ever (the names
 * are content hashes, so no deploy replaces it). The model worker therefore deletes the ORT URLs
 * here too when a load fails with every model file intact (`loadRunner` in
 * src/workers/engine/runner.ts).
 */
export const SW_RUNTIME_CACHE = 'kvlab-runtime';

/** The part of `CacheStorage` used here (a fake in unit tests). */
export interface CacheStorageLike {
  has(name: string): Promise<boolean>;
  open(name: string): Promise<{ delete(request: string): Promise<boolean> }>;
}

/**
 * Delete `urls` from the service worker's runtime cache; returns those that were there. Does not
 * create the cache when it does not exist (no service worker, or it never ran the model).
 */
export async function evictFromSwRuntimeCache(storage: CacheStorageLike | undefined, urls: readonly string[]): Promise<string[]> {
  if (!storage || !urls.length || !(await storage.has(SW_RUNTIME_CACHE))) return [];
  const cache = await storage.open(SW_RUNTIME_CACHE);
  const removed: string[] = [];
  for (const url of urls) if (await cache.delete(url)) removed.push(url);
  return removed;
}
