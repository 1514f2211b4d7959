import { describe, expect, it } from 'vitest';
import { defineCodec, PARAMS, quoteForNote } from '../../../../src/widgets/shared/params';

const codec = defineCodec(['bits', 'group', 'kaxis', 'method', 'layer', 'prompt', 'controls', 'theme'] as const, {
  controlNames: ['bits', 'group', 'kaxis'],
});
const q = (s: string) => new URLSearchParams(s);

describe('defineCodec: defaults and round trips', () => {
  it('returns the table defaults with no notes for an empty query', () => {
    const { state, notes } = codec.parse(q(''));
    expect(notes).toEqual([]);
    expect(state).toEqual({
      bits: PARAMS.bits.default,
      group: 64,
      kaxis: 'token',
      method: 'minmax',
      layer: 4,
      prompt: '',
      controls: [],
      theme: 'auto',
    });
  });

  it.each([
    ['bits=2', { bits: 2 }],
    ['bits=8&group=128', { bits: 8, group: 128 }],
    ['kaxis=channel&method=hqq', { kaxis: 'channel', method: 'hqq' }],
    ['layer=0', { layer: 0 }],
    ['prompt=Hello%20world', { prompt: 'Hello world' }],
    ['controls=bits,group', { controls: ['bits', 'group'] }],
    ['theme=dark', { theme: 'dark' }],
  ])('%s parses and serializes back to the same query', (query, expected) => {
    const { state, notes } = codec.parse(q(query));
    expect(notes).toEqual([]);
    expect(state).toMatchObject(expected);
    const again = codec.parse(codec.serialize(state));
    expect(again.state).toEqual(state);
    expect(codec.serialize(state).toString()).toBe(q(query).toString());
  });

  it('omits defaults when serializing', () => {
    expect(codec.serialize(codec.defaults).toString()).toBe('');
  });

  it('reads and writes prefixed (scoped) parameters', () => {
    const { state } = codec.parse(q('q1.bits=2&bits=8'), 'q1.');
    expect(state.bits).toBe(2);
    expect(codec.serialize({ ...state }, 'q1.').toString()).toBe('q1.bits=2');
  });
});

describe('defineCodec: invalid input falls back with a note, never throws', () => {
  it.each([
    ['bits=5', 'bits', 4, 'one of 1, 2, 3, 4, 8'],
    ['bits=', 'bits', 4, 'one of'],
    ['bits=abc', 'bits', 4, 'one of'],
    ['group=0', 'group', 64, 'one of 16, 32, 64, 128'],
    ['kaxis=diagonal', 'kaxis', 'token', 'one of token, channel'],
    ['layer=-1', 'layer', 4, 'from 0 to 63'],
    ['layer=99999', 'layer', 4, 'from 0 to 63'],
    ['layer=2.5', 'layer', 4, 'whole number'],
    ['theme=neon', 'theme', 'auto', 'one of auto, light, dark'],
  ])('%s → %s = %s', (query, key, fallback, allowedText) => {
    const { state, notes } = codec.parse(q(query));
    expect((state as Record<string, unknown>)[key]).toBe(fallback);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`${key}=`);
    expect(notes[0]).toContain(allowedText);
  });

  it('accepts upper-case enum values', () => {
    expect(codec.parse(q('kaxis=CHANNEL')).state.kaxis).toBe('channel');
  });

  it('cuts an over-long prompt and says so', () => {
    const { state, notes } = codec.parse(q(`prompt=${'a'.repeat(5000)}`));
    expect(state.prompt).toHaveLength(4000);
    expect(notes[0]).toContain('cut');
  });

  it('drops unknown control names with a note', () => {
    const { state, notes } = codec.parse(q('controls=bits,<script>,method'));
    expect(state.controls).toEqual(['bits']);
    expect(notes[0]).toContain('"<script>"');
  });

  it('quotes and shortens untrusted values in notes', () => {
    expect(quoteForNote('x'.repeat(40))).toBe(`"${'x'.repeat(24)}…"`);
  });
});

describe('a widget’s own parameters', () => {
  const codec = defineCodec(['bits', 'seed', 'controls'] as const, {
    own: { seed: { kind: 'int', min: 0, max: 9, default: 3, doc: 'Own seed.' } },
  });
  it('parse, default and serialize like shared ones, and expose their spec', () => {
    expect(codec.defaults).toEqual({ bits: PARAMS.bits.default, seed: 3, controls: [] });
    const { state, notes } = codec.parse(new URLSearchParams('seed=12'));
    expect(state.seed).toBe(3);
    expect(notes[0]).toMatch(/seed="12" is not valid \(a whole number from 0 to 9\)/);
    expect(codec.serialize({ ...codec.defaults, seed: 7 }).toString()).toBe('seed=7');
    expect(codec.specs.seed.doc).toBe('Own seed.');
    expect(codec.specs.bits).toBe(PARAMS.bits);
  });
  it('may not repeat a shared name', () => {
    expect(() => defineCodec(['bits'] as const, { own: { bits: { kind: 'int', min: 0, max: 1, default: 0, doc: '' } } })).toThrow(
      /repeats a shared one/,
    );
  });
  it('an unknown name is neither shared nor own', () => {
    // @ts-expect-error -- 'nope' is not a parameter: the type system refuses it too
    expect(() => defineCodec(['nope'] as const)).toThrow(/neither shared/);
  });
});
