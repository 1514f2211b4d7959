import { describe, expect, it } from 'vitest';
import {
  ARCHITECTURE_MODEL_IDS,
  CATALOGUE,
  DEFAULT_MODEL_ID,
  MODEL_IDS,
  MODEL_REGISTRY,
  catalogueEntry,
  getModelEntry,
  isModelId,
} from '../../../../src/lib/model/catalogue';
import { PARAMS } from '../../../../src/widgets/shared/params';
import { MEMORY_MODEL_IDS, MEMORY_PRESETS } from '../../../../src/widgets/memory/presets';
import { RESIDUAL_MODEL_IDS } from '../../../../src/widgets/residual/state';

describe('model catalogue', () => {
  it('has unique ids, and one frozen runnable entry per runnable id', () => {
    expect(new Set(CATALOGUE.map((e) => e.id)).size).toBe(CATALOGUE.length);
    expect(Object.isFrozen(MODEL_REGISTRY)).toBe(true);
    expect(Object.keys(MODEL_REGISTRY).sort()).toEqual([...MODEL_IDS].sort());
    for (const id of MODEL_IDS) {
      expect(MODEL_REGISTRY[id].id).toBe(id);
      expect(Object.isFrozen(MODEL_REGISTRY[id])).toBe(true);
      expect(MODEL_REGISTRY[id].approxBytes).toBeGreaterThan(0);
    }
  });
  it('bundles exactly one local model, the default, which alone exports queries', () => {
    expect(MODEL_IDS[0]).toBe(DEFAULT_MODEL_ID);
    expect(MODEL_IDS.filter((id) => MODEL_REGISTRY[id].source === 'local')).toEqual([DEFAULT_MODEL_ID]);
    expect(MODEL_IDS.filter((id) => MODEL_REGISTRY[id].exportsQueries)).toEqual([DEFAULT_MODEL_ID]);
  });
  it('architectures are consistent (query heads a multiple of KV heads)', () => {
    for (const e of CATALOGUE) {
      const a = e.architecture;
      expect(a.heads % a.kvHeads, e.id).toBe(0);
      expect(a.layers * a.kvHeads * a.headDim, e.id).toBeGreaterThan(0);
    }
  });
  it('the bundled model matches its own config.json', async () => {
    const { readFileSync } = await import('node:fs');
    const cfg = JSON.parse(readFileSync(new URL('../../../../public/models/kvlab-16m/config.json', import.meta.url), 'utf8'));
    const a = catalogueEntry('kvlab-16m')!.architecture;
    expect([a.layers, a.heads, a.kvHeads, a.headDim]).toEqual([
      cfg.num_hidden_layers,
      cfg.num_attention_heads,
      cfg.num_key_value_heads,
      cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads,
    ]);
  });
  it('rejects unknown ids with a RangeError naming the allowed ones', () => {
    expect(isModelId('gpt-5')).toBe(false);
    expect(() => getModelEntry('gpt-5')).toThrow(RangeError);
    expect(() => getModelEntry('gpt-5')).toThrow(/kvlab-16m/);
  });
});

describe('every widget model choice comes from the catalogue', () => {
  it('the shared `model` parameter accepts exactly the runnable models, and each one loads in the worker', () => {
    expect([...PARAMS.model.values]).toEqual([...MODEL_IDS]);
    expect(PARAMS.model.default).toBe(DEFAULT_MODEL_ID);
    // The old bug: ?model=smollm2-135m passed the codec and was then refused by the worker.
    for (const id of PARAMS.model.values) expect(() => getModelEntry(id)).not.toThrow();
  });
  it('memory and residual presets are the catalogue architectures', () => {
    expect(MEMORY_PRESETS.map((p) => p.id)).toEqual([...ARCHITECTURE_MODEL_IDS]);
    expect(MEMORY_MODEL_IDS).toContain('custom');
    expect([...RESIDUAL_MODEL_IDS].sort()).toEqual([...ARCHITECTURE_MODEL_IDS].sort());
    for (const p of MEMORY_PRESETS) expect(p.kvHeads).toBe(catalogueEntry(p.id)!.architecture.kvHeads);
  });
});
