/// <reference lib="webworker" />
/**
 * Whole-cache metrics off the main thread: the element sends a prompt's tensors once
 * (`tensors`), then a `run` per configuration; the worker answers with progress and
 * the metrics (computed by model.ts → src/lib/quant). Errors are answered, never dropped.
 */
import type { KVTensor, QuantConfig } from '../../lib/quant/index';
import { wholeCacheMetrics, type Metrics } from './model';

export type SweepRequest =
  | { type: 'tensors'; id: string; keys: KVTensor[]; values: KVTensor[] }
  | { type: 'run'; seq: number; id: string; kcfg: QuantConfig | null; vcfg: QuantConfig | null };

export type SweepResponse =
  | { type: 'progress'; seq: number; done: number; total: number }
  | { type: 'result'; seq: number; metrics: Metrics & { errors: string[] } }
  | { type: 'error'; seq: number; message: string };

const sets = new Map<string, { keys: KVTensor[]; values: KVTensor[] }>();
const post = (m: SweepResponse) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

self.onmessage = (e: MessageEvent<SweepRequest>) => {
  const m = e.data;
  if (m.type === 'tensors') {
    sets.clear();
    sets.set(m.id, { keys: m.keys, values: m.values });
    return;
  }
  try {
    const set = sets.get(m.id);
    if (!set) throw new Error('the tensors of this prompt have not arrived');
    const metrics = wholeCacheMetrics(set.keys, set.values, m.kcfg, m.vcfg, (done, total) => post({ type: 'progress', seq: m.seq, done, total }));
    post({ type: 'result', seq: m.seq, metrics });
  } catch (err) {
    post({ type: 'error', seq: m.seq, message: err instanceof Error ? err.message : String(err) });
  }
};
