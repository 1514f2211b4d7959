import { defineCodec, enumSpec, intSpec } from '../shared/params';

/**
 * URL parameters of <kv-generation>: the prompt, the quantized stream's cache (same names as the
 * quantizer, plus `residual`), and decoding. Defaults reproduce the Hugging Face post's side-by-side
 * ("I like rock music because", quanto int4, G64, R128) with greedy decoding and a repetition
 * penalty of 1.3, which a 16M-parameter model needs to avoid loops.
 */
export const generationCodec = defineCodec(
  [
    'prompt',
    'bits',
    'group',
    'kaxis',
    'vaxis',
    'method',
    'residual',
    'strategy',
    'penalty',
    'temperature',
    'seed',
    'maxnew',
    'controls',
    'theme',
  ] as const,
  {
    own: {
      strategy: enumSpec(['greedy', 'sample'] as const, 'greedy', 'Generation widget: decoding strategy, greedy or seeded top-k sampling.'),
      penalty: enumSpec<number>(
        [1, 1.1, 1.2, 1.3, 1.5, 2],
        1.3,
        'Generation widget: repetition penalty (1 = off; Transformers repetition_penalty).',
      ),
      temperature: enumSpec<number>([0.2, 0.5, 0.7, 0.8, 1, 1.2, 1.5], 0.8, 'Generation widget: sampling temperature (strategy=sample).'),
      seed: intSpec(0, 2_147_483_647, 0, 'Generation widget: sampling seed; both streams draw the same random numbers.'),
      maxnew: intSpec(8, 256, 48, 'Generation widget: new tokens to generate.'),
    },
    overrides: { prompt: 'I like rock music because' },
    controlNames: [
      'prompt',
      'bits',
      'group',
      'kaxis',
      'vaxis',
      'method',
      'residual',
      'strategy',
      'penalty',
      'temperature',
      'seed',
      'maxnew',
    ],
  },
);

export type GenerationState = (typeof generationCodec)['defaults'];
