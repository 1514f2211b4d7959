/**
 * The worker's dispatch function, separate from the `self.onmessage` glue so Node tests can drive
 * it: every request gets exactly one terminal response (`result`, `error` or `cancelled`), and
 * nothing thrown inside escapes (the worker stays alive after any error).
 *
 * Model work runs one request at a time in arrival order (one ONNX session cannot run two steps at
 * once); `cancel` is answered immediately and stops its target at its next step, or before it
 * starts if it is still queued.
 */
import { CancelledError, ModelError, loadError, toErrorMessage } from './errors';
import { REQUEST_TYPES, transferablesOf, type ModelRequest, type ModelResponse } from '../../lib/model/protocol';
import type { FakeQuantizeFn } from './quantized-cache';
import { DEFAULT_MODEL_ID, getModelEntry, isModelId, type ModelId } from '../../lib/model/catalogue';
import type { LoadOptions, ModelRunner } from './runner';
import { score } from './score';
import { generate, prefill, type OpContext } from './session';

export interface HandlerDeps {
  /** Send a response; `transfer` lists buffers to move rather than copy. */
  post(msg: ModelResponse, transfer: ArrayBuffer[]): void;
  /** Loads a model (the worker passes `loadRunner`; tests may pass a fake). */
  load(options: LoadOptions): Promise<ModelRunner>;
  quantize: FakeQuantizeFn;
}

export interface ModelHandler {
  handle(message: unknown): Promise<void>;
  /** Ids of requests queued or running. */
  pending(): string[];
}

function invalid(message: string): ModelError {
  return new ModelError('invalid-request', message, 'This is a bug in the page; reload it.');
}

function validate(msg: unknown): ModelRequest {
  if (typeof msg !== 'object' || msg === null) throw invalid('The worker received a message that is not an object.');
  const m = msg as Record<string, unknown>;
  if (typeof m.id !== 'string' || m.id === '') throw invalid('The worker received a message without a request id.');
  if (!(REQUEST_TYPES as readonly string[]).includes(m.type as string)) {
    throw invalid(`The worker does not know the request type ${JSON.stringify(m.type)}; allowed: ${REQUEST_TYPES.join(', ')}.`);
  }
  if (m.model !== undefined && !isModelId(m.model)) {
    throw invalid(`Unknown model ${JSON.stringify(m.model)}.`);
  }
  if (m.type === 'load' && !isModelId(m.model)) throw invalid('A load request needs a model id.');
  if (m.type === 'cancel' && typeof m.target !== 'string') throw invalid('A cancel request needs the target request id.');
  return msg as ModelRequest;
}

export function createModelHandler(deps: HandlerDeps): ModelHandler {
  let runner: ModelRunner | null = null;
  let loadedId: ModelId | null = null;
  let queue: Promise<void> = Promise.resolve();
  // `controller` aborts a model download in progress (cancel during a load; see `loadRunner`).
  const jobs = new Map<string, { aborted: boolean; controller: AbortController }>();

  const post = (msg: ModelResponse) => {
    try {
      deps.post(msg, transferablesOf(msg));
    } catch (err) {
      // e.g. a detached buffer: answer with an error so the request is not left hanging.
      if (msg.type === 'result') deps.post(toErrorMessage(msg.id, err), []);
    }
  };

  async function ensureModel(id: string, model: ModelId, allowRemote: boolean | undefined, signal?: AbortSignal): Promise<ModelRunner> {
    if (runner && loadedId === model) return runner;
    const entry = getModelEntry(model);
    if (entry.source === 'hub' && allowRemote !== true) {
      throw new ModelError(
        'remote-disabled',
        `${entry.label} is downloaded from the Hugging Face Hub (about ${Math.round(entry.approxBytes / 1e6)} MB), and downloads were not allowed.`,
        'Confirm the download, or keep using the bundled model.',
      );
    }
    if (runner) {
      const old = runner;
      runner = null;
      loadedId = null;
      await old.dispose().catch(() => undefined);
    }
    let loaded: ModelRunner;
    try {
      loaded = await deps.load({
        model,
        allowRemote,
        onProgress: (p) => post({ type: 'progress', id, ...p }),
        signal,
      });
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      throw err instanceof ModelError ? err : loadError(model, err);
    }
    runner = loaded;
    loadedId = model;
    post({ type: 'ready', id, info: loaded.info });
    return loaded;
  }

  async function run(
    req: Exclude<ModelRequest, { type: 'cancel' }>,
    signal: { aborted: boolean; controller?: AbortController },
  ): Promise<void> {
    if (signal.aborted) throw new CancelledError();
    const model = req.model ?? loadedId ?? DEFAULT_MODEL_ID;
    const t0 = performance.now();
    const r = await ensureModel(req.id, model, req.allowRemote, signal.controller?.signal);
    if (signal.aborted) throw new CancelledError();
    const ctx: OpContext = {
      signal,
      quantize: deps.quantize,
      onProgress: (p) => post({ type: 'progress', id: req.id, ...p }),
      onToken: (t) => post({ type: 'token', id: req.id, ...t }),
    };
    switch (req.type) {
      case 'load':
        post({ type: 'result', id: req.id, result: { kind: 'load', info: r.info, loadMs: performance.now() - t0 } });
        return;
      case 'prefill':
        post({ type: 'result', id: req.id, result: await prefill(r, req.prompt, ctx) });
        return;
      case 'generate':
        post({ type: 'result', id: req.id, result: await generate(r, req, ctx) });
        return;
      case 'score':
        post({ type: 'result', id: req.id, result: await score(r, req, ctx) });
        return;
    }
  }

  async function handle(message: unknown): Promise<void> {
    let req: ModelRequest;
    try {
      req = validate(message);
    } catch (err) {
      const id = typeof (message as { id?: unknown })?.id === 'string' ? (message as { id: string }).id : '';
      post(toErrorMessage(id, err));
      return;
    }
    if (req.type === 'cancel') {
      const job = jobs.get(req.target);
      if (job) {
        job.aborted = true;
        job.controller.abort();
      }
      post({ type: 'result', id: req.id, result: { kind: 'cancel', target: req.target, wasRunning: job !== undefined } });
      return;
    }
    if (jobs.has(req.id)) {
      post(toErrorMessage(req.id, new ModelError('busy', `A request with id ${req.id} is already running.`, 'Wait for it or cancel it.')));
      return;
    }
    const signal = { aborted: false, controller: new AbortController() };
    jobs.set(req.id, signal);
    const job = queue.then(async () => {
      try {
        await run(req as Exclude<ModelRequest, { type: 'cancel' }>, signal);
      } catch (err) {
        if (err instanceof CancelledError) post({ type: 'cancelled', id: req.id });
        else post(toErrorMessage(req.id, err));
      } finally {
        jobs.delete(req.id);
      }
    });
    queue = job;
    await job;
  }

  return { handle, pending: () => [...jobs.keys()] };
}
