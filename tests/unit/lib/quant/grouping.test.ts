import { describe, expect, it } from 'vitest';
import {
  AXES,
  fakeQuantize,
  groupCount,
  groupIndexOf,
  groupMembers,
  gatherPlan,
  resolveConfig,
  tokenGroups,
  quantDefaults,
} from '../../../../src/lib/quant/index';
import type { Axis } from '../../../../src/lib/quant/index';

const shape = { heads: 2, tokens: 5, headDim: 4 };

/** Independent group lists written from the upstream reshapes (flat index of each member, in order). */
function upstreamGroups(layout: Axis, s: typeof shape, G: number): number[][] {
  const { heads: H, tokens: T, headDim: D } = s;
  const N = H * T * D;
  const flat = Array.from({ length: N }, (_, i) => i);
  if (layout === 'token') return Array.from({ length: N / G }, (_, g) => flat.slice(g * G, (g + 1) * G)); // reshape([-1, G])
  if (layout === 'strided') {
    // HQQ axis 0: reshape([G, -1]) → rows of N/G; min/max along dim 0 → group = column j
    const rows = Array.from({ length: G }, (_, i) => flat.slice((i * N) / G, ((i + 1) * N) / G));
    return Array.from({ length: N / G }, (_, j) => rows.map((r) => r[j]));
  }
  if (layout === 'flat-channel') {
    // quanto group(axis=-1): reshape (R/G, G, D) → permute(1, 2, 0) → reshape (G, D·R/G); reduce dim 0 → columns
    const A = (H * T) / G;
    const at = (a: number, r: number, d: number) => flat[(a * G + r) * D + d];
    const matrix = Array.from({ length: G }, (_, r) => {
      const row: number[] = [];
      for (let d = 0; d < D; d++) for (let a = 0; a < A; a++) row.push(at(a, r, d));
      return row;
    });
    return Array.from({ length: D * A }, (_, c) => matrix.map((row) => row[c]));
  }
  const out: number[][] = [];
  for (let h = 0; h < H; h++) {
    for (let t0 = 0; t0 < T; t0 += G) {
      for (let d = 0; d < D; d++) {
        const g: number[] = [];
        for (let t = t0; t < Math.min(T, t0 + G); t++) g.push((h * T + t) * D + d);
        out.push(g);
      }
    }
  }
  return out;
}

