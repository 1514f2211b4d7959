import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, MODEL_IDS, MODEL_REGISTRY, getModelEntry, isModelId } from '../../../../src/lib/model/registry';

describe('model registry', () => {
  it('has one frozen entry per id, keyed by its own id', () => {
    expect(Object.isFrozen(MODEL_REGISTRY)).toBe(true);
    expect(Object.keys(MODEL_REGISTRY).sort()).toEqual([...MODEL_IDS].sort());
    for (const id of MODEL_IDS) {
      expect(MODEL_REGISTRY[id].id).toBe(id);
      expect(Object.isFrozen(MODEL_REGISTRY[id])).toBe(true);
      expect(MODEL_REGISTRY[id].approxBytes).toBeGreaterThan(0);
    }
  });
  it('bundles exactly one local model, the default, which alone exports queries', () => {
    const local = MODEL_IDS.filter((id) => MODEL_REGISTRY[id].source === 'local');
    expect(local).toEqual([DEFAULT_MODEL_ID]);
    expect(MODEL_IDS.filter((id) => MODEL_REGISTRY[id].exportsQueries)).toEqual([DEFAULT_MODEL_ID]);
  });
  it('rejects unknown ids with a RangeError naming the allowed ones', () => {
    expect(isModelId('gpt-5')).toBe(false);
    expect(() => getModelEntry('gpt-5')).toThrow(RangeError);
    expect(() => getModelEntry('gpt-5')).toThrow(/kvlab-16m/);
  });
});
