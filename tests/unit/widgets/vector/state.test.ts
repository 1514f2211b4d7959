import { describe, expect, it } from 'vitest';
import { vectorCodec } from '../../../../src/widgets/vector/state';

const q = (s: string) => new URLSearchParams(s);

describe.each([
  ['bits=4&group=16&method=hqq', { bits: 4, group: 16, method: 'hqq' }],
  ['tensor=v&layer=2&head=1&token=17', { tensor: 'v', layer: 2, head: 1, token: 17 }],
  ['group=8&bits=1&method=minmax', { group: 8, bits: 1, method: 'minmax' }],
  ['controls=bits,group&theme=dark', { controls: ['bits', 'group'], theme: 'dark' }],
])('vector codec round-trip %s', (query, expected) => {
  it('parses without notes and serializes back to the same state', () => {
    const { state, notes } = vectorCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(vectorCodec.parse(vectorCodec.serialize(state)).state).toEqual(state);
  });
});

describe.each([
  ['group=128', 'group', 32],
  ['group=abc', 'group', 32],
  ['bits=5', 'bits', 2],
  ['method=lloyd', 'method', 'minmax'],
  ['tensor=q', 'tensor', 'k'],
  ['token=-1', 'token', 0],
  ['layer=99', 'layer', 4],
])('vector codec invalid %s', (query, key, fallback) => {
  it('falls back to the default with one note', () => {
    const { state, notes } = vectorCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toEqual(fallback);
    expect(notes).toHaveLength(1);
  });
});

describe('vector codec defaults', () => {
  it('serializes the defaults to an empty query and uses a scoped prefix', () => {
    expect(vectorCodec.serialize(vectorCodec.defaults).toString()).toBe('');
    const { state } = vectorCodec.parse(q('v1.bits=8&bits=1'), 'v1.');
    expect(state.bits).toBe(8);
  });
});
