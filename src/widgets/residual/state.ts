import { defineCodec, enumSpec, intSpec } from '../shared/params';
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
    own: {
      prefill: intSpec(1, 8192, 512, 'Prompt length in tokens before decoding starts (residual step-through).'),
      step: intSpec(0, 4096, 200, 'Decode step N: tokens generated after the prefill (residual step-through).'),
      scheme: enumSpec(
        ['transformers', 'kivi'] as const,
        'transformers',
        'Residual scheme: transformers (QuantizedCache: residual flushed with a whole-cache re-quantization every R steps) or kivi (keys quantized in blocks of R, values a sliding window of R full-precision tokens).',
      ),
    },
    specs: {
      model: enumSpec<string>(
        RESIDUAL_MODEL_IDS,
        DEFAULT_MODEL_ID,
        'Architecture for the memory count: the bundled model or a preset with published config values.',
      ),
    },
  },
);

export type ResidualState = (typeof residualCodec)['defaults'];
