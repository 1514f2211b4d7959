import { describe, expect, it } from 'vitest';
import { generationCodec } from '../../../../src/widgets/generation/state';

const q = (s: string) => new URLSearchParams(s);

describe.each([
  ['', { prompt: 'I like rock music because', bits: 4, group: 64, residual: 128, strategy: 'greedy', penalty: 1.3, maxnew: 48 }],
  ['prompt=Once%20upon&bits=2&residual=0', { prompt: 'Once upon', bits: 2, residual: 0 }],
  ['strategy=sample&seed=42&temperature=0.7', { strategy: 'sample', seed: 42, temperature: 0.7 }],
  ['penalty=1&maxnew=256&kaxis=channel', { penalty: 1, maxnew: 256, kaxis: 'channel' }],
  ['method=hqq&vaxis=channel&group=32', { method: 'hqq', vaxis: 'channel', group: 32 }],
])('generation codec round trip: %s', (query, expected) => {
  it('parses without notes and round-trips', () => {
    const { state, notes } = generationCodec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    expect(generationCodec.parse(generationCodec.serialize(state)).state).toEqual(state);
  });
});

describe.each([
  ['maxnew=4', 'maxnew', 48],
  ['maxnew=1000', 'maxnew', 48],
  ['penalty=1.25', 'penalty', 1.3],
  ['strategy=beam', 'strategy', 'greedy'],
  ['temperature=0', 'temperature', 0.8],
  ['seed=-1', 'seed', 0],
  ['residual=abc', 'residual', 128],
  ['bits=16', 'bits', 4],
])('generation codec invalid input: %s', (query, key, fallback) => {
  it('falls back to the default with one note', () => {
    const { state, notes } = generationCodec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toBe(fallback);
    expect(notes).toHaveLength(1);
  });
});

describe('generation codec: hostile prompt text stays text', () => {
  it('keeps markup as a plain string, and cuts overlong prompts with a note', () => {
    const { state } = generationCodec.parse(q('prompt=%3Cimg%20src%3Dx%3E'));
    expect(state.prompt).toBe('<img src=x>');
    const long = generationCodec.parse(q(`prompt=${'a'.repeat(4100)}`));
    expect(long.state.prompt).toHaveLength(4000);
    expect(long.notes).toHaveLength(1);
  });
});
