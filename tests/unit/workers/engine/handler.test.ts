import { describe, expect, it } from 'vitest';
import { createModelHandler } from '../../../../src/workers/engine/handler';
import type { ModelRequest, ModelResponse } from '../../../../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import type { LoadOptions, ModelRunner } from '../../../../src/workers/engine/runner';
import { createToyRunner } from './toy-runner';

function setup(load: (o: LoadOptions) => Promise<ModelRunner> = async () => createToyRunner()) {
  const sent: { msg: ModelResponse; transfer: ArrayBuffer[] }[] = [];
  const handler = createModelHandler({ post: (msg, transfer) => sent.push({ msg, transfer }), load, quantize });
  const of = (id: string) => sent.filter((s) => s.msg.id === id).map((s) => s.msg);
  const terminal = (id: string) => of(id).filter((m) => m.type === 'result' || m.type === 'error' || m.type === 'cancelled');
  return { handler, sent, of, terminal };
}

const q4 = { bits: 4, groupSize: 8, axis: 'token', method: 'minmax' } as const;
const requests: ModelRequest[] = [
  { type: 'load', id: 'l', model: 'kvlab-16m' },
  { type: 'prefill', id: 'p', prompt: 'hello world' },
  { type: 'generate', id: 'g', prompt: 'hello', key: q4, value: q4, residualLength: 2, maxNewTokens: 3 },
  {
    type: 'score',
    id: 's',
    text: 'hello world',
    configs: [{ kind: 'exact' }, { kind: 'quantized', key: q4, value: q4, residualLength: 4 }],
  },
  { type: 'cancel', id: 'c', target: 'nothing' },
];

describe('model worker handler', () => {
  it.each(requests.map((r) => [r.type, r] as const))('answers %s with exactly one result', async (_, req) => {
    const { handler, terminal } = setup();
    await handler.handle(req);
    const t = terminal(req.id);
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ type: 'result', result: { kind: req.type } });
  });

  it('sends ready with the model info on first load, progress and token events', async () => {
    const { handler, of } = setup();
    await handler.handle(requests[2]);
    const types = of('g').map((m) => m.type);
    expect(types[0]).toBe('ready');
    expect(types.filter((t) => t === 'token')).toHaveLength(3);
    expect(types).toContain('progress');
    expect(types.at(-1)).toBe('result');
  });

  it('transfers the tensors of a prefill result', async () => {
    const { handler, sent } = setup();
    await handler.handle(requests[1]);
    const res = sent.find((s) => s.msg.type === 'result')!;
    expect(res.transfer.length).toBeGreaterThan(0);
  });

  it.each([
    ['empty prompt', { type: 'prefill', id: 'e', prompt: '' }, 'empty-input'],
    ['unknown type', { type: 'explode', id: 'e' }, 'invalid-request'],
    ['unknown model', { type: 'prefill', id: 'e', prompt: 'x', model: 'gpt-9' }, 'invalid-request'],
    ['hub model without consent', { type: 'prefill', id: 'e', prompt: 'x', model: 'smollm2-135m' }, 'remote-disabled'],
    [
      'bad generate options',
      { type: 'generate', id: 'e', prompt: 'x', key: q4, value: q4, residualLength: 0, maxNewTokens: 9999 },
      'invalid-request',
    ],
  ])('answers %s with an error a reader understands', async (_, req, code) => {
    const { handler, terminal } = setup();
    await handler.handle(req);
    const t = terminal('e');
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ type: 'error', code });
    const err = t[0] as Extract<ModelResponse, { type: 'error' }>;
    expect(err.message.length).toBeGreaterThan(10);
    expect(err.action.length).toBeGreaterThan(5);
  });

  it('answers a message without an id with an error (id "")', async () => {
    const { handler, sent } = setup();
    await handler.handle({ type: 'prefill' });
    await handler.handle(null);
    expect(sent.map((s) => s.msg)).toMatchObject([
      { type: 'error', id: '' },
      { type: 'error', id: '' },
    ]);
  });

  it('reports a missing model file and stays usable afterwards', async () => {
    let fail = true;
    const { handler, terminal } = setup(async () => {
      if (fail) throw new Error('Could not locate file: "models/kvlab-16m/onnx/model.onnx".');
      return createToyRunner();
    });
    await handler.handle({ type: 'load', id: 'a', model: 'kvlab-16m' });
    expect(terminal('a')[0]).toMatchObject({ type: 'error', code: 'model-missing' });
    fail = false;
    await handler.handle({ type: 'prefill', id: 'b', prompt: 'hi' });
    expect(terminal('b')[0]).toMatchObject({ type: 'result' });
  });

  it('reports a corrupt model as a load failure', async () => {
    const { handler, terminal } = setup(async () => {
      throw new Error('Load model from buffer failed: protobuf parsing failed.');
    });
    await handler.handle({ type: 'load', id: 'a', model: 'kvlab-16m' });
    expect(terminal('a')[0]).toMatchObject({ type: 'error', code: 'model-load-failed' });
  });

  it('cancels a running job: the job answers cancelled, the cancel request a result', async () => {
    const { handler, terminal } = setup();
    const long = { type: 'generate', id: 'g', prompt: 'hello', key: q4, value: q4, residualLength: 2, maxNewTokens: 60 } as const;
    const running = handler.handle(long);
    await new Promise((r) => setTimeout(r, 5));
    expect(handler.pending()).toContain('g');
    await handler.handle({ type: 'cancel', id: 'c', target: 'g' });
    await running;
    expect(terminal('g')).toEqual([{ type: 'cancelled', id: 'g' }]);
    expect(terminal('c')[0]).toMatchObject({ type: 'result', result: { kind: 'cancel', target: 'g', wasRunning: true } });
    expect(handler.pending()).toEqual([]);
  });

  it('cancels a queued job before it starts', async () => {
    const { handler, terminal } = setup();
    const a = handler.handle({ type: 'score', id: 'a', text: 'hello world hello world', configs: [{ kind: 'exact' }] });
    const b = handler.handle({ type: 'prefill', id: 'b', prompt: 'hi' });
    await handler.handle({ type: 'cancel', id: 'c', target: 'b' });
    await Promise.all([a, b]);
    expect(terminal('a')[0].type).toBe('result');
    expect(terminal('b')).toEqual([{ type: 'cancelled', id: 'b' }]);
  });
});
