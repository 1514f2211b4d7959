import { describe, expect, it } from 'vitest';
import { configCodec } from '../../../../src/widgets/config/state';

const q = (s: string) => new URLSearchParams(s);

describe.each([
  ['backend=hqq&bits=3', { backend: 'hqq', bits: 3 }],
  ['kaxis=channel&vaxis=token&group=32&residual=128', { kaxis: 'channel', vaxis: 'token', group: 32, residual: 128 }],
  ['model=mistral-7b&tokens=32768', { model: 'mistral-7b', tokens: 32768 }],
  ['residual=0', { residual: 0 }],
  ['backend=hqq&kaxis=strided&vaxis=token', { backend: 'hqq', kaxis: 'strided', vaxis: 'token' }],
  ['kaxis=flat-channel', { kaxis: 'flat-channel' }],
  ['ptokens=5&newtokens=17&form=cache', { ptokens: 5, newtokens: 17, form: 'cache' }],
  ['model=smollm2-135m&backend=hqq&bits=4&ptokens=6', { model: 'smollm2-135m', backend: 'hqq', bits: 4, ptokens: 6 }],
])('config codec round-trip %s', (query, expected) => {
  it('parses without notes and serializes back', () => {
    const { state, notes } = configCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(configCodec.parse(configCodec.serialize(state)).state).toEqual(state);
  });
});

describe('config codec defaults', () => {
  it("start at the post's setting: quanto, 4 bits, per token, G64, R128, Llama-2-7B; a 1000-token prompt, 256 new tokens, generate form", () => {
    expect(configCodec.defaults).toMatchObject({
      backend: 'quanto',
      bits: 4,
      kaxis: 'token',
      vaxis: 'token',
      group: 64,
      residual: 128,
      model: 'llama-2-7b',
      ptokens: 1000,
      newtokens: 256,
      form: 'generate',
    });
    expect(configCodec.serialize(configCodec.defaults).toString()).toBe('');
  });
});

describe.each([
  ['backend=bitsandbytes', 'backend', 'quanto'],
  ['bits=6', 'bits', 4],
  ['model=kvlab-16m', 'model', 'llama-2-7b'],
  ['model=custom', 'model', 'llama-2-7b'],
  ['residual=5000', 'residual', 128],
  ['tokens=0', 'tokens', 10000],
  ['vaxis=<script>', 'vaxis', 'token'],
  ['ptokens=0', 'ptokens', 1000],
  ['newtokens=99999', 'newtokens', 256],
  ['form=html', 'form', 'generate'],
])('config codec invalid %s', (query, key, fallback) => {
  it('falls back with one note', () => {
    const { state, notes } = configCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toEqual(fallback);
    expect(notes).toHaveLength(1);
  });
});
