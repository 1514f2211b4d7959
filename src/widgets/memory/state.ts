import { defineCodec, enumSpec, type StateOf } from '../shared/params';
import { MEMORY_MODEL_IDS } from './presets';

/** URL parameters of <kv-memory>: the shared ones plus the calculator's own (layers, kvheads, headdim, gpu). */
export const memoryCodec = defineCodec(
  ['model', 'tokens', 'batch', 'bits', 'group', 'residual', 'gpu', 'layers', 'kvheads', 'headdim', 'controls', 'theme'] as const,
  {
    specs: {
      model: enumSpec<string>(MEMORY_MODEL_IDS, 'llama-2-7b', 'Model preset with published config values, or custom (then layers, kvheads, headdim apply).'),
      bits: enumSpec<number>([1, 2, 3, 4, 8, 16], 4, 'Bits per element; 16 = an unquantized fp16 cache.'),
    },
  },
);

export type MemoryState = StateOf<(typeof memoryCodec.names)[number]>;
