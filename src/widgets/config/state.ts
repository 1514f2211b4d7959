import { MEMORY_PRESETS } from '../memory/presets';
import { defineCodec, enumSpec } from '../shared/params';

/** Models the generator knows: the memory calculator's presets that are on the Hugging Face Hub (not this site's own model). */
export const CONFIG_MODELS = MEMORY_PRESETS.filter((p) => p.id !== 'kvlab-16m');
export const CONFIG_MODEL_IDS = CONFIG_MODELS.map((p) => p.id as string);

/** Residual lengths offered: 0 and 1 are legal but behave like 2 (see src/lib/quant/residual.ts). */
export const RESIDUAL_STEPS = [0, 1, 2, 16, 32, 64, 128, 256, 512, 1024] as const;

/**
 * URL parameters of <kv-config>: the `cache_config` choices (backend, bits = nbits, kaxis/vaxis =
 * axis_key/axis_value, group = q_group_size, residual = residual_length), and the model and
 * context length for the memory estimate.
 */
export const configCodec = defineCodec(['backend', 'bits', 'kaxis', 'vaxis', 'group', 'residual', 'model', 'tokens', 'controls', 'theme'] as const, {
  own: {
    backend: enumSpec(['quanto', 'hqq'] as const, 'quanto', 'Config generator: the Transformers quantized-cache backend, quanto or hqq.'),
  },
  specs: {
    model: enumSpec<string>(CONFIG_MODEL_IDS, 'llama-2-7b', 'Model whose published config sizes the memory estimate and names the checkpoint in the snippet.'),
  },
});

export type ConfigState = (typeof configCodec)['defaults'];
