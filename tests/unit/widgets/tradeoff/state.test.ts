import { describe, expect, it } from 'vitest';
import { tradeoffCodec } from '../../../../src/widgets/tradeoff/state';

const src = (o: Record<string, string>) => ({ get: (n: string) => (n in o ? o[n] : null) });

describe.each([
  [{}, tradeoffCodec.defaults],
  [
    { tensor: 'v', metric: 'attention' },
    { ...tradeoffCodec.defaults, tensor: 'v', metric: 'attention' },
  ],
  [
    { bits: '2', group: '32', kaxis: 'channel', vaxis: 'token', method: 'hqq' },
    { ...tradeoffCodec.defaults, bits: 2, group: 32, kaxis: 'channel', method: 'hqq' },
  ],
  [
    { prompt: 'Once upon a time <b>x</b>', controls: 'bits,group' },
    { ...tradeoffCodec.defaults, prompt: 'Once upon a time <b>x</b>', controls: ['bits', 'group'] },
  ],
])('round trip %j', (params, expected) => {
  it('parses without notes and serializes back', () => {
    const { state, notes } = tradeoffCodec.parse(src(params));
    expect(notes).toEqual([]);
    expect(state).toEqual(expected);
    expect(tradeoffCodec.parse(tradeoffCodec.serialize(state)).state).toEqual(state);
  });
});

describe.each([
  ['tensor', 'q', 'k'],
  ['metric', 'perplexity', 'tensor'],
  ['bits', '16', 4],
  ['group', '0', 64],
  ['kaxis', 'row', 'token'],
  ['vaxis', '', 'token'],
  ['method', 'gptq', 'minmax'],
  ['model', 'gpt-9', 'kvlab-16m'],
])('invalid %s=%s', (name, raw, fallback) => {
  it('falls back to the default with a note', () => {
    const { state, notes } = tradeoffCodec.parse(src({ [name]: raw }));
    expect((state as Record<string, unknown>)[name]).toEqual(fallback);
    expect(notes).toHaveLength(1);
  });
});

it('a too long prompt is cut with a note', () => {
  const { state, notes } = tradeoffCodec.parse(src({ prompt: 'x'.repeat(5000) }));
  expect(state.prompt).toHaveLength(4000);
  expect(notes[0]).toContain('prompt');
});