describe('grouping', () => {
  it('AXES holds the four layouts, token and channel first (existing callers keep their indices)', () => {
    expect([...AXES]).toEqual(['token', 'channel', 'strided', 'flat-channel']);
  });

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

  it('strided (HQQ axis 0) by hand: N = 40, G = 4 → 10 groups, group j = {j, j+10, j+20, j+30}', () => {
    expect(groupCount(shape, { axis: 'strided', groupSize: 4 })).toBe(10);
    expect([...groupMembers('strided', shape, 4, 3)]).toEqual([3, 13, 23, 33]);
    expect(groupIndexOf(shape, { axis: 'strided', groupSize: 4 }, 1, 0, 3)).toBe(3); // element 23
    // membership depends on N: one more token (N = 48) moves element 23 to group 23 mod 12 = 11
    expect(groupIndexOf({ ...shape, tokens: 6 }, { axis: 'strided', groupSize: 4 }, 0, 5, 3)).toBe(11);
  });

  it('flat-channel (quanto axis −1) by hand: R = 10 rows, G = 5 → per channel 2 groups, the second straddles heads', () => {
    expect(groupCount(shape, { axis: 'flat-channel', groupSize: 5 })).toBe(8);
    // group c = d·2 + a; a = 1 holds rows 5..9 = (head 1, tokens 0..4) and group a = 0 rows 0..4 = head 0
    expect([...groupMembers('flat-channel', shape, 5, 2 * 1 + 0)]).toEqual([1, 5, 9, 13, 17]);
    // G = 2 with tokens = 5: group a = 2 holds rows 4 (head 0, token 4) and 5 (head 1, token 0)
    expect([...groupMembers('flat-channel', shape, 2, 0 * 5 + 2)]).toEqual([16, 20]);
    expect(groupIndexOf(shape, { axis: 'flat-channel', groupSize: 2 }, 1, 0, 0)).toBe(2);
  });

  it('groupMembers, groupIndexOf and gatherPlan agree with the upstream reshapes for every layout and G', () => {
    for (const s of [shape, { heads: 3, tokens: 4, headDim: 6 }, { heads: 1, tokens: 8, headDim: 2 }]) {
      const N = s.heads * s.tokens * s.headDim;
      for (const layout of AXES) {
        for (let G = 1; G <= 12; G++) {
          const ok = layout === 'channel' || (layout === 'flat-channel' ? (s.heads * s.tokens) % G === 0 : N % G === 0);
          if (!ok) {
            expect(() => groupMembers(layout, s, G, 0)).toThrow(RangeError);
            continue;
          }
          const ref = upstreamGroups(layout, s, G);
          expect(groupCount(s, { axis: layout, groupSize: G })).toBe(ref.length);
          const P = gatherPlan(layout, s, G);
          expect(P.groups).toBe(ref.length);
          ref.forEach((members, g) => {
            expect([...groupMembers(layout, s, G, g)]).toEqual(members);
            expect([...P.idx.subarray(P.off[g], P.off[g + 1])]).toEqual(members);
            for (const i of members) {
              const d = i % s.headDim;
              const t = Math.floor(i / s.headDim) % s.tokens;
              const h = Math.floor(i / (s.headDim * s.tokens));
              expect(groupIndexOf(s, { axis: layout, groupSize: G }, h, t, d)).toBe(g);
            }
          });
        }
      }
    }
  });

  it('groupMembers rejects bad layouts, shapes and group indices with RangeErrors', () => {
    expect(() => groupMembers('row' as Axis, shape, 4, 0)).toThrow(/layout = "row" .*one of "token", "channel", "strided", "flat-channel"/);
    expect(() => groupMembers('token', shape, 4, 10)).toThrow(/group = 10 .*0 to 9/);
    expect(() => groupMembers('token', { ...shape, heads: 0 }, 4, 0)).toThrow(/shape.heads = 0/);
    expect(() => groupMembers('flat-channel', shape, 3, 0)).toThrow(/Group size \(3\) must be a divisor of \(10\)/);
  });

  it('non-divisible sizes: RangeErrors name the option and quote the upstream error', () => {
    const t = { ...shape, data: new Float32Array(40) };
    expect(() => resolveConfig(t, { bits: 2, groupSize: 6, axis: 'strided', method: 'hqq' })).toThrow(RangeError);
    expect(() => resolveConfig(t, { bits: 2, groupSize: 6, axis: 'strided', method: 'hqq' })).toThrow(
      /groupSize = 6 .*"strided".*group_size should be divisble by the total tensor dimensions\. shape: torch\.Size\(\[1, 2, 5, 4\]\), group_size: 6/,
    );
    expect(() => resolveConfig(t, { bits: 2, groupSize: 4, axis: 'flat-channel', method: 'minmax' })).toThrow(
      /groupSize = 4 .*heads · tokens = 2 · 5 = 10 for axis "flat-channel".*Group size \(4\) must be a divisor of \(10\)/,
    );
    // G larger than the row count (quanto: `group_size > axis_numel`)
    expect(() => resolveConfig(t, { bits: 2, groupSize: 20, axis: 'flat-channel', method: 'absmax' })).toThrow(
      /must be a divisor of \(10\)/,
    );
    expect(() => resolveConfig(t, { bits: 2, groupSize: 10, axis: 'flat-channel', method: 'absmax' })).not.toThrow();
    expect(() => resolveConfig(t, { bits: 2, groupSize: 6, axis: 'token', method: 'minmax' })).toThrow(
      /Group size \(6\) must be a divisor of \(40\)/,
    );
    expect(() => resolveConfig(t, { bits: 2, groupSize: 6, axis: 'token', method: 'hqq' })).toThrow(/group_size should be divisble/);
    expect(() => fakeQuantize(t, { bits: 2, groupSize: 3, axis: 'channel', method: 'hqq' })).not.toThrow();
  });

  it('resolveConfig fills defaults (fp16 meta, HQQ legacy opt_params)', () => {
    const t = { ...shape, data: new Float32Array(40) };
    const c = resolveConfig(t, { bits: 2, groupSize: 4, axis: 'token', method: 'hqq' });
    expect(c.metaDtype).toBe('fp16');
    expect(c.hqq).toEqual({ lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 });
    expect(quantDefaults.metaDtype).toBe('fp16');
  });
});
