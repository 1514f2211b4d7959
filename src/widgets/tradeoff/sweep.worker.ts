/**
 * Module worker for <kv-tradeoff>: runs (its share of) the sweep off the main thread and streams points
 * back in batches (fast methods first, HQQ last). Imports only src/lib/quant (via sweep.ts).
 * The page starts one worker per core (up to 4): worker `part` of `parts` takes configurations
 * part, part + parts, … so every worker runs its fast ones first. It says `fastDone` when those are done.
 * Cancellation: the page terminates its workers when the prompt changes.
 */
import {
  formatConfigs,
  makeEvaluator,
  makeFormatEvaluator,
  sweepConfigs,
  type FormatPoint,
  type SweepInput,
  type SweepPoint,
} from './sweep';
import { isSweepRequest, type SweepResponse } from './protocol';

const post = (m: SweepResponse) => (self as unknown as Worker).postMessage(m);

self.onmessage = (e: MessageEvent<unknown>) => {
  const req = e.data;
  if (!isSweepRequest(req)) {
    // Never drop a message silently: answer with an error the page can show.
    const id = typeof (req as { id?: unknown } | null)?.id === 'number' ? (req as { id: number }).id : -1;
    post({ type: 'error', id, message: 'unknown request' });
    return;
  }
  try {
    const input: SweepInput = req.attention ? req.input : { ...req.input, queries: null };
    const evaluate = makeEvaluator(input);
    const parts = Math.max(1, req.parts ?? 1);
    const configs = sweepConfigs().filter((_, i) => i % parts === (req.part ?? 0));
    let batch: SweepPoint[] = [];
    let lastPost = performance.now();
    const t0 = performance.now();
    let fastMs = 0;
    // The engine formats (one worker does them: 40 fast quantizations), between the fast methods and HQQ.
    const postFormats = () => {
      if ((req.part ?? 0) !== 0) return;
      const evaluateFormat = makeFormatEvaluator(input);
      const points: FormatPoint[] = [];
      for (const c of formatConfigs()) {
        try {
          points.push(evaluateFormat(c));
        } catch (err) {
          // a head size that is not a multiple of the block size (32, or 16 for NVFP4): the format cannot store it
          if (!(err instanceof RangeError)) throw err;
        }
      }
      post({ type: 'formats', id: req.id, points });
    };
    for (let i = 0; i < configs.length; i++) {
      const c = configs[i];
      if (c.method === 'hqq' && fastMs === 0) {
        fastMs = performance.now() - t0;
        if (batch.length) post({ type: 'points', id: req.id, points: batch, done: i, total: configs.length, phase: 'fast' });
        post({ type: 'fastDone', id: req.id });
        batch = [];
        postFormats();
        lastPost = performance.now();
      }
      try {
        batch.push(evaluate(c));
      } catch (err) {
        // A configuration this shape cannot take (e.g. a token-axis group that does not divide the element count): skipped.
        if (!(err instanceof RangeError)) throw err;
      }
      if (performance.now() - lastPost > 100 || i === configs.length - 1) {
        post({ type: 'points', id: req.id, points: batch, done: i + 1, total: configs.length, phase: c.method === 'hqq' ? 'hqq' : 'fast' });
        batch = [];
        lastPost = performance.now();
      }
    }
    const total = performance.now() - t0;
    if (fastMs === 0) {
      fastMs = total;
      post({ type: 'fastDone', id: req.id });
      postFormats();
    }
    post({ type: 'done', id: req.id, fastMs, hqqMs: total - fastMs, total });
  } catch (err) {
    post({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) });
  }
};
