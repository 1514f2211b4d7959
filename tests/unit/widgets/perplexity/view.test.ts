import { describe, expect, it } from 'vitest';
import { cacheConfigOf, PRESET_IDS, PRESETS } from '../../../../src/widgets/perplexity/presets';
import {
  chartOptions,
  configMemory,
  formatNats,
  klHistogram,
  klHistogramOptions,
  klSummaryText,
  KVLAB_DIMS,
  runningNll,
  seriesOf,
  STYLE,
  summaryText,
  tableRows,
} from '../../../../src/widgets/perplexity/view';

describe('runningNll', () => {
  it('is the cumulative mean of −log p', () => {
    const lp = [Math.log(0.5), Math.log(0.25), Math.log(0.125)];
    const r = runningNll(lp);
    expect(r[0]).toBeCloseTo(Math.LN2, 12);
    expect(r[1]).toBeCloseTo((Math.LN2 + 2 * Math.LN2) / 2, 12);
    expect(r[2]).toBeCloseTo((6 * Math.LN2) / 3, 12);
    const s = seriesOf('fp32', lp, 1);
    expect(Array.from(s.x)).toEqual([1, 2, 3]);
  });
});

describe.each([
  // id, tokens, prefill, R, expected bits/element, expected total bytes (hand computed; fp32 residual; scale and
  // zero in the cache dtype, fp32 = 2 × 4 bytes per group, except the -fp16 presets: 2 × 2 bytes)
  ['fp32', 300, 1, 128, 32, 2 * 8 * 2 * 64 * 300 * 4],
  // int4 G64 per token: 4 + 64/64 = 5 bits. 300 tokens, prefill 1, 299 decoded, R 128 → residual 299 % 128 = 43.
  ['quanto-int4', 300, 1, 128, 5, 2 * 8 * 2 * 64 * ((300 - 43) * (0.5 + 8 / 64) + 43 * 4)],
  ['quanto-int4-fp16', 300, 1, 128, 4.5, 2 * 8 * 2 * 64 * ((300 - 43) * (0.5 + 4 / 64) + 43 * 4)],
  // HQQ axis 0 (strided): still numel / 64 groups.
  ['hqq-int2', 300, 1, 128, 3, 2 * 8 * 2 * 64 * ((300 - 43) * (0.25 + 8 / 64) + 43 * 4)],
  // R 0 → period 2: residual = 299 % 2 = 1.
  ['hqq-int8', 300, 1, 0, 9, 2 * 8 * 2 * 64 * (299 * (1 + 8 / 64) + 1 * 4)],
])('configMemory(%s, %i tokens, prefill %i, R %i)', (id, tokens, prefill, R, bpe, total) => {
  it('matches the hand computation', () => {
    const m = configMemory(id as (typeof PRESET_IDS)[number], KVLAB_DIMS, tokens, prefill, R);
    expect(m.bitsPerElement).toBeCloseTo(bpe, 9);
    expect(m.totalBytes).toBeCloseTo(total, 6);
    expect(m.fp32Bytes).toBe(2 * 8 * 2 * 64 * tokens * 4);
  });
});

describe('KIVI-style memory', () => {
  it('averages per-channel keys and per-token values (G32, 2 bits, fp32 scale and zero → 4 bits/element both ways when groups are full)', () => {
    // 257 tokens, prefill 1, R 128 → residual 0: 257 quantized; channel groups: ceil(257/32) = 9 groups per channel.
    const m = configMemory('kivi-int2', KVLAB_DIMS, 257, 1, 128);
    const perLayerHead = 64 * 257;
    const keyBytes = 8 * 2 * (perLayerHead * 0.25 + 9 * 64 * 8);
    const valBytes = 8 * 2 * (perLayerHead * 0.25 + (perLayerHead / 32) * 8);
    expect(m.totalBytes).toBeCloseTo(keyBytes + valBytes, 6);
  });
});

describe('table rows, presets and chart', () => {
  it('Δ vs fp32 is the relative change of perplexity', () => {
    const rows = tableRows(
      [
        { id: 'fp32', perplexity: 20, meanNll: Math.log(20), klToExact: 0, top1AgreementToExact: 1 },
        { id: 'quanto-int2', perplexity: 23, meanNll: Math.log(23), klToExact: 0.05, top1AgreementToExact: 0.9 },
      ],
      KVLAB_DIMS,
      300,
      1,
      128,
    );
    expect(rows[1].deltaVsFp32).toBeCloseTo(0.15, 12);
    expect(summaryText(rows, { tokens: 300, prefillTokens: 1, residual: 128 })).toContain(
      'the curves part from the start and further at token 129',
    );
    expect(summaryText(rows, { tokens: 100, prefillTokens: 1, residual: 128 })).toContain('never reaches');
    expect(summaryText([], { tokens: 0, prefillTokens: 1, residual: 128 })).toMatch(/^The first token is prefilled/);
  });
  it('every preset has its own colour and dash, and maps to a worker cache config', () => {
    expect(new Set(PRESET_IDS.map((i) => STYLE[i].colour)).size).toBe(PRESET_IDS.length);
    expect(new Set(PRESET_IDS.map((i) => STYLE[i].dash)).size).toBe(PRESET_IDS.length);
    expect(cacheConfigOf('fp32', 128)).toEqual({ kind: 'exact', label: PRESETS.fp32.label });
    expect(cacheConfigOf('kivi-int2', 64)).toEqual({
      kind: 'quantized',
      label: PRESETS['kivi-int2'].label,
      key: { bits: 2, groupSize: 32, axis: 'channel', method: 'minmax' },
      value: { bits: 2, groupSize: 32, axis: 'token', method: 'minmax' },
      residualLength: 64,
    });
    const opts = chartOptions([seriesOf('fp32', [-1, -2], 1)], { width: 600, prefillTokens: 1, residual: 128, tokens: 300 });
    expect(opts.ariaLabel).toMatch(/running log-perplexity/);
  });
});

