import { describe, expect, it } from 'vitest';
import { memoryCodec } from '../../../../src/widgets/memory/state';

const q = (s: string) => new URLSearchParams(s);

describe('memory codec', () => {
  it.each([
    ['model=llama-2-7b&tokens=10000&bits=16', { model: 'llama-2-7b', tokens: 10000, bits: 16 }],
    ['model=custom&layers=12&kvheads=4&headdim=64', { model: 'custom', layers: 12, kvheads: 4, headdim: 64 }],
    ['batch=8&gpu=24&residual=0', { batch: 8, gpu: 24, residual: 0 }],
  ])('%s round-trips', (query, expected) => {
    const { state, notes } = memoryCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(memoryCodec.parse(memoryCodec.serialize(state)).state).toEqual(state);
  });

  it.each([
    ['model=gpt-9', 'model', 'llama-2-7b'],
    ['bits=16.5', 'bits', 4],
    ['tokens=0', 'tokens', 10000],
    ['tokens=1e9', 'tokens', 10000],
    ['gpu=-80', 'gpu', 80],
    ['batch=100000', 'batch', 1],
  ])('%s falls back with a note', (query, key, fallback) => {
    const { state, notes } = memoryCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toBe(fallback);
    expect(notes.length).toBe(1);
  });
});
