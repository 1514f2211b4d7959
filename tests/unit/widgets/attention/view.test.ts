import { describe, expect, it } from 'vitest';
import { fakeQuantize, type KVTensor } from '../../../../src/lib/quant/index';
import * as Plot from '@observablehq/plot';
import { area, curveStep } from 'd3';
import {
  computeAttention,
  kvHeadOf,
  prefixTokens,
  queryAt,
  resolveQuery,
  summaryText,
  topChanges,
  attentionChartOptions,
  diffChartOptions,
  barData,
  stepArea,
  stepAreaPath,
  GAIN_COLOUR,
  LOSS_COLOUR,
  type BarDatum,
} from '../../../../src/widgets/attention/view';
import { createRng } from '../../../../src/lib/model/sampling';

/** Deterministic pseudo-random tensor. */
function tensor(heads: number, tokens: number, headDim: number, seed: number, outlier = 0): KVTensor {
  const uniform = createRng(seed);
  const rnd = () => uniform() - 0.5;
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) data[i] = rnd() * 2 + (outlier && i % headDim === 3 ? outlier : 0);
  return { data, heads, tokens, headDim };
}

/** Independent float64 reference: attention of query token `i`, query head `h`, over keys 0..i. */
function reference(q: KVTensor, k: Float32Array, v: Float32Array, kvHeads: number, T: number, D: number, i: number, h: number) {
  const kvh = Math.floor(h / (q.heads / kvHeads));
  const s: number[] = [];
  for (let j = 0; j <= i; j++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q.data[(h * q.tokens + i) * D + d] * k[(kvh * T + j) * D + d];
    s.push(dot / Math.sqrt(D));
  }
  const m = Math.max(...s);
  const e = s.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / z);
  const o = new Array(D).fill(0);
  for (let j = 0; j <= i; j++) for (let d = 0; d < D; d++) o[d] += p[j] * v[(kvh * T + j) * D + d];
  return { p, o };
}

describe('attention view helpers', () => {
  it.each([
    [0, 6, 2, 0],
    [2, 6, 2, 0],
    [3, 6, 2, 1],
    [5, 6, 2, 1],
    [5, 6, 6, 5],
  ])('query head %i of %i with %i KV heads reads KV head %i', (h, heads, kv, expected) => {
    expect(kvHeadOf(h, heads, kv)).toBe(expected);
  });
  it.each([
    [-1, 10, 9],
    [0, 10, 0],
    [9, 10, 9],
    [10, 10, 9],
    [500, 10, 9],
  ])('resolveQuery(%i, %i) = %i', (q, T, e) => expect(resolveQuery(q, T)).toBe(e));
  it('prefixTokens keeps the first n tokens of every head; queryAt picks one token of every head', () => {
    const t = tensor(2, 5, 3, 1);
    const p = prefixTokens(t, 2);
    expect([p.heads, p.tokens, p.headDim]).toEqual([2, 2, 3]);
    expect(Array.from(p.data.subarray(6, 9))).toEqual(Array.from(t.data.subarray(15, 18)));
    expect(prefixTokens(t, 5)).toBe(t);
    const q1 = queryAt(t, 4);
    expect(Array.from(q1.data.subarray(3, 6))).toEqual(Array.from(t.data.subarray((5 + 4) * 3, (5 + 5) * 3)));
  });
  it('topChanges ranks by the size of the change, each sign separately', () => {
    const c = topChanges([0.5, 0.3, 0.2], [0.3, 0.45, 0.25], ['a', 'b', 'c'], 2);
    expect(c.gained.map((x) => x.token)).toEqual(['b', 'c']);
    expect(c.lost.map((x) => x.token)).toEqual(['a']);
    expect(c.lost[0].delta).toBeCloseTo(-0.2, 12);
  });
});

