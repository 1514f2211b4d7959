import { describe, expect, it } from 'vitest';
import { clampToModel, explorerCodec } from '../../../../src/widgets/kv-explorer/state';

const parse = (q: string, prefix = '') => explorerCodec.parse(new URLSearchParams(q), prefix);

describe('explorerCodec', () => {
  it('declares exactly its parameters', () => {
    expect(explorerCodec.names).toEqual(['model', 'prompt', 'layer', 'head', 'controls', 'theme']);
    expect(explorerCodec.defaults).toMatchObject({ model: 'kvlab-16m', prompt: '', layer: 4, head: 0, controls: [], theme: 'auto' });
  });

  describe.each([
    ['defaults', {}],
    ['layer and head', { layer: 7, head: 1 }],
    ['a prompt with markup and unicode', { prompt: '<b>I like rock</b> & ümlauts 🎸' }],
    ['controls subset', { controls: ['layer', 'head'] }],
    ['dark theme', { theme: 'dark' as const }],
    ['another model', { model: 'smollm2-135m' }],
  ])('round trip: %s', (_name, patch) => {
    it.each(['', 'x1.'])('prefix %j', (prefix) => {
      const state = { ...explorerCodec.defaults, ...patch };
      const q = explorerCodec.serialize(state, prefix);
      const back = explorerCodec.parse(q, prefix);
      expect(back.notes).toEqual([]);
      expect(back.state).toEqual(state);
    });
  });

  it('serializes defaults to an empty query', () => {
    expect(explorerCodec.serialize(explorerCodec.defaults).toString()).toBe('');
  });

  describe.each([
    ['layer=-1', 'layer', 4],
    ['layer=abc', 'layer', 4],
    ['layer=64', 'layer', 4],
    ['head=1.5', 'head', 0],
    ['model=gpt-9', 'model', 'kvlab-16m'],
    ['theme=blue', 'theme', 'auto'],
  ])('invalid %s', (q, key, fallback) => {
    it('falls back with a note, never throws', () => {
      const r = parse(q);
      expect((r.state as Record<string, unknown>)[key]).toEqual(fallback);
      expect(r.notes).toHaveLength(1);
      expect(r.notes[0]).toContain(`${key}=`);
    });
  });

  it('drops unknown controls with a note', () => {
    const r = parse('controls=layer,bits');
    expect(r.state.controls).toEqual(['layer']);
    expect(r.notes[0]).toContain('"bits"');
  });
});

describe.each([
  [
    { layer: 4, head: 0 },
    { layer: 4, head: 0, notes: 0 },
  ],
  [
    { layer: 7, head: 1 },
    { layer: 7, head: 1, notes: 0 },
  ],
  [
    { layer: 12, head: 0 },
    { layer: 7, head: 0, notes: 1 },
  ],
  [
    { layer: 63, head: 5 },
    { layer: 7, head: 1, notes: 2 },
  ],
])('clampToModel(%o) on 8 layers × 2 KV heads', (input, want) => {
  it(`gives layer ${want.layer}, head ${want.head}`, () => {
    const r = clampToModel(input, { layers: 8, kvHeads: 2 });
    expect([r.layer, r.head, r.notes.length]).toEqual([want.layer, want.head, want.notes]);
  });
});
