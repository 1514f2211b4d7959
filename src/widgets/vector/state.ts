import { defineCodec, enumSpec, intSpec } from '../shared/params';

/** Group sizes that divide one head vector of 64 numbers (a single vector has no 128-element group). */
export const VECTOR_GROUPS = [8, 16, 32, 64] as const;

/**
 * URL parameters of <kv-vector>: which vector (layer, head, tensor, token) and how it is
 * quantized (bits, group, method). Grouping is always along the vector (per-token).
 */
export const vectorCodec = defineCodec(['layer', 'head', 'tensor', 'token', 'bits', 'group', 'method', 'controls', 'theme'] as const, {
  own: {
    token: intSpec(
      0,
      100_000,
      0,
      'Vector widget: index of the token whose key or value vector is quantized, counted from 0 (clamped to the prompt).',
    ),
  },
  overrides: { group: 32, bits: 2, layer: 4 },
  specs: {
    group: enumSpec<number>(VECTOR_GROUPS, 32, 'Group size: elements of the vector sharing one scale and zero point (8, 16, 32 or 64).'),
  },
});

export type VectorState = (typeof vectorCodec)['defaults'];
