/**
 * The memory calculator's model presets: every model of the catalogue (`src/lib/model/catalogue.ts`),
 * flattened to what a cache size needs, plus `custom` (layers, kvheads, headdim from the URL).
 */
import { CATALOGUE } from '../../lib/model/catalogue';

export const MEMORY_PRESETS = CATALOGUE.map((e) => ({
  id: e.id,
  label: e.label,
  layers: e.architecture.layers,
  kvHeads: e.architecture.kvHeads,
  headDim: e.architecture.headDim,
  params: e.params,
}));

export type MemoryPreset = (typeof MEMORY_PRESETS)[number];
export const MEMORY_MODEL_IDS = [...MEMORY_PRESETS.map((p) => p.id as string), 'custom'] as const;
