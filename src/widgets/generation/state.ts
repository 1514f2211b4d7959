import { defineCodec, type StateOf } from '../shared/params';

/**
 * URL parameters of <kv-generation>: the prompt, the quantized stream's cache (same names as the
 * quantizer, plus `residual`), and decoding. Defaults reproduce the Hugging Face post's side-by-side
 * ("I like rock music because", quanto int4, G64, R128) with greedy decoding and a repetition
 * penalty of 1.3, which a 16M-parameter model needs to avoid loops.
 */
export const generationCodec = defineCodec(
  ['prompt', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'residual', 'strategy', 'penalty', 'temperature', 'seed', 'maxnew', 'controls', 'theme'] as const,
  {
    overrides: { prompt: 'I like rock music because' },
    controlNames: ['prompt', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'residual', 'strategy', 'penalty', 'temperature', 'seed', 'maxnew'],
  },
);

export type GenerationState = StateOf<(typeof generationCodec.names)[number]>;
