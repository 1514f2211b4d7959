import { describe, expect, it } from 'vitest';
import { groupCount, groupIndexOf, resolveConfig, tokenGroups, quantDefaults } from '../../../../src/lib/quant/index';

const shape = { heads: 2, tokens: 5, headDim: 4 };

describe('grouping', () => {
  it('token axis: one group per G consecutive elements', () => {
    expect(groupCount(shape, { axis: 'token', groupSize: 4 })).toBe(10);
    expect(groupCount(shape, { axis: 'token', groupSize: 8 })).toBe(5);
    expect(groupIndexOf(shape, { axis: 'token', groupSize: 8 }, 1, 0, 0)).toBe(2); // element 20 → group 2
    expect(groupIndexOf(shape, { axis: 'token', groupSize: 2 }, 0, 1, 3)).toBe(3); // element 7 → group 3
  });

  it('channel axis: [heads, ceil(tokens/G), headDim] groups with a partial last token group', () => {
    expect(tokenGroups(5, 2)).toBe(3);
    expect(groupCount(shape, { axis: 'channel', groupSize: 2 })).toBe(2 * 3 * 4);
    expect(groupIndexOf(shape, { axis: 'channel', groupSize: 2 }, 0, 4, 1)).toBe(2 * 4 + 1);
    expect(groupIndexOf(shape, { axis: 'channel', groupSize: 2 }, 1, 0, 3)).toBe(12 + 3);
  });

  it('resolveConfig fills defaults (fp16 meta, HQQ legacy opt_params)', () => {
    const t = { ...shape, data: new Float32Array(40) };
    const c = resolveConfig(t, { bits: 2, groupSize: 4, axis: 'token', method: 'hqq' });
    expect(c.metaDtype).toBe('fp16');
    expect(c.hqq).toEqual({ lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 });
    expect(quantDefaults.metaDtype).toBe('fp16');
  });
});