describe.each([
  { bits: 2 as const, axis: 'token' as const, group: 32, query: 47 },
  { bits: 4 as const, axis: 'channel' as const, group: 16, query: 20 },
  { bits: 1 as const, axis: 'token' as const, group: 64, query: 0 },
])('computeAttention on synthetic tensors, $bits bits $axis G$group, query $query', ({ bits, axis, group, query }) => {
  const T = 48;
  const D = 64;
  const q = tensor(6, T, D, 11);
  const k = tensor(2, T, D, 12, 4);
  const v = tensor(2, T, D, 13);
  const cfg = { bits, groupSize: group, axis, method: 'minmax' as const };
  const kHat = fakeQuantize(k, cfg).dequantized;
  const vHat = fakeQuantize(v, cfg).dequantized;
  const view = computeAttention({ q, k, v, kHat, vHat, query, head: 3 });

  it('matches an independent float64 softmax, KL, TV and output error for every head', () => {
    let num = 0;
    let den = 0;
    let klSum = 0;
    for (let h = 0; h < 6; h++) {
      const r = reference(q, k.data, v.data, 2, T, D, query, h);
      const x = reference(q, kHat, vHat, 2, T, D, query, h);
      let kl = 0;
      let tv = 0;
      for (let j = 0; j <= query; j++) {
        kl += r.p[j] * Math.log(r.p[j] / x.p[j]);
        tv += Math.abs(r.p[j] - x.p[j]) / 2;
      }
      let hn = 0;
      let hd = 0;
      for (let d = 0; d < D; d++) {
        hn += (r.o[d] - x.o[d]) ** 2;
        hd += r.o[d] ** 2;
      }
      expect(view.impact.perHead.kl[h]).toBeCloseTo(Math.max(0, kl), 6);
      expect(view.impact.perHead.tv[h]).toBeCloseTo(tv, 6);
      expect(view.impact.perHead.outputRelError[h]).toBeCloseTo(Math.sqrt(hn / hd), 5);
      num += hn;
      den += hd;
      klSum += Math.max(0, kl);
      if (h === 3) {
        expect(view.ref).toHaveLength(query + 1);
        for (let j = 0; j <= query; j++) {
          expect(view.ref[j]).toBeCloseTo(r.p[j], 9);
          expect(view.hat[j]).toBeCloseTo(x.p[j], 9);
        }
        expect(view.head.kl).toBe(view.impact.perHead.kl[3]);
      }
    }
    expect(view.layer.kl).toBeCloseTo(klSum / 6, 6);
    expect(view.layer.outputRelError).toBeCloseTo(Math.sqrt(num / den), 5);
  });

  it('the summary and charts report those numbers', () => {
    const changes = topChanges(
      view.ref,
      view.hat,
      Array.from({ length: T }, (_, i) => ` t${i}`),
    );
    const text = summaryText({ head: 3, kvHead: 1, layer: 2, query, queryToken: ' t', view, changes, quant: 'x' });
    expect(text).toContain(`total variation ${(view.head.tv * 100).toFixed(2)} %`);
    expect(text).toContain(`attention-output error ${(view.head.outputRelError * 100).toFixed(2)} %`);
    const opts = attentionChartOptions({ values: view.ref, tokens: [], yMax: 1, width: 600, title: 'Original', fill: '#000', label: 'L' });
    expect(opts.ariaLabel).toBe('L');
    expect(opts.x).toMatchObject({ domain: [-0.5, query + 0.5] });
    expect(diffChartOptions({ values: view.hat, tokens: [], width: 600 }).ariaLabel).toMatch(/Difference/);
  });
});

/** Just enough of a document for stepArea's render function (Plot passes its own in the browser). */
function fakeDocument() {
  const make = (tag: string) => {
    const node = {
      tag,
      attrs: {} as Record<string, string>,
      children: [] as unknown[],
      setAttribute: (k: string, v: string) => void (node.attrs[k] = v),
      append: (c: unknown) => void node.children.push(c),
    };
    return node;
  };
  return { createElementNS: (_ns: string, tag: string) => make(tag) };
}

