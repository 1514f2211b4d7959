import { describe, expect, it } from 'vitest';
import { perplexityCodec } from '../../../../src/widgets/perplexity/state';

const q = (s: string) => new URLSearchParams(s);
const DEFAULTS = ['fp32', 'quanto-int4', 'quanto-int2', 'hqq-int4', 'hqq-int2', 'hqq-int2-axis1', 'kivi-int2'];

describe.each([
  ['', { configs: DEFAULTS, residual: 128, prompt: '' }],
  ['configs=fp32,quanto-int8,quanto-int2', { configs: ['fp32', 'quanto-int8', 'quanto-int2'] }],
  ['residual=0&configs=kivi-int4', { residual: 0, configs: ['kivi-int4'] }],
  ['prompt=Some%20text&residual=32', { prompt: 'Some text', residual: 32 }],
])('perplexity codec round trip: %s', (query, expected) => {
  it('parses without notes and round-trips', () => {
    const { state, notes } = perplexityCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(perplexityCodec.parse(perplexityCodec.serialize(state)).state).toEqual(state);
  });
});

describe.each([
  ['configs=fp32,int3', ['fp32'], 1],
  ['configs=nonsense', DEFAULTS, 2],
  ['configs=', DEFAULTS, 1],
  ['configs=fp32,fp32,hqq-int2', ['fp32', 'hqq-int2'], 0],
])('perplexity codec configs: %s', (query, configs, noteCount) => {
  it('keeps the known presets, notes the rest', () => {
    const { state, notes } = perplexityCodec.parse(q(query));
    expect(state.configs).toEqual(configs);
    expect(notes).toHaveLength(noteCount);
  });
});

describe.each([
  ['residual=-1', 'residual', 128],
  ['residual=2000', 'residual', 128],
  ['theme=neon', 'theme', 'auto'],
])('perplexity codec invalid input: %s', (query, key, fallback) => {
  it('falls back with a note', () => {
    const { state, notes } = perplexityCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toBe(fallback);
    expect(notes).toHaveLength(1);
  });
});
