import { describe, expect, it } from 'vitest';
import { checkInTransformers } from '../../../../src/widgets/shared/transformers-check';

const kvlab = { kvHeads: 2, headDim: 64 };
const base = { method: 'minmax', bits: 4, group: 64, kaxis: 'token', vaxis: 'token', residual: 128 };

describe('checkInTransformers', () => {
  it('16 bits is the unquantized cache: nothing to check', () => {
    expect(checkInTransformers({ ...base, bits: 16 }, kvlab, 100, 10).kind).toBe('unquantized');
  });
  it('the post’s default (quanto, 4 bits, per token, G64, R128) runs, as axis 0 / 0', () => {
    const c = checkInTransformers(base, kvlab, 192, 255);
    expect(c.kind).toBe('verdict');
    if (c.kind !== 'verdict') return;
    expect([c.backend, c.axisKey, c.axisValue]).toEqual(['quanto', 0, 0]);
    expect(c.verdict.runs).toBe(true);
    expect(c.context).toContain('axis_key=0');
  });
  it('HQQ per token is axis 1; strided is HQQ axis 0', () => {
    const t = checkInTransformers({ ...base, method: 'hqq' }, kvlab, 192, 10);
    const s = checkInTransformers({ ...base, method: 'hqq', kaxis: 'strided', vaxis: 'strided' }, kvlab, 192, 10);
    expect(t.kind === 'verdict' && [t.axisKey, t.axisValue]).toEqual([1, 1]);
    expect(s.kind === 'verdict' && [s.axisKey, s.axisValue]).toEqual([0, 0]);
  });
  it('HQQ 3 bits per token fails at the first decode step (4-D dequantize), per the upstream model', () => {
    const c = checkInTransformers({ ...base, method: 'hqq', bits: 3 }, kvlab, 192, 10);
    expect(c.kind === 'verdict' && c.verdict.runs).toBe(false);
    expect(c.kind === 'verdict' && c.verdict.failure?.stage).toBe('decode');
  });
  it.each([
    [{ method: 'absmax' }, /not a Transformers backend/],
    [{ kaxis: 'channel' }, /not in Transformers/],
    [{ kaxis: 'strided' }, /not a quanto setting/],
    [{ method: 'hqq', vaxis: 'flat-channel' }, /not a hqq setting/],
  ])('%j is not a Transformers setting', (patch, reason) => {
    const c = checkInTransformers({ ...base, ...patch }, kvlab, 192, 10);
    expect(c.kind).toBe('not-transformers');
    expect(c.kind === 'not-transformers' && c.reason).toMatch(reason);
  });
});
