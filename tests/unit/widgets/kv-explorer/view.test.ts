import { describe, expect, it } from 'vitest';
import type { KVTensor } from '../../../../src/lib/quant/index';
import {
  argmax,
  cellAt,
  channelMaxAbs,
  headByChannel,
  hoverText,
  median,
  outlierRatio,
  overviewOptions,
  overviewRatios,
  overviewRows,
  profileOptions,
  profileRows,
  profileSummary,
} from '../../../../src/widgets/kv-explorer/view';
import { matchExample, promptParamFor } from '../../../../src/widgets/shared/tensor-picker';

/** A tensor whose element (h, t, d) = h·1000 + t·10 + d (− for odd t), so positions are readable. */
function indexed(heads: number, tokens: number, headDim: number): KVTensor {
  const data = new Float32Array(heads * tokens * headDim);
  for (let h = 0; h < heads; h++)
    for (let t = 0; t < tokens; t++)
      for (let d = 0; d < headDim; d++) data[(h * tokens + t) * headDim + d] = (t % 2 ? -1 : 1) * (h * 1000 + t * 10 + d);
  return { data, heads, tokens, headDim };
}

describe('headByChannel', () => {
  it.each([
    [2, 5, 3, 0],
    [2, 5, 3, 1],
    [1, 1, 4, 0],
  ])('heads %i tokens %i dim %i, head %i: out[d·T + t] = x[h, t, d]', (H, T, D, h) => {
    const t = indexed(H, T, D);
    const out = headByChannel(t, h);
    expect(out.length).toBe(T * D);
    for (let tok = 0; tok < T; tok++)
      for (let d = 0; d < D; d++) expect(out[d * T + tok]).toBe((tok % 2 ? -1 : 1) * (h * 1000 + tok * 10 + d));
  });

  it('reuses a buffer of the right size', () => {
    const t = indexed(2, 4, 2);
    const buf = new Float32Array(8);
    expect(headByChannel(t, 1, buf)).toBe(buf);
    expect(headByChannel(t, 1, new Float32Array(3)).length).toBe(8);
  });
});

describe('channel profiles', () => {
  it('channelMaxAbs = max over tokens of |x| per channel (hand values)', () => {
    const t = indexed(2, 3, 2);
    // head 1: tokens 0..2 → |1000+10t+d| max at t = 2: 1020 + d
    expect(Array.from(channelMaxAbs(t, 1))).toEqual([1020, 1021]);
    expect(Array.from(channelMaxAbs(t, 0))).toEqual([20, 21]);
  });

  it.each([
    [[1, 2, 3], 2],
    [[4, 1, 3, 2], 2.5],
    [[], 0],
  ])('median(%j) = %d', (xs, m) => expect(median(xs)).toBe(m));

  it.each([
    [[1, 1, 1, 1], 1],
    [[1, 1, 1, 9], 9],
    [[2, 2, 4, 10, 2], 5],
    [[0, 0, 0], 1],
    [[0, 0, 3], Infinity],
  ])('outlierRatio(%j) = %d', (xs, r) => expect(outlierRatio(xs)).toBe(r));

  it('argmax picks the first largest entry', () => expect(argmax([1, 5, 5, 2])).toBe(1));

  it('profile rows and options: keys then values, accessible and with hidden dense marks', () => {
    const rows = profileRows([1, 2], [3, 4]);
    expect(rows).toEqual([
      { channel: 0, tensor: 'keys', maxAbs: 1 },
      { channel: 1, tensor: 'keys', maxAbs: 2 },
      { channel: 0, tensor: 'values', maxAbs: 3 },
      { channel: 1, tensor: 'values', maxAbs: 4 },
    ]);
    const o = profileOptions(rows, { width: 500, layer: 3, head: 1 });
    expect(o.ariaLabel).toContain('layer 3, KV head 1');
    expect(o.width).toBe(500);
    expect(JSON.stringify(o.color)).not.toMatch(/turbo/);
  });

  it('summary states both ratios in words', () => {
    const s = profileSummary({ layer: 4, head: 0, keyRatio: 3.31, valueRatio: 1.42, keyChannel: 17, valueChannel: 3, tokens: 192 });
    expect(s).toContain('largest key channel (channel 17) is 3.3× the median channel');
    expect(s).toContain('values: 1.4×');
  });
});

describe('layer overview', () => {
  const keys = [indexed(2, 3, 2), indexed(2, 3, 2)];
  const values = [indexed(2, 3, 2), indexed(2, 3, 2)];
  it('has layers × 2 tensors × channels rows and per-layer ratios', () => {
    expect(overviewRows(keys, values, 0)).toHaveLength(2 * 2 * 2);
    const r = overviewRatios(keys, values, 0);
    expect(r).toEqual([
      { layer: 0, keys: 21 / 20.5, values: 21 / 20.5 },
      { layer: 1, keys: 21 / 20.5, values: 21 / 20.5 },
    ]);
    expect(overviewOptions(overviewRows(keys, values, 0), { width: 600, head: 0, layers: 2 }).ariaLabel).toContain('2 layers');
  });
});

describe('pointer readout', () => {
  it.each([
    [0, 0, { token: 0, channel: 0 }],
    [0.999, 0.999, { token: 9, channel: 3 }],
    [0.5, 0.25, { token: 5, channel: 1 }],
    [1, 0.5, null],
    [-0.1, 0.5, null],
  ])('cellAt(%d, %d) over 10 tokens × 4 channels', (fx, fy, want) => expect(cellAt(fx, fy, 10, 4)).toEqual(want));

  it('quotes the token text', () => {
    expect(hoverText({ tensor: 'keys', token: 3, tokenText: ' rock', channel: 7, value: -1.23456 })).toBe(
      'Key of token 3 " rock", channel 7: -1.235',
    );
  });
});

describe('tensor picker matching', () => {
  const examples = [
    { id: 'a', prompt: 'first' },
    { id: 'b', prompt: 'second' },
    { id: 'long', prompt: 'x'.repeat(5000) },
  ];
  it.each([
    ['first', 'a'],
    ['second', 'b'],
    ['x'.repeat(4000), 'long'],
    ['x'.repeat(10), undefined],
    ['', undefined],
    ['someone else', undefined],
  ])('matchExample(%j…) = %s', (p, id) => expect(matchExample(examples, p)?.id).toBe(id));

  it('the prompt parameter is empty for the default example, else the (cut) prompt', () => {
    expect(promptParamFor(examples, 'a')).toBe('');
    expect(promptParamFor(examples, 'b')).toBe('second');
    expect(promptParamFor(examples, 'long')).toHaveLength(4000);
  });
});