describe('Transformers presets', () => {
  it('name Transformers settings by backend and axis; hqq defaults to axis 0 (strided), KIVI is not a backend setting', () => {
    expect(PRESETS['hqq-int4']).toMatchObject({
      backend: 'hqq',
      key: { axis: 'strided', method: 'hqq', bits: 4, groupSize: 64 },
      value: { axis: 'strided' },
    });
    expect(PRESETS['hqq-int4-axis1']).toMatchObject({ backend: 'hqq', key: { axis: 'token' } });
    expect(PRESETS['quanto-int2']).toMatchObject({ backend: 'quanto', key: { axis: 'token', method: 'minmax', bits: 2, groupSize: 64 } });
    expect(PRESETS['quanto-int2-axis-1']).toMatchObject({ backend: 'quanto', key: { axis: 'flat-channel', groupSize: 32 } });
    // Metadata follows the cache dtype (left to the worker) except in the explicit fp16 presets.
    expect(PRESETS['quanto-int4'].key!.metaDtype).toBeUndefined();
    expect(PRESETS['quanto-int4-fp16'].key!.metaDtype).toBe('fp16');
    expect(PRESETS['kivi-int2'].backend).toBeNull();
    expect(PRESETS['kivi-int2'].label).toMatch(/KIVI’s own scheme.*not a Transformers setting/);
    expect(cacheConfigOf('hqq-int2', 128)).toMatchObject({ kind: 'quantized', backend: 'hqq', residualLength: 128 });
    expect(cacheConfigOf('kivi-int2', 128)).not.toHaveProperty('backend');
  });
});

describe('KL distribution', () => {
  it('formats nats as plain decimals or scientific notation, never SI prefixes', () => {
    expect(formatNats(0)).toBe('0');
    expect(formatNats(0.0513)).toBe('0.051');
    expect(formatNats(1.234)).toBe('1.23');
    expect(formatNats(0.00031)).toBe('3.1e-4');
    expect(formatNats(1e-6)).toBe('1.0e-6');
    expect(formatNats(null)).toBe('—');
    for (const x of [1e-3, 1e-5, 0.02, 3]) expect(formatNats(x)).not.toMatch(/[µmkK]/);
  });
  it('bins per-position KL into half-decades, with the tails in the end bins', () => {
    // 1e-7 → below the first edge (bin 0); 2e-6 → [1e-6, 3.16e-6) = bin 0; 5e-6 → bin 1; 0.05 → [3.16e-2, 0.1) = bin 9; 50 → last bin.
    const h = klHistogram([1e-7, 2e-6, 5e-6, 0.05, 50]);
    expect(h).toHaveLength(14);
    expect(h.map((b) => b.count)).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(h.reduce((s, b) => s + b.share, 0)).toBeCloseTo(1, 12);
    const opts = klHistogramOptions([{ id: 'quanto-int2', bins: h }], 600);
    expect(opts.ariaLabel).toMatch(/share of token positions by KL/);
    // A finite y range over the tallest bin (2 of 5 positions = 40 %), decade ticks from 1e-6 to 1 on x.
    const y = opts.y as { domain: number[] };
    expect(y.domain[0]).toBe(0);
    expect(y.domain[1]).toBeGreaterThan(40);
    expect(Number.isFinite(y.domain[1])).toBe(true);
    expect((opts.x as { ticks: number[] }).ticks).toEqual([1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1]);
  });
  it("summarises each configuration's KL distribution and shows failures as reasons, not numbers", () => {
    const kl = { count: 4, mean: 0.0513, p50: 0.0123, p90: 0.2, p99: 0.9, max: 1.5 };
    const failure = { backend: 'hqq' as const, message: 'packing fails', raises: 'RuntimeError', atTokens: 1 };
    const rows = tableRows(
      [
        { id: 'fp32', perplexity: 20, meanNll: Math.log(20), klToExact: 0, top1AgreementToExact: 1 },
        { id: 'quanto-int2', perplexity: 23, meanNll: Math.log(23), klToExact: 0.0513, top1AgreementToExact: 0.84, klDistribution: kl },
        { id: 'hqq-int2-axis1', perplexity: NaN, meanNll: NaN, klToExact: null, top1AgreementToExact: null, failure },
      ],
      KVLAB_DIMS,
      300,
      1,
      128,
    );
    expect(rows[2].deltaVsFp32).toBeNull();
    const text = klSummaryText(rows);
    expect(text).toContain('quanto int2, axis 0, G64: mean 0.051, median 0.012, 90th percentile 0.20, 99th 0.90, largest 1.50 nats');
    expect(text).toContain('84.0 %');
    expect(text).not.toContain('hqq int2, axis 1');
    const summary = summaryText(rows, { tokens: 300, prefillTokens: 1, residual: 128 });
    expect(summary).toContain('hqq int2, axis 1, G64: Transformers cannot run it (packing fails)');
    expect(summary).not.toContain('NaN');
  });
});
