import { describe, expect, it } from 'vitest';
import { attentionImpact, fakeQuantize, type KVTensor } from '../../../../src/lib/quant/index';
import { configKey, lastQueries, makeEvaluator, sweepConfigs, type SweepPoint } from '../../../../src/widgets/tradeoff/sweep';
import {
  chartOptions,
  cheapestUnder,
  currentConfig,
  findPoint,
  paretoFrontier,
  summaryText,
  tableRows,
} from '../../../../src/widgets/tradeoff/view';

/** Deterministic pseudo-random tensor with a few outlier channels (like real keys). */
function tensor(heads: number, tokens: number, headDim: number, seed: number, outliers = false): KVTensor {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) data[i] = rnd() * (outliers && i % headDim < 3 ? 6 : 1);
  return { data, heads, tokens, headDim };
}

const L = 2;
const input = {
  keys: Array.from({ length: L }, (_, l) => tensor(2, 64, 64, 11 + l, true)),
  values: Array.from({ length: L }, (_, l) => tensor(2, 64, 64, 101 + l)),
  queries: Array.from({ length: L }, (_, l) => tensor(6, 64, 64, 1001 + l)),
};

describe('sweepConfigs', () => {
  it('covers bits × group × layout × method (absmax from 2 bits; flat-channel for min-max, strided for HQQ), HQQ last', () => {
    const cs = sweepConfigs();
    expect(cs).toHaveLength(2 * (5 * 4 * 3 + 4 * 4 * 2 + 5 * 4 * 3));
    expect(cs.filter((c) => c.axis === 'strided').every((c) => c.method === 'hqq')).toBe(true);
    expect(cs.filter((c) => c.axis === 'flat-channel').every((c) => c.method === 'minmax')).toBe(true);
    expect(new Set(cs.map(configKey)).size).toBe(cs.length);
    const firstHqq = cs.findIndex((c) => c.method === 'hqq');
    expect(cs.slice(firstHqq).every((c) => c.method === 'hqq')).toBe(true);
    expect(cs.some((c) => c.method === 'absmax' && c.bits === 1)).toBe(false);
  });
});

describe.each([
  { bits: 4, group: 64, axis: 'token', method: 'minmax', tensor: 'k' },
  { bits: 2, group: 32, axis: 'channel', method: 'minmax', tensor: 'k' },
  { bits: 3, group: 16, axis: 'token', method: 'absmax', tensor: 'v' },
  { bits: 8, group: 128, axis: 'channel', method: 'absmax', tensor: 'v' },
  { bits: 2, group: 64, axis: 'token', method: 'hqq', tensor: 'k' },
  { bits: 4, group: 64, axis: 'strided', method: 'hqq', tensor: 'k' },
  { bits: 2, group: 32, axis: 'flat-channel', method: 'minmax', tensor: 'v' },
] as const)('point %j', (c) => {
  it('relative error over all layers, bits per element and attention error match an independent computation', () => {
    const p = makeEvaluator(input)(c);
    const ts = c.tensor === 'k' ? input.keys : input.values;
    let num = 0;
    let den = 0;
    const hats = ts.map((t) => fakeQuantize(t, { bits: c.bits, groupSize: c.group, axis: c.axis, method: c.method }).dequantized);
    ts.forEach((t, l) => {
      for (let i = 0; i < t.data.length; i++) {
        num += (t.data[i] - hats[l][i]) ** 2;
        den += t.data[i] ** 2;
      }
    });
    expect(p.relErr).toBeCloseTo(Math.sqrt(num / den), 6);
    // Per layer and tensor: n = 2·64·64 elements; 3-bit codes packed 10 per 32-bit word; two fp16 values per group
    // of G elements (token axis) or per head, channel and block of ceil(64 / G) tokens (channel axis).
    const n = 2 * 64 * 64;
    const payloadBits = c.bits === 3 ? Math.ceil(n / 10) * 32 : n * c.bits;
    const groups = c.axis === 'token' ? n / c.group : 2 * 64 * Math.ceil(64 / c.group);
    expect(p.bpe).toBeCloseTo((payloadBits + groups * 32) / n, 10);
    const attn = ts.map((_, l) => {
      const q = lastQueries(input.queries[l]);
      return c.tensor === 'k'
        ? attentionImpact(q, input.keys[l], hats[l], input.values[l], input.values[l].data).outputRelError
        : attentionImpact(q, input.keys[l], input.keys[l].data, input.values[l], hats[l]).outputRelError;
    });
    expect(p.attnErr).toBeCloseTo((attn[0] + attn[1]) / 2, 10);
  });
});

it('lastQueries takes the last tokens of every head', () => {
  const q = tensor(3, 10, 4, 5);
  const s = lastQueries(q, 2);
  expect(s.tokens).toBe(2);
  expect(Array.from(s.data.subarray(8, 12))).toEqual(Array.from(q.data.subarray((1 * 10 + 8) * 4, (1 * 10 + 9) * 4)));
});

it('without queries the attention error is null', () => {
  expect(
    makeEvaluator({ ...input, queries: null })({ bits: 4, group: 64, axis: 'token', method: 'minmax', tensor: 'k' }).attnErr,
  ).toBeNull();
});

function fakePoints(n: number, seed: number): SweepPoint[] {
  let s = seed;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        tensor: 'k',
        bits: 4,
        group: 64,
        axis: 'token',
        method: 'minmax',
        bpe: 1 + rnd() * 15,
        relErr: rnd(),
        attnErr: null,
        ms: i,
      }) as SweepPoint,
  );
}

describe.each([1, 2, 3, 4])('Pareto frontier, random set %i', (seed) => {
  it('equals the brute-force set of non-dominated points', () => {
    const pts = fakePoints(60, seed);
    const brute = pts.filter(
      (p) => !pts.some((q) => q !== p && q.bpe <= p.bpe && q.relErr <= p.relErr && (q.bpe < p.bpe || q.relErr < p.relErr)),
    );
    const front = paretoFrontier(pts, 'tensor');
    expect(new Set(front)).toEqual(new Set(brute));
    const rows = tableRows(pts, 'tensor');
    expect(rows.filter((r) => r[6] === 'yes')).toHaveLength(brute.length);
    for (let i = 1; i < rows.length; i++) expect(rows[i][4] as number).toBeGreaterThanOrEqual(rows[i - 1][4] as number);
  });
});

it('summary names the cheapest configuration under 5 % and the current one', () => {
  const pts = sweepConfigs(['k'])
    .filter((c) => c.method !== 'hqq')
    .map((c) => makeEvaluator(input)(c));
  const limit = 0.05;
  const best = pts.filter((p) => p.relErr < limit).sort((a, b) => a.bpe - b.bpe || a.relErr - b.relErr)[0];
  expect(cheapestUnder(pts, 'tensor', limit)).toBe(best);
  const cur = findPoint(pts, currentConfig({ bits: 4, group: 64, kaxis: 'channel', vaxis: 'token', method: 'minmax' }, 'k'))!;
  expect(cur.axis).toBe('channel');
  const text = summaryText(pts, 'k', 'tensor', cur);
  expect(text).toMatch(
    /^Cheapest configuration under 5 % key error: \d bits?, G\d+, per-(token|channel)[^,]*, (minmax|absmax) \([\d.]+ bits per element, error [\d.]+ %\)\./,
  );
  expect(text).toContain('Current configuration: 4 bits, G64, per-channel (KIVI), minmax, 4.5 bits per element');
  const o = chartOptions(pts, 'tensor', 'k', cur, undefined, 600);
  expect(o.ariaLabel).toContain(`${pts.length} quantization configurations`);
});
