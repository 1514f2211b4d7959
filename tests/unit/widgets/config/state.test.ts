import { describe, expect, it } from 'vitest';
import { configCodec } from '../../../../src/widgets/config/state';

const q = (s: string) => new URLSearchParams(s);

describe.each([
  ['backend=hqq&bits=3', { backend: 'hqq', bits: 3 }],
  ['kaxis=channel&vaxis=token&group=32&residual=128', { kaxis: 'channel', vaxis: 'token', group: 32, residual: 128 }],
  ['model=mistral-7b&tokens=32768', { model: 'mistral-7b', tokens: 32768 }],
  ['residual=0', { residual: 0 }],
])('config codec round-trip %s', (query, expected) => {
  it('parses without notes and serializes back', () => {
    const { state, notes } = configCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(configCodec.parse(configCodec.serialize(state)).state).toEqual(state);
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
])('config codec invalid %s', (query, key, fallback) => {
  it('falls back with one note', () => {
    const { state, notes } = configCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toEqual(fallback);
    expect(notes).toHaveLength(1);
  });
});
