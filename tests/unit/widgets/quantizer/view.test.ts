import { describe, expect, it } from 'vitest';
import { fakeQuantize, type KVTensor } from '../../../../src/lib/quant/index';
import {
  cacheMemory,
  configFor,
  FALLBACK_CONFIG,
  headMetrics,
  headOf,
  metricsOf,
  Requantizer,
  wholeCacheMetrics,
} from '../../../../src/widgets/quantizer/model';
import {
  describeConfig,
  errorInto,
  niceSymmetric,
  fmtDb,
  fmtPct,
  histogram,
  histogramOptions,
  memoryParts,
  metricRows,
  metricsSummary,
} from '../../../../src/widgets/quantizer/view';

let seed = 7;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
function tensor(heads: number, tokens: number, headDim: number, outlier = 0): KVTensor {
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) data[i] = rnd() * (i % headDim === outlier ? 6 : 1);
  return { data, heads, tokens, headDim };
}

/** Independent float64 reference of the four metrics. */
function reference(x: ArrayLike<number>, y: ArrayLike<number>, D: number) {
  let num = 0,
    den = 0,
    max = 0,
    cos = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - y[i];
    num += d * d;
    den += x[i] * x[i];
    max = Math.max(max, Math.abs(d));
  }
  const rows = x.length / D;
  for (let r = 0; r < rows; r++) {
    let dot = 0,
      a = 0,
      b = 0;
    for (let j = r * D; j < (r + 1) * D; j++) {
      dot += x[j] * y[j];
      a += x[j] ** 2;
      b += y[j] ** 2;
    }
    cos += a === 0 && b === 0 ? 1 : dot / Math.sqrt(a * b);
  }
  return { relativeError: Math.sqrt(num / den), snrDb: 10 * Math.log10(den / num), maxAbsError: max, cosine: cos / rows };
}

const close = (a: Record<string, number>, b: Record<string, number>) => {
  for (const k of Object.keys(b)) expect(a[k], k).toBeCloseTo(b[k], 9);
};

const state = { bits: 4, group: 64, kaxis: 'token', vaxis: 'channel', method: 'minmax', residual: 128 } as const;

describe('configFor', () => {
  it.each([
    ['k', { bits: 4, groupSize: 64, axis: 'token', method: 'minmax', metaDtype: 'fp32' }],
    ['v', { bits: 4, groupSize: 64, axis: 'channel', method: 'minmax', metaDtype: 'fp32' }],
  ] as const)('%s uses its own axis; the bundled fp32 model keeps fp32 scales and zeros', (kind, cfg) =>
    expect(configFor(state, kind)).toEqual(cfg),
  );
  it('a Hub model with an fp16 cache gets fp16 metadata', () =>
    expect(configFor({ ...state, model: 'smollm2-135m' }, 'k')?.metaDtype).toBe('fp16'));
  it('bits=16 means no quantization', () => expect(configFor({ ...state, bits: 16 }, 'k')).toBeNull());
});

