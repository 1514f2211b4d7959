/**
 * The quantizer's side of its worker (`sweep.worker.ts`, messages in `protocol.ts`): starts the
 * worker on first use, sends a prompt's tensors once, asks for whole-cache metrics (`run`) and for
 * prefetched quantizations (`prefetch`), and hands every answer to the element's callbacks.
 * Without a worker (blocked by the page, or it failed to start) `available` is false and the element
 * computes on the main thread.
 */
import type { KVTensor } from '../../lib/quant/index';
import type { KvQuant } from './model';
import type { Metrics } from './model';
import type { PrefetchItem, SweepRequest, SweepResponse } from './protocol';
import { spawnWorker } from '../../lib/portable-worker';

export interface SweepClientEvents {
  /** A prefetched quantization of prompt `id`. */
  quantized(id: string, key: string, result: { dequantized: Float32Array; used: KvQuant; error?: string }): void;
  progress(seq: number, done: number, total: number): void;
  result(seq: number, metrics: Metrics & { errors: string[] }): void;
  error(seq: number, message: string): void;
  /** The worker failed after starting; later calls report `available === false`. */
  lost(): void;
}

type WorkerFactory = () => Worker;
// spawnWorker: also starts on another site's page (the script-tag bundle), through a same-origin shim.
const defaultFactory: WorkerFactory = () =>
  spawnWorker((Worker) => new Worker(new URL('./sweep.worker.ts', import.meta.url), { type: 'module' }));

export class SweepClient {
  #worker: Worker | null | undefined;
  #sentId: string | null = null;
  #prefetching = false;
  readonly #events: SweepClientEvents;
  readonly #create: WorkerFactory;

  constructor(events: SweepClientEvents, create: WorkerFactory = defaultFactory) {
    this.#events = events;
    this.#create = create;
  }

  /** Whether a worker runs (starting it on first call). */
  get available(): boolean {
    return this.#workerOrNull() !== null;
  }

  /** Whole-cache metrics of prompt `id` for `kcfg`/`vcfg`; false when there is no worker. */
  run(id: string, tensors: { keys: KVTensor[]; values: KVTensor[] }, seq: number, kcfg: KvQuant | null, vcfg: KvQuant | null): boolean {
    const w = this.#workerOrNull();
    if (!w) return false;
    this.#send(w, id, tensors);
    this.#post(w, { type: 'run', seq, id, kcfg, vcfg });
    return true;
  }

  /** Replace the prefetch list (an empty list cancels one in progress; nothing is sent when idle and empty). */
  prefetch(id: string, tensors: { keys: KVTensor[]; values: KVTensor[] }, items: PrefetchItem[]): void {
    if (!items.length && !this.#prefetching) return;
    const w = this.#workerOrNull();
    if (!w) return;
    this.#send(w, id, tensors);
    this.#prefetching = items.length > 0;
    this.#post(w, { type: 'prefetch', id, items });
  }

  dispose(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#sentId = null;
  }

  #post(w: Worker, m: SweepRequest): void {
    w.postMessage(m);
  }

  /** The worker keeps the tensors of the current prompt (sent once per prompt). */
  #send(w: Worker, id: string, t: { keys: KVTensor[]; values: KVTensor[] }): void {
    if (this.#sentId === id) return;
    this.#sentId = id;
    this.#post(w, { type: 'tensors', id, keys: t.keys, values: t.values });
  }

  #workerOrNull(): Worker | null {
    if (this.#worker !== undefined) return this.#worker;
    try {
      const w = this.#create();
      w.onmessage = (e: MessageEvent<SweepResponse>) => this.#dispatch(e.data);
      w.onerror = (e) => {
        e.preventDefault();
        this.#worker = null;
        this.#events.lost();
      };
      this.#worker = w;
    } catch {
      this.#worker = null;
    }
    return this.#worker;
  }

  #dispatch(m: SweepResponse): void {
    switch (m.type) {
      case 'quantized':
        this.#events.quantized(m.id, m.key, { dequantized: m.dequantized, used: m.used, error: m.error });
        return;
      case 'progress':
        this.#events.progress(m.seq, m.done, m.total);
        return;
      case 'result':
        this.#events.result(m.seq, m.metrics);
        return;
      case 'error':
        this.#events.error(m.seq, m.message);
        return;
    }
  }
}
