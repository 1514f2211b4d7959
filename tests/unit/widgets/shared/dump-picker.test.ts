import { describe, expect, it } from 'vitest';
import { dumpLine } from '../../../../src/widgets/shared/tensor-picker';
import type { DumpSummary } from '../../../../src/widgets/shared/dump-source';

const summary = (o: Partial<DumpSummary>): DumpSummary => ({
  name: 'x.kvlab.safetensors',
  bytes: 1,
  model: 'm',
  revision: null,
  modelType: 'gemma2',
  numHiddenLayers: 4,
  heads: 8,
  kvHeads: 4,
  headDim: 256,
  dtype: 'bfloat16',
  sourceDtype: 'bfloat16',
  tokens: 100,
  queries: 8,
  queriesFrom: 92,
  layers: [],
  ...o,
});

describe('dumpLine (the picker line about an opened dump)', () => {
  it('all layers, sliding windows from the metadata', () => {
    const layers = [0, 1, 2, 3].map((index) => ({
      index,
      attention: index % 2 === 0 ? ('sliding' as const) : ('full' as const),
      window: index % 2 === 0 ? 4096 : null,
      bytes: 0,
    }));
    expect(dumpLine(summary({ layers }))).toBe(
      'Dump of m: 100 tokens, all 4 layers, 8 query heads, 4 KV heads, head_dim 256, bfloat16; 2 sliding-window layers (4096 tokens); queries of the last 8 positions.',
    );
  });
  it('a subset of layers names them', () => {
    const layers = [0, 14, 15].map((index) => ({ index, attention: 'full' as const, window: null, bytes: 0 }));
    expect(dumpLine(summary({ numHiddenLayers: 28, layers }))).toContain('layers 0, 14, 15 of 28');
    const run = [4, 5, 6].map((index) => ({ index, attention: 'full' as const, window: null, bytes: 0 }));
    expect(dumpLine(summary({ numHiddenLayers: 28, layers: run }))).toContain('layers 4–6 of 28');
  });
});
