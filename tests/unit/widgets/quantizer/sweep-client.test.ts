import { describe, expect, it, vi } from 'vitest';
import { SweepClient, type SweepClientEvents } from '../../../../src/widgets/quantizer/sweep-client';
import { isSweepRequest, type SweepRequest, type SweepResponse } from '../../../../src/widgets/quantizer/protocol';
import { isSweepRequest as isTradeoffRequest } from '../../../../src/widgets/tradeoff/protocol';

/** A stand-in Worker: records what the client posts, lets the test answer. */
class FakeWorker {
  sent: SweepRequest[] = [];
  onmessage: ((e: MessageEvent<SweepResponse>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  terminated = false;
  postMessage(m: SweepRequest) {
    this.sent.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  answer(m: SweepResponse) {
    this.onmessage?.({ data: m } as MessageEvent<SweepResponse>);
  }
}

const tensors = { keys: [], values: [] };
const cfg = { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' } as const;

function setup() {
  const w = new FakeWorker();
  const events: SweepClientEvents = { quantized: vi.fn(), progress: vi.fn(), result: vi.fn(), error: vi.fn(), lost: vi.fn() };
  const client = new SweepClient(events, () => w as unknown as Worker); // the fake implements the part of Worker the client uses
  return { w, events, client };
}

describe('SweepClient', () => {
  it('sends a prompt’s tensors once, then runs and prefetches against them', () => {
    const { w, client } = setup();
    expect(client.run('1', tensors, 1, cfg, cfg)).toBe(true);
    expect(client.run('1', tensors, 2, cfg, null)).toBe(true);
    client.prefetch('1', tensors, [{ key: 'k', layer: 0, kind: 'k', cfg }]);
    client.run('2', tensors, 3, null, null);
    expect(w.sent.map((m) => m.type)).toEqual(['tensors', 'run', 'run', 'prefetch', 'tensors', 'run']);
  });
  it('an empty prefetch list is sent only to cancel one in progress', () => {
    const { w, client } = setup();
    client.prefetch('1', tensors, []);
    expect(w.sent).toEqual([]);
    client.prefetch('1', tensors, [{ key: 'k', layer: 0, kind: 'v', cfg }]);
    client.prefetch('1', tensors, []);
    client.prefetch('1', tensors, []);
    expect(w.sent.map((m) => m.type)).toEqual(['tensors', 'prefetch', 'prefetch']);
  });
  it('hands every answer type to its callback', () => {
    const { w, events, client } = setup();
    client.run('1', tensors, 1, cfg, cfg);
    const dq = new Float32Array(2);
    w.answer({ type: 'quantized', id: '1', key: 'k', dequantized: dq, used: cfg });
    w.answer({ type: 'progress', seq: 1, done: 1, total: 16 });
    w.answer({ type: 'error', seq: 1, message: 'boom' });
    expect(events.quantized).toHaveBeenCalledWith('1', 'k', { dequantized: dq, used: cfg, error: undefined });
    expect(events.progress).toHaveBeenCalledWith(1, 1, 16);
    expect(events.error).toHaveBeenCalledWith(1, 'boom');
  });
  it('reports a worker that fails, then runs nothing more on it', () => {
    const { w, events, client } = setup();
    client.run('1', tensors, 1, cfg, cfg);
    w.onerror?.({ preventDefault() {} } as ErrorEvent);
    expect(events.lost).toHaveBeenCalledOnce();
    expect(client.available).toBe(false);
    expect(client.run('1', tensors, 2, cfg, cfg)).toBe(false);
  });
  it('without Worker support it is unavailable', () => {
    const client = new SweepClient({ quantized() {}, progress() {}, result() {}, error() {}, lost() {} }, () => {
      throw new Error('Worker is not defined');
    });
    expect(client.available).toBe(false);
  });
});

describe('worker protocols recognise their requests', () => {
  it.each([
    [{ type: 'tensors', id: '1', keys: [], values: [] }, true],
    [{ type: 'run', seq: 1, id: '1', kcfg: null, vcfg: null }, true],
    [{ type: 'prefetch', id: '1', items: [] }, true],
    [{ type: 'sweep' }, false],
    [null, false],
    ['run', false],
  ])('quantizer %j → %s', (m, ok) => expect(isSweepRequest(m)).toBe(ok));
  it.each([
    [{ type: 'sweep', id: 1, part: 0, parts: 2, input: {}, attention: false }, true],
    [{ type: 'sweep', id: '1', part: 0, parts: 2, input: {} }, false],
    [{ type: 'run', id: 1 }, false],
    [undefined, false],
  ])('tradeoff %j → %s', (m, ok) => expect(isTradeoffRequest(m)).toBe(ok));
});
