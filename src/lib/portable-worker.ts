/**
 * Module workers that also start on another site's page.
 *
 * The script-tag bundle (`kv-cache-lab.js`) runs the widgets on pages of other origins, but the
 * HTML standard's `new Worker(url)` requires a script of the page's own origin ("run a worker",
 * https://html.spec.whatwg.org/multipage/workers.html#dom-worker: a cross-origin URL throws a
 * "SecurityError" DOMException). A same-origin blob module that imports the site's chunk works:
 * a module import is a CORS fetch, and the site answers it with `Access-Control-Allow-Origin: *`
 * (scripts/serve.mjs, docs/hosting.md). Inside, `import.meta.url` of the chunk stays its real
 * URL, so the chunk's own relative imports and assets still come from the site.
 *
 * Vite bundles a worker only when the source says `new Worker(new URL('./x.ts', import.meta.url), …)`
 * (vite 6 `workerImportMetaUrlRE`, a textual match), so callers keep that form and get the
 * constructor as a parameter named `Worker`:
 *
 *     spawnWorker((Worker) => new Worker(new URL('./sweep.worker.ts', import.meta.url), { type: 'module' }))
 */

export type WorkerConstructor = new (url: string | URL, options?: WorkerOptions) => Worker;

/** One shim per worker chunk: a tiny blob, kept for the page's life so a worker can be started again. */
const shims = new Map<string, string>();

/**
 * The URL to start a worker from: the URL itself when it is of the page's origin (or a blob:/data:
 * URL), else a blob module that imports it. Classic (non-module) workers cannot import, so they
 * get the URL unchanged and the browser's own error.
 */
export function portableWorkerUrl(url: string | URL, options: WorkerOptions | undefined, pageUrl: string): string | URL {
  let target: URL;
  try {
    target = new URL(String(url), pageUrl);
  } catch {
    return url;
  }
  if (target.protocol === 'blob:' || target.protocol === 'data:') return url;
  if (target.origin === new URL(pageUrl).origin || options?.type !== 'module') return url;
  let shim = shims.get(target.href);
  if (!shim) {
    // JSON.stringify quotes the URL safely for a JavaScript string literal.
    shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(target.href)};\n`], { type: 'text/javascript' }));
    shims.set(target.href, shim);
  }
  return shim;
}

let portable: WorkerConstructor | null = null;

/** `Worker`, started through a same-origin shim when its script is of another origin. */
function portableWorker(): WorkerConstructor {
  if (portable) return portable;
  const Base = globalThis.Worker;
  if (typeof Base !== 'function') throw new Error('Web Workers are not available here.');
  portable = class PortableWorker extends Base {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(portableWorkerUrl(url, options, globalThis.location?.href ?? String(url)), options);
    }
  };
  return portable;
}

/** Start a worker with `make((Worker) => new Worker(new URL(…, import.meta.url), …))` (see above). */
export function spawnWorker<T>(make: (Worker: WorkerConstructor) => T): T {
  return make(portableWorker());
}
