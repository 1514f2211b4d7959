/// <reference lib="webworker" />
/**
 * The quantizer's work off the main thread. The element sends a prompt's tensors once (`tensors`), then
 * - `prefetch`: settings one step away from the current one (slow methods only, see model.ts
 *   neighbourSettings); each is quantized and sent back (`quantized`, the array transferred) for the element's
 *   result cache, so the reader's next step needs no re-quantization on the page;
 * - `run`: the whole-cache metrics of a configuration (progress, then the metrics).
 * Every number comes from model.ts → src/lib/quant, as on the page. Errors are answered, never dropped.
 *
 * Scheduling: one item of work per task, prefetch before whole-cache, and a newer `prefetch` replaces the list
 * (the reader has moved on). A whole-cache run is one task (a few hundred ms at most for HQQ at 1,024 tokens).
 */
import type { KVTensor } from '../../lib/quant/index';
import { Requantizer, wholeCacheMetrics } from './model';
import { isSweepRequest, type PrefetchItem, type SweepRequest, type SweepResponse } from './protocol';

const sets = new Map<string, { keys: KVTensor[]; values: KVTensor[] }>();
const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: SweepResponse, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let prefetch: { id: string; items: PrefetchItem[] } | null = null;
let run: Extract<SweepRequest, { type: 'run' }> | null = null;
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // a zero-delay timer is a new task: messages that arrived meanwhile are handled first
  setTimeout(step, 0);
}

/** Quantizes as the page does (same Requantizer: an impossible config falls back to Transformers' default). */
const requantizer = new Requantizer();

function step(): void {
  scheduled = false;
  const item = prefetch?.items.shift();
  if (prefetch && item) {
    const set = sets.get(prefetch.id);
    const t = set ? (item.kind === 'k' ? set.keys : set.values)[item.layer] : undefined;
    if (t) {
      try {
        const r = requantizer.run('prefetch', t, item.cfg);
        // a copy to transfer: the Requantizer reuses its buffer (which lives in wasm memory and cannot be moved)
        const dequantized = r.dequantized.slice();
        post({ type: 'quantized', id: prefetch.id, key: item.key, dequantized, used: r.used!, error: r.error }, [dequantized.buffer]);
      } catch {
        // a prefetch is only a guess: the page computes the setting itself if the reader goes there
      }
    }
    if (prefetch.items.length === 0) prefetch = null;
    schedule();
    return;
  }
  const m = run;
  run = null;
  if (!m) return;
  try {
    const set = sets.get(m.id);
    if (!set) throw new Error('the tensors of this prompt have not arrived');
    const metrics = wholeCacheMetrics(set.keys, set.values, m.kcfg, m.vcfg, (done, total) =>
      post({ type: 'progress', seq: m.seq, done, total }),
    );
    post({ type: 'result', seq: m.seq, metrics });
  } catch (err) {
    post({ type: 'error', seq: m.seq, message: err instanceof Error ? err.message : String(err) });
  }
  if (prefetch || run) schedule();
}

self.onmessage = (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isSweepRequest(m)) {
    // Never drop a message silently: the page learns that it sent something this worker does not know.
    post({ type: 'error', seq: -1, message: `unknown request ${JSON.stringify((m as { type?: unknown } | null)?.type ?? null)}` });
    return;
  }
  if (m.type === 'tensors') {
    sets.clear();
    sets.set(m.id, { keys: m.keys, values: m.values });
    prefetch = null;
    return;
  }
  if (m.type === 'prefetch') prefetch = m.items.length ? { id: m.id, items: [...m.items] } : null;
  else run = m;
  schedule();
};
