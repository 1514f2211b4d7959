import { describe, expect, it } from 'vitest';
import { attentionCodec } from '../../../../src/widgets/attention/state';

const q = (s: string) => new URLSearchParams(s);

describe.each([
  ['layer=5&head=3&query=10', { layer: 5, head: 3, query: 10 }],
  ['bits=4&group=64&kaxis=channel&vaxis=token&method=hqq', { bits: 4, group: 64, kaxis: 'channel', vaxis: 'token', method: 'hqq' }],
  ['prompt=Hello%20there', { prompt: 'Hello there' }],
  ['query=-1&controls=bits,group&theme=dark', { query: -1, controls: ['bits', 'group'], theme: 'dark' }],
  ['', { layer: 2, head: 0, query: -1, bits: 2, group: 32, kaxis: 'token', vaxis: 'token', method: 'minmax' }],
])('attention codec round trip: %s', (query, expected) => {
  it('parses without notes and round-trips', () => {
    const { state, notes } = attentionCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(attentionCodec.parse(attentionCodec.serialize(state)).state).toEqual(state);
  });
});

describe.each([
  ['bits=5', 'bits', 2],
  ['group=48', 'group', 32],
  ['kaxis=rows', 'kaxis', 'token'],
  ['method=gptq', 'method', 'minmax'],
  ['query=-7', 'query', -1],
  ['query=1.5', 'query', -1],
  ['layer=99', 'layer', 2],
  ['head=x', 'head', 0],
])('attention codec invalid input: %s', (query, key, fallback) => {
  it('falls back to the default with one note', () => {
    const { state, notes } = attentionCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toBe(fallback);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`${key}=`);
  });
});

describe('attention codec, scoped prefix and controls', () => {
  it('reads parameters prefixed by the element id', () => {
    const { state } = attentionCodec.parse(q('a1.bits=8&bits=1'), 'a1.');
    expect(state.bits).toBe(8);
    expect(attentionCodec.serialize(state, 'a1.').toString()).toBe('a1.bits=8');
  });
  it('drops unknown control names with a note', () => {
    const { state, notes } = attentionCodec.parse(q('controls=bits,tokens'));
    expect(state.controls).toEqual(['bits']);
    expect(notes[0]).toContain('"tokens"');
  });
});
