/**
 * Main-thread client of the model worker. One worker per page, created on first use and shared by
 * every widget; at most one job per request type is in flight (a new `generate` cancels the
 * previous `generate`, and so on).
 *
 * ```ts
 * const job = getModelClient().request({ type: 'prefill', prompt }, { onProgress: (p) => … });
 * job.cancel();                      // optional
 * const result = await job.promise;  // PrefillResult; rejects with ModelClientError
 * ```
 */
import type {
  ErrorCode,
  ModelRequest,
  ModelResponse,
  ProgressMessage,
  ReadyMessage,
  RequestType,
  ResultFor,
  TokenMessage,
} from './protocol';

export type JobType = Exclude<RequestType, 'cancel'>;
/** A request without its id (the client assigns ids). */
export type RequestBody<T extends JobType> = { [K in JobType]: Omit<Extract<ModelRequest, { type: K }>, 'id'> }[T] & { type: T };

export interface RequestCallbacks {
  onProgress?(p: ProgressMessage): void;
  onToken?(t: TokenMessage): void;
  onReady?(r: ReadyMessage): void;
}

export interface RequestHandle<T extends JobType> {
  id: string;
  promise: Promise<ResultFor<T>>;
  /** Stop the job; its promise rejects with code `cancelled`. */
  cancel(): void;
}

/** A rejected request: `message` and `action` are written for readers. */
export class ModelClientError extends Error {
  readonly code: ErrorCode | 'cancelled';
  readonly action: string;
  /** The worker's original exception text, for the console. */
  readonly detail?: string;
  constructor(code: ErrorCode | 'cancelled', message: string, action: string, detail?: string) {
    super(message);
    this.name = 'ModelClientError';
    this.code = code;
    this.action = action;
    this.detail = detail;
  }
}

/** The part of `Worker` the client uses (tests pass a fake). */
export interface WorkerLike {
  postMessage(msg: ModelRequest): void;
  addEventListener(type: 'message', fn: (e: MessageEvent<ModelResponse>) => void): void;
  addEventListener(type: 'error' | 'messageerror', fn: (e: Event) => void): void;
  terminate(): void;
}

export interface ModelClient {
  request<T extends JobType>(body: RequestBody<T>, callbacks?: RequestCallbacks): RequestHandle<T>;
  /** Terminate the worker and reject everything pending (a later request starts a new worker). */
  dispose(): void;
}

interface Pending {
  type: JobType;
  callbacks: RequestCallbacks;
  resolve(r: unknown): void;
  reject(e: ModelClientError): void;
}

const unavailable = (detail: string) =>
  new ModelClientError(
    'worker-unavailable',
    `The model cannot run in this browser or frame (${detail}).`,
    'Open the page directly in a current browser; the figures still show precomputed tensors.',
  );

let counter = 0;
const nextId = () => `m${Date.now().toString(36)}-${(counter++).toString(36)}`;

export function createModelClient(createWorker: () => WorkerLike): ModelClient {
  let worker: WorkerLike | null = null;
  const pending = new Map<string, Pending>();
  const latestByType = new Map<JobType, string>();
  // After a failed model load the worker is replaced before the next request: ONNX Runtime keeps its
  // WebAssembly module for the worker's lifetime (transformers.js 4.3.2 backends/onnx.js memoizes
  // `ensureWasmLoaded`), so a retry in the same worker could not recover from a bad runtime file.
  let restartBeforeNext = false;

  const failAll = (err: ModelClientError) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    latestByType.clear();
    worker?.terminate();
    worker = null;
  };

  const onMessage = (e: MessageEvent<ModelResponse>) => {
    const msg = e.data;
    const p = pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'progress':
        p.callbacks.onProgress?.(msg);
        return;
      case 'token':
        p.callbacks.onToken?.(msg);
        return;
      case 'ready':
        p.callbacks.onReady?.(msg);
        return;
    }
    pending.delete(msg.id);
    if (latestByType.get(p.type) === msg.id) latestByType.delete(p.type);
    if (msg.type === 'result') p.resolve(msg.result);
    else if (msg.type === 'error') {
      if (msg.code === 'model-load-failed') restartBeforeNext = true;
      p.reject(new ModelClientError(msg.code, msg.message, msg.action, msg.detail));
    } else p.reject(new ModelClientError('cancelled', 'The request was cancelled.', 'Start it again when you are ready.'));
  };

  const ensureWorker = (): WorkerLike => {
    if (worker && restartBeforeNext && pending.size === 0) {
      worker.terminate();
      worker = null;
    }
    if (worker) return worker;
    restartBeforeNext = false;
    if (typeof WebAssembly !== 'object') throw unavailable('no WebAssembly');
    let w: WorkerLike;
    try {
      w = createWorker();
    } catch (err) {
      throw unavailable(String((err as Error)?.message ?? err));
    }
    w.addEventListener('message', onMessage);
    w.addEventListener('error', (e: Event) => {
      const m = (e as ErrorEvent).message;
      failAll(unavailable(m ? `the worker failed: ${m}` : 'the worker failed to start'));
    });
    w.addEventListener('messageerror', () => failAll(unavailable('a message could not be read')));
    worker = w;
    return w;
  };

  const cancel = (target: string) => {
    if (!pending.has(target) || !worker) return;
    worker.postMessage({ type: 'cancel', id: nextId(), target });
  };

  return {
    request<T extends JobType>(body: RequestBody<T>, callbacks: RequestCallbacks = {}): RequestHandle<T> {
      const id = nextId();
      let resolve!: (r: ResultFor<T>) => void;
      let reject!: (e: ModelClientError) => void;
      const promise = new Promise<ResultFor<T>>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      try {
        const w = ensureWorker();
        const previous = latestByType.get(body.type);
        if (previous) cancel(previous);
        pending.set(id, { type: body.type, callbacks, resolve: resolve as (r: unknown) => void, reject });
        latestByType.set(body.type, id);
        w.postMessage({ ...body, id } as ModelRequest);
      } catch (err) {
        pending.delete(id);
        reject(err instanceof ModelClientError ? err : unavailable(String(err)));
      }
      return { id, promise, cancel: () => cancel(id) };
    },
    dispose() {
      failAll(new ModelClientError('cancelled', 'The model was closed.', 'Reload the page to start it again.'));
    },
  };
}

let shared: ModelClient | null = null;

/** The page's shared client; its worker starts on the first request. */
export function getModelClient(): ModelClient {
  shared ??= createModelClient(
    () =>
      new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module', name: 'kv-model' }) as unknown as WorkerLike,
  );
  return shared;
}
