import { defineCodec, enumSpec } from '../shared/params';

/**
 * URL parameters of <kv-tradeoff>: the prompt (tensor picker), which tensor's panel is shown,
 * the current configuration (bits, group, kaxis, vaxis, method) that is marked, and the error metric.
 */
export const tradeoffCodec = defineCodec(
  ['model', 'prompt', 'tensor', 'metric', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'controls', 'theme'] as const,
  {
    own: {
      metric: enumSpec(
        ['tensor', 'attention'] as const,
        'tensor',
        'Error shown on the trade-off chart: tensor (relative error of K or V) or attention (relative error of the attention output, needs exported queries).',
      ),
    },
  },
);

export type TradeoffState = (typeof tradeoffCodec)['defaults'];