describe('chart marks', () => {
  type Node = { tag: string; attrs: Record<string, string>; children: Node[] };
  const render = (mark: Plot.RenderFunction) => {
    const scales = { x: (i: number) => 10 * i + 5, y: (v: number) => 100 - 100 * v } as unknown as Plot.ScaleFunctions;
    return mark.call(
      null as never,
      [],
      scales,
      {} as Plot.ChannelValues,
      {} as Plot.Dimensions,
      { document: fakeDocument() } as unknown as Plot.Context,
    ) as unknown as Node;
  };

  it('stepArea draws every token as one stepped path from the zero line (what Plot.areaY with curve "step" draws)', () => {
    const g = render(stepArea({ values: [0.5, -0.2, 0.3], fill: '#123456' }));
    expect(g.tag).toBe('g');
    expect(g.attrs).toEqual({ 'aria-label': 'area', 'aria-hidden': 'true', fill: '#123456' });
    expect(g.children).toHaveLength(1);
    // Steps at the midpoints between token centres x = 5, 15, 25; baseline y(0) = 100.
    expect(g.children[0].attrs.d).toBe('M5,50L10,50L10,120L20,120L20,70L25,70L25,100L20,100L20,100L10,100L10,100L5,100Z');
  });

  it.each([1, 2, 3, 50, 1024])('stepAreaPath writes exactly what d3.area().curve(curveStep) writes (%i tokens, as Plot.areaY)', (n) => {
    const rnd = createRng(n);
    const values = Array.from({ length: n }, () => (rnd() - 0.3) * 0.7);
    // Plot-like linear scales with awkward fractions, so rounding to d3's 3 decimals is exercised.
    const width = 696 - 64;
    const x = (i: number) => 52 + ((i + 0.5) / n) * width;
    const y = (v: number) => 110 - ((v + 0.31) / 0.93) * 93.7;
    for (const clamp of [undefined, (v: number) => Math.max(0, v), (v: number) => Math.min(0, v)]) {
      const expected = area<number>()
        .curve(curveStep)
        .x((i) => x(i))
        .y0(y(0))
        .y1((i) => y(clamp ? clamp(values[i]) : values[i]))(values.map((_, i) => i));
      expect(stepAreaPath({ values, fill: '#000', clamp }, x, y)).toBe(expected);
    }
  });

  it('the difference chart draws gains and losses as separate areas, each clamped at zero', () => {
    const [gain, loss] = (diffChartOptions({ values: [0.5, -0.2, 0.3], tokens: [], width: 600 }).marks as Plot.RenderFunction[])
      .slice(0, 2)
      .map((m) => render(m));
    expect(gain.attrs.fill).toBe(GAIN_COLOUR);
    expect(gain.children[0].attrs.d).toBe('M5,50L10,50L10,100L20,100L20,70L25,70L25,100L20,100L20,100L10,100L10,100L5,100Z');
    expect(loss.attrs.fill).toBe(LOSS_COLOUR);
    expect(loss.children[0].attrs.d).toBe('M5,100L10,100L10,120L20,120L20,100L25,100L25,100L20,100L20,100L10,100L10,100L5,100Z');
  });

  it('the hover tip (one datum per token) is included only when asked for', () => {
    const base = {
      values: [0.5, 0.25, 0.25],
      tokens: ['a', ' b', 'c'],
      yMax: 0.5,
      width: 600,
      title: 'Original',
      fill: '#000',
      label: 'L',
    };
    const tips = (marks: Plot.Markish) => (marks as unknown[]).filter((m) => m instanceof Plot.Tip) as Plot.Tip[];
    expect(tips(attentionChartOptions(base).marks)).toHaveLength(0);
    const [tip] = tips(attentionChartOptions({ ...base, tip: true }).marks);
    expect(tip).toBeDefined();
    expect((tip as unknown as { data: BarDatum[] }).data).toEqual(barData(base.values, base.tokens));
    expect(tips(diffChartOptions({ values: [0.1, -0.1], tokens: ['a', 'b'], width: 600, tip: true }).marks)).toHaveLength(1);
  });
});