describe.each([
  ['minmax token G64', { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' }],
  ['minmax channel G32', { bits: 2, groupSize: 32, axis: 'channel', method: 'minmax' }],
  ['hqq token G64', { bits: 2, groupSize: 64, axis: 'token', method: 'hqq' }],
  ['absmax token G16', { bits: 8, groupSize: 16, axis: 'token', method: 'absmax' }],
  ['minmax token G128 spanning tokens', { bits: 3, groupSize: 128, axis: 'token', method: 'minmax' }],
] as const)('Requantizer with %s', (_n, cfg) => {
  const t = tensor(2, 40, 64, 5);
  it('equals fakeQuantize and reuses its buffers', () => {
    const q = new Requantizer();
    const a = q.run('k', t, cfg);
    expect(a.error).toBeUndefined();
    expect(Array.from(a.dequantized)).toEqual(Array.from(fakeQuantize(t, cfg).dequantized));
    const b = q.run('k', t, cfg);
    expect(b.dequantized.buffer).toBe(a.dequantized.buffer);
  });
  it('metrics of head and layer equal an independent float64 computation', () => {
    const deq = fakeQuantize(t, cfg).dequantized;
    close(metricsOf(t, deq) as unknown as Record<string, number>, reference(t.data, deq, 64));
    const n = 40 * 64;
    close(headMetrics(t, deq, 1) as unknown as Record<string, number>, reference(t.data.subarray(n), deq.subarray(n), 64));
  });
});

describe('impossible combinations', () => {
  const t = tensor(2, 8, 64);
  it('absmax with 1 bit: the engine message and the Transformers default instead', () => {
    const r = new Requantizer().run('k', t, { bits: 1, groupSize: 64, axis: 'token', method: 'absmax' });
    expect(r.error).toMatch(/bits/);
    expect(r.used).toEqual(FALLBACK_CONFIG);
    expect(Array.from(r.dequantized)).toEqual(Array.from(fakeQuantize(t, FALLBACK_CONFIG).dequantized));
  });
  it('a group that does not divide the element count', () => {
    const odd = tensor(1, 3, 64);
    const r = new Requantizer().run('k', odd, { bits: 4, groupSize: 128, axis: 'token', method: 'minmax' });
    expect(r.error).toMatch(/groupSize/);
    expect(r.used).toEqual(FALLBACK_CONFIG);
  });
  it('bits=16 returns the original: zero error', () => {
    const r = new Requantizer().run('k', t, null);
    expect(r.dequantized).toBe(t.data);
    expect(metricsOf(t, r.dequantized)).toEqual({ relativeError: 0, snrDb: Infinity, maxAbsError: 0, cosine: 1 });
  });
});

describe('wholeCacheMetrics', () => {
  it('measures all layers, keys and values, as one concatenated tensor', () => {
    const keys = [tensor(2, 16, 64, 3), tensor(2, 16, 64, 9)];
    const values = [tensor(2, 16, 64), tensor(2, 16, 64)];
    const kc = { bits: 2, groupSize: 16, axis: 'channel', method: 'minmax' } as const;
    const vc = { bits: 2, groupSize: 32, axis: 'token', method: 'minmax' } as const;
    const progress: number[] = [];
    const m = wholeCacheMetrics(keys, values, kc, vc, (d) => progress.push(d));
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [ts, cfg] of [
      [keys, kc],
      [values, vc],
    ] as const) {
      for (const t of ts) {
        xs.push(...t.data);
        ys.push(...fakeQuantize(t, cfg).dequantized);
      }
    }
    close(m as unknown as Record<string, number>, reference(xs, ys, 64));
    expect(m.errors).toEqual([]);
    expect(progress).toEqual([1, 2, 3, 4]);
  });
});

describe('cacheMemory (hand-computed)', () => {
  const info = { layers: 8, kvHeads: 2, headDim: 64 };
  it('int4 G64 per-token, 512 tokens, R128', () => {
    const m = cacheMemory(info, 512, { bits: 4, group: 64, kaxis: 'token', vaxis: 'token', residual: 128 });
    const perTok = 2 * 8 * 2 * 64; // K+V elements per token
    expect(m.payload).toBe((perTok * 384) / 2);
    expect(m.meta).toBe(((perTok * 384) / 64) * 2 * 2);
    expect(m.residual).toBe(perTok * 128 * 2);
    expect(m.fp16Total).toBe(perTok * 512 * 2);
  });
  it('KIVI: keys per-channel and values per-token, 100 tokens, R0, G32', () => {
    const m = cacheMemory(info, 100, { bits: 2, group: 32, kaxis: 'channel', vaxis: 'token', residual: 0 });
    const perTensor = 8 * 2 * 64 * 100;
    const keyGroups = 8 * 2 * 64 * Math.ceil(100 / 32);
    const valueGroups = perTensor / 32;
    expect(m.payload).toBe((2 * perTensor) / 4);
    expect(m.meta).toBe((keyGroups + valueGroups) * 4);
    expect(m.total).toBe(m.payload + m.meta);
    expect(m.ratio).toBeCloseTo((2 * perTensor * 2) / m.total, 12);
  });
  it('fp16', () => {
    const m = cacheMemory(info, 10, { bits: 16, group: 64, kaxis: 'token', vaxis: 'token', residual: 128 });
    expect([m.total, m.meta, m.residual]).toEqual([2 * 8 * 2 * 64 * 10 * 2, 0, 0]);
  });
});

describe.each([
  [0.644, 0.8],
  [1, 1],
  [1.92, 2],
  [2.2, 3],
  [2.8, 3],
  [0.031, 0.04],
  [7, 8],
  [9, 10],
  [0, 1],
  [NaN, 1],
])('niceSymmetric(%d)', (m, n) => {
  it(`is ±${n}`, () => {
    const [lo, hi] = niceSymmetric(m);
    expect(hi).toBeCloseTo(n, 12);
    expect(lo).toBe(-hi);
  });
});

describe('view helpers', () => {
  it('errorInto is dequantized − original', () => {
    expect(Array.from(errorInto([1, 2, 3], [1.5, 2, 2], new Float32Array(3)))).toEqual([0.5, 0, -1]);
  });
  it.each([
    [[-1, -0.5, 0, 0.5, 1], [-1, 1] as const, 4, [1, 1, 1, 2]],
    [[-5, 5], [-1, 1] as const, 2, [1, 1]],
    [[0, 0, 0], [-1, 1] as const, 3, [0, 3, 0]],
  ])('histogram(%j over %j, %i bins)', (xs, dom, bins, counts) => {
    const h = histogram(xs, dom, bins);
    expect(h.map((b) => b.count)).toEqual(counts);
    expect(h[0].x1).toBe(dom[0]);
    expect(h[h.length - 1].x2).toBeCloseTo(dom[1], 12);
  });
  it('histogram options are labelled, with hidden dense marks', () => {
    const o = histogramOptions(histogram([0], [-1, 1]), { width: 400, tensor: 'keys', exact: false });
    expect(o.ariaLabel).toContain('keys');
  });
  it('memory parts are fractions of fp16', () => {
    const m = cacheMemory({ layers: 8, kvHeads: 2, headDim: 64 }, 512, {
      bits: 4,
      group: 64,
      kaxis: 'token',
      vaxis: 'token',
      residual: 128,
    });
    const parts = memoryParts(m);
    expect(parts.reduce((s, p) => s + p.fraction, 0)).toBeCloseTo(m.total / m.fp16Total, 12);
  });
  it('metric rows, summary and formatting', () => {
    const z = { relativeError: 0.118, snrDb: 18.52, maxAbsError: 0.644, cosine: 0.994 };
    const rows = metricRows({ layer: 4, head: 0, kHead: z, kLayer: z, vHead: z, vLayer: z, whole: null });
    expect(rows.map((r) => r.key)).toEqual(['k-head', 'k-layer', 'v-head', 'v-layer', 'cache']);
    expect(rows[4].m).toBeNull();
    const s = metricsSummary({
      tensor: 'k',
      head: z,
      layer: 4,
      headIndex: 0,
      config: describeConfig({ bits: 4, groupSize: 64, axis: 'token', method: 'minmax' }),
      whole: null,
    });
    expect(s).toContain('11.8 %');
    expect(s).toContain('18.5 dB');
    expect(s).toContain('computing…');
    expect(fmtDb(Infinity)).toBe('∞ (exact)');
    expect(fmtPct(0)).toBe('0.0 %');
  });
  it('headOf is a view of one head', () => {
    const t = tensor(2, 3, 4);
    const h = headOf(t, 1);
    expect(h.data.buffer).toBe(t.data.buffer);
    expect(Array.from(h.data)).toEqual(Array.from(t.data.subarray(12)));
  });
});
