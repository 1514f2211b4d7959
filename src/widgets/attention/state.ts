import { defineCodec, intSpec } from '../shared/params';

/**
 * URL parameters of <kv-attention>: which attention pattern (prompt: '' = the first precomputed example; layer,
 * query head, query token) and the quantizer for keys and values (same names as the quantizer).
 * Defaults: layer 2 (keys already carry outlier channels there), the last token as the query.
 */
export const attentionCodec = defineCodec(
  ['prompt', 'layer', 'head', 'query', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'controls', 'theme'] as const,
  {
    own: {
      query: intSpec(
        -1,
        100_000,
        -1,
        'Attention widget: index of the query token, counted from 0; -1 = the last token (clamped to the prompt).',
      ),
    },
    overrides: { layer: 2, bits: 2, group: 32 },
    controlNames: ['prompt', 'layer', 'head', 'query', 'bits', 'group', 'kaxis', 'vaxis', 'method'],
  },
);

export type AttentionState = (typeof attentionCodec)['defaults'];
