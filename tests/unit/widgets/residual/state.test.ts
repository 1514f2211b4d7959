import { describe, expect, it } from 'vitest';
import { residualCodec } from '../../../../src/widgets/residual/state';

const src = (o: Record<string, string>) => ({ get: (n: string) => (n in o ? o[n] : null) });

describe.each([
  [{}, residualCodec.defaults],
  [
    { prefill: '64', residual: '0', step: '7', scheme: 'kivi' },
    { ...residualCodec.defaults, prefill: 64, residual: 0, step: 7, scheme: 'kivi' },
  ],
  [
    { model: 'llama-3-8b', bits: '2', group: '32' },
    { ...residualCodec.defaults, model: 'llama-3-8b', bits: 2, group: 32 },
  ],
  [
    { step: '4096', residual: '1024', prefill: '8192' },
    { ...residualCodec.defaults, step: 4096, residual: 1024, prefill: 8192 },
  ],
])('round trip %j', (params, expected) => {
  it('parses without notes and serializes back', () => {
    const { state, notes } = residualCodec.parse(src(params));
    expect(notes).toEqual([]);
    expect(state).toEqual(expected);
    const again = residualCodec.parse(residualCodec.serialize(state));
    expect(again.state).toEqual(state);
  });
});

describe.each([
  ['prefill', '0', 512],
  ['prefill', 'abc', 512],
  ['residual', '-1', 128],
  ['residual', '2000', 128],
  ['step', '5000', 200],
  ['step', '1.5', 200],
  ['scheme', 'vllm', 'transformers'],
  ['model', 'custom', 'kvlab-16m'],
  ['bits', '5', 4],
  ['group', '48', 64],
])('invalid %s=%s', (name, raw, fallback) => {
  it('falls back to the default with a note', () => {
    const { state, notes } = residualCodec.parse(src({ [name]: raw }));
    expect((state as Record<string, unknown>)[name]).toEqual(fallback);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`${name}=`);
  });
});

it('serializes only non-default values', () => {
  expect(residualCodec.serialize(residualCodec.defaults).toString()).toBe('');
  expect(residualCodec.serialize({ ...residualCodec.defaults, scheme: 'kivi' }).toString()).toBe('scheme=kivi');
});
