import { describe, expect, it } from 'vitest';
import { createModelHandler } from '../../../../src/workers/engine/handler';
import type { ModelResponse } from '../../../../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { CancelledError } from '../../../../src/workers/engine/errors';
import type { LoadOptions, ModelRunner } from '../../../../src/workers/engine/runner';

describe('cancel while the model downloads', () => {
  it('aborts the load signal at once and answers "cancelled", not a load error', async () => {
    const sent: ModelResponse[] = [];
    let loadSignal: AbortSignal | undefined;
    // A load that only ends when its signal aborts (a download that would otherwise run for minutes).
    const load = (o: LoadOptions) =>
      new Promise<ModelRunner>((_, reject) => {
        loadSignal = o.signal;
        o.signal?.addEventListener('abort', () => reject(new CancelledError()));
      });
    const handler = createModelHandler({ post: (msg) => sent.push(msg), load, quantize });
    const job = handler.handle({ type: 'prefill', id: 'p', prompt: 'hello' });
    await Promise.resolve();
    await Promise.resolve();
    expect(loadSignal?.aborted).toBe(false);
    await handler.handle({ type: 'cancel', id: 'c', target: 'p' });
    expect(loadSignal?.aborted).toBe(true);
    await job;
    expect(sent.filter((m) => m.id === 'p').map((m) => m.type)).toEqual(['cancelled']);
    expect(handler.pending()).toEqual([]);
  });
});
