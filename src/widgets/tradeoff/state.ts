import { defineCodec, type StateOf } from '../shared/params';

/**
 * URL parameters of <kv-tradeoff>: the prompt (tensor picker), which tensor's panel is shown,
 * the current configuration (bits, group, kaxis, vaxis, method) that is marked, and the error metric.
 */
export const tradeoffCodec = defineCodec(
  ['model', 'prompt', 'tensor', 'metric', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'controls', 'theme'] as const,
);

export type TradeoffState = StateOf<(typeof tradeoffCodec.names)[number]>;
