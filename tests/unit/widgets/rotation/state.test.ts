import { describe, expect, it } from 'vitest';
import { rotationCodec } from '../../../../src/widgets/rotation/state';

const q = (s: string) => new URLSearchParams(s);

describe.each([
  ['bits=4&group=32&kaxis=channel', { bits: 4, group: 32, kaxis: 'channel' }],
  ['layer=1&head=1&method=hqq', { layer: 1, head: 1, method: 'hqq' }],
  ['bits=8&group=128&method=absmax', { bits: 8, group: 128, method: 'absmax' }],
])('rotation codec round-trip %s', (query, expected) => {
  it('parses without notes and serializes back', () => {
    const { state, notes } = rotationCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(rotationCodec.parse(rotationCodec.serialize(state)).state).toEqual(state);
  });
});

describe.each([
  ['bits=16', 'bits', 2],
  ['group=48', 'group', 64],
  ['kaxis=head', 'kaxis', 'token'],
  ['method=NaN', 'method', 'minmax'],
  ['layer=-3', 'layer', 4],
  ['head=x', 'head', 0],
])('rotation codec invalid %s', (query, key, fallback) => {
  it('falls back with one note', () => {
    const { state, notes } = rotationCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toEqual(fallback);
    expect(notes).toHaveLength(1);
  });
});
