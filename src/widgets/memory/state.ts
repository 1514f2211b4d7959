import { defineCodec, enumSpec, intSpec } from '../shared/params';
import { MEMORY_MODEL_IDS } from './presets';

/** URL parameters of <kv-memory>: the shared ones plus the calculator's own (layers, kvheads, headdim, gpu). */
export const memoryCodec = defineCodec(
  ['model', 'tokens', 'batch', 'bits', 'group', 'residual', 'gpu', 'layers', 'kvheads', 'headdim', 'controls', 'theme'] as const,
  {
    own: {
      batch: intSpec(1, 4096, 1, 'Batch size (memory calculator).'),
      gpu: intSpec(1, 10_000, 80, 'GPU memory in GB (memory calculator: how many tokens fit).'),
      layers: intSpec(1, 512, 32, 'Custom model: number of layers (memory calculator, model=custom).'),
      kvheads: intSpec(1, 256, 8, 'Custom model: number of key-value heads (memory calculator, model=custom).'),
      headdim: intSpec(1, 1024, 128, 'Custom model: head dimension (memory calculator, model=custom).'),
    },
    specs: {
      model: enumSpec<string>(
        MEMORY_MODEL_IDS,
        'llama-2-7b',
        'Model preset with published config values, or custom (then layers, kvheads, headdim apply).',
      ),
      bits: enumSpec<number>([1, 2, 3, 4, 8, 16], 4, 'Bits per element; 16 = an unquantized fp16 cache.'),
    },
  },
);

export type MemoryState = (typeof memoryCodec)['defaults'];
