import { describe, expect, it } from 'vitest';
import { createModelClient, type WorkerLike } from '../../../../src/lib/model/client';
import { createModelHandler } from '../../../../src/workers/engine/handler';
import type { ModelRequest, ModelResponse } from '../../../../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { createToyRunner } from '../../workers/engine/toy-runner';

/** A worker stand-in that runs the real handler in-process. */
function fakeWorker(): WorkerLike & { posted: ModelRequest[] } {
  const listeners: Record<string, ((e: never) => void)[]> = { message: [], error: [], messageerror: [] };
  const handler = createModelHandler({
    post: (msg: ModelResponse) => queueMicrotask(() => listeners.message.forEach((fn) => fn({ data: msg } as never))),
    load: async () => createToyRunner(),
    quantize,
  });
  const posted: ModelRequest[] = [];
  return {
    posted,
    postMessage: (msg) => {
      posted.push(msg);
      void handler.handle(structuredClone(msg));
    },
    addEventListener: (type: string, fn: (e: never) => void) => listeners[type].push(fn),
    terminate: () => undefined,
  };
}

const q4 = { bits: 4, groupSize: 8, axis: 'token', method: 'minmax' } as const;

describe('model client', () => {
  it('resolves results and forwards progress and token events', async () => {
    const client = createModelClient(fakeWorker);
    const tokens: string[] = [];
    const job = client.request(
      { type: 'generate', prompt: 'abc', key: q4, value: q4, residualLength: 2, maxNewTokens: 4 },
      { onToken: (t) => tokens.push(t.exact.text) },
    );
    const r = await job.promise;
    expect(r.kind).toBe('generate');
    expect(tokens).toHaveLength(4);
    const p = await client.request({ type: 'prefill', prompt: 'hello' }).promise;
    expect(p.keys[0].tokens).toBe(5);
  });

  it('rejects with the reader-facing message and action', async () => {
    const client = createModelClient(fakeWorker);
    await expect(client.request({ type: 'prefill', prompt: '' }).promise).rejects.toMatchObject({
      name: 'ModelClientError',
      code: 'empty-input',
      message: expect.stringContaining('empty'),
    });
  });

  it('keeps one job per kind: a new request cancels the previous one', async () => {
    const client = createModelClient(fakeWorker);
    const body = { type: 'generate', prompt: 'abc', key: q4, value: q4, residualLength: 2, maxNewTokens: 40 } as const;
    const first = client.request(body);
    const second = client.request(body);
    await expect(first.promise).rejects.toMatchObject({ code: 'cancelled' });
    await expect(second.promise).resolves.toMatchObject({ kind: 'generate' });
  });

  it('cancel() rejects the job with code cancelled', async () => {
    const client = createModelClient(fakeWorker);
    const job = client.request({ type: 'score', text: 'hello world '.repeat(4), configs: [{ kind: 'exact' }] });
    job.cancel();
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('turns a worker that cannot start into a clear error', async () => {
    const client = createModelClient(() => {
      throw new Error('SecurityError: sandboxed');
    });
    await expect(client.request({ type: 'prefill', prompt: 'x' }).promise).rejects.toMatchObject({ code: 'worker-unavailable' });
  });

  it('rejects pending jobs when the worker fails', async () => {
    let fire: ((e: Event) => void) | null = null;
    const client = createModelClient(() => ({
      postMessage: () => undefined,
      addEventListener: (type: string, fn: (e: never) => void) => {
        if (type === 'error') fire = fn as (e: Event) => void;
      },
      terminate: () => undefined,
    }));
    const job = client.request({ type: 'prefill', prompt: 'x' });
    fire!({ message: 'failed to fetch worker script' } as unknown as Event);
    await expect(job.promise).rejects.toMatchObject({ code: 'worker-unavailable', message: expect.stringContaining('failed to fetch') });
  });
});

describe('model client after a failed load', () => {
  it('starts a fresh worker for the next request (ONNX Runtime state does not survive in the old one)', async () => {
    let made = 0;
    const terminated: number[] = [];
    const create = (): WorkerLike => {
      const n = ++made;
      const listeners: ((e: never) => void)[] = [];
      const handler = createModelHandler({
        post: (msg: ModelResponse) => queueMicrotask(() => listeners.forEach((fn) => fn({ data: msg } as never))),
        // The first worker's load fails as a damaged runtime file would; the second one loads.
        load: async () => {
          if (n === 1) throw new Error('Aborted(CompileError: WebAssembly.Module(): section was shorter than expected size)');
          return createToyRunner();
        },
        quantize,
      });
      return {
        postMessage: (msg) => void handler.handle(structuredClone(msg)),
        addEventListener: (type: string, fn: (e: never) => void) => void (type === 'message' && listeners.push(fn)),
        terminate: () => void terminated.push(n),
      };
    };
    const client = createModelClient(create);
    await expect(client.request({ type: 'prefill', prompt: 'hello' }).promise).rejects.toMatchObject({ code: 'model-load-failed' });
    const r = await client.request({ type: 'prefill', prompt: 'hello' }).promise;
    expect(r.kind).toBe('prefill');
    expect(made).toBe(2);
    expect(terminated).toEqual([1]);
  });
});
