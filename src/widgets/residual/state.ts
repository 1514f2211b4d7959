import { defineCodec, enumSpec, type StateOf } from '../shared/params';
import { ARCHITECTURE_MODEL_IDS, DEFAULT_MODEL_ID } from '../../lib/model/catalogue';

/** Catalogue models whose architecture sets the memory count (the bundled model first). */
export const RESIDUAL_MODEL_IDS: readonly string[] = [DEFAULT_MODEL_ID, ...ARCHITECTURE_MODEL_IDS.filter((id) => id !== DEFAULT_MODEL_ID)];

/**
 * URL parameters of <kv-residual>: prefill length, residual length R, decode step N,
 * scheme (transformers | kivi), and bits / group for the memory count.
 */
export const residualCodec = defineCodec(
  ['model', 'prefill', 'residual', 'step', 'scheme', 'bits', 'group', 'controls', 'theme'] as const,
  {
    specs: {
      model: enumSpec<string>(RESIDUAL_MODEL_IDS, DEFAULT_MODEL_ID, 'Architecture for the memory count: the bundled model or a preset with published config values.'),
    },
  },
);

export type ResidualState = StateOf<(typeof residualCodec.names)[number]>;
