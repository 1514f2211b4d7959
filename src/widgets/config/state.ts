import { MEMORY_PRESETS } from '../memory/presets';
import { defineCodec, enumSpec, intSpec } from '../shared/params';

/** Models the generator knows: the memory calculator's presets that are on the Hugging Face Hub (not this site's own model). */
export const CONFIG_MODELS = MEMORY_PRESETS.filter((p) => p.id !== 'kvlab-16m');
export const CONFIG_MODEL_IDS = CONFIG_MODELS.map((p) => p.id as string);

/** Residual lengths offered: 0 and 1 are legal but behave like 2 (see src/lib/quant/transformers.ts `flushSteps`). */
export const RESIDUAL_STEPS = [0, 1, 2, 16, 32, 64, 128, 256, 512, 1024] as const;

/** The two ways to ask Transformers for the quantized cache. */
export const CODE_FORMS = ['generate', 'cache'] as const;

/**
 * URL parameters of <kv-config>: the `cache_config` choices (backend, bits = nbits, kaxis/vaxis = the grouping
 * layouts behind axis_key/axis_value, group = q_group_size, residual = residual_length), the model, the prompt
 * length and max_new_tokens the check runs over, the code form, and the context length for the memory estimate.
 */
export const configCodec = defineCodec(
  [
    'backend',
    'bits',
    'kaxis',
    'vaxis',
    'group',
    'residual',
    'model',
    'ptokens',
    'newtokens',
    'form',
    'tokens',
    'controls',
    'theme',
  ] as const,
  {
    own: {
      backend: enumSpec(['quanto', 'hqq'] as const, 'quanto', 'Config generator: the Transformers quantized-cache backend, quanto or hqq.'),
      ptokens: intSpec(
        1,
        131_072,
        1000,
        'Config generator: prompt length in tokens that the Transformers check runs over (the prompt is quantized at the first update).',
      ),
      newtokens: intSpec(
        1,
        32_768,
        256,
        'Config generator: max_new_tokens of the snippet; the check follows every flush of that many steps.',
      ),
      form: enumSpec(
        CODE_FORMS,
        'generate',
        'Config generator: code form, generate (cache_implementation="quantized" + cache_config) or cache (a QuantizedCache object passed as past_key_values).',
      ),
    },
    specs: {
      model: enumSpec<string>(
        CONFIG_MODEL_IDS,
        'llama-2-7b',
        'Model whose published config sizes the memory estimate, shapes the Transformers check and names the checkpoint in the snippet.',
      ),
    },
  },
);

export type ConfigState = (typeof configCodec)['defaults'];
