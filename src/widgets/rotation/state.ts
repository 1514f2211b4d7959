import { defineCodec, type StateOf } from '../shared/params';

/**
 * URL parameters of <kv-rotation>: the keys of one layer and KV head, and the quantizer
 * applied to them with and without a Hadamard rotation (bits, group, kaxis, method).
 */
export const rotationCodec = defineCodec(['layer', 'head', 'bits', 'group', 'kaxis', 'method', 'controls', 'theme'] as const, {
  overrides: { bits: 2, group: 64, layer: 4 },
});

export type RotationState = StateOf<(typeof rotationCodec.names)[number]>;
