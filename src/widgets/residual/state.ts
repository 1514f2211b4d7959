import { defineCodec, enumSpec, type StateOf } from '../shared/params';
import { MEMORY_PRESETS } from '../memory/presets';

/** Model presets whose architecture sets the memory count (the bundled model first). */
export const RESIDUAL_MODEL_IDS = ['kvlab-16m', ...MEMORY_PRESETS.map((p) => p.id).filter((id) => id !== 'kvlab-16m')] as const;

/**
 * URL parameters of <kv-residual>: prefill length, residual length R, decode step N,
 * scheme (transformers | kivi), and bits / group for the memory count.
 */
export const residualCodec = defineCodec(
  ['model', 'prefill', 'residual', 'step', 'scheme', 'bits', 'group', 'controls', 'theme'] as const,
  {
    specs: {
      model: enumSpec<string>(RESIDUAL_MODEL_IDS, 'kvlab-16m', 'Architecture for the memory count: the bundled model or a preset with published config values.'),
    },
  },
);

export type ResidualState = StateOf<(typeof residualCodec.names)[number]>;
