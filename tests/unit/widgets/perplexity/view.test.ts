import { describe, expect, it } from 'vitest';
import { cacheConfigOf, PRESET_IDS, PRESETS } from '../../../../src/widgets/perplexity/presets';
import { chartOptions, configMemory, KVLAB_DIMS, runningNll, seriesOf, STYLE, summaryText, tableRows } from '../../../../src/widgets/perplexity/view';

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
  // id, tokens, prefill, R, expected bits/element, expected total bytes (hand computed; fp32 residual, fp16 meta)
  ['fp32', 300, 1, 128, 32, 2 * 8 * 2 * 64 * 300 * 4],
  // int4 G64 per token: 4 + 32/64 = 4.5 bits. 300 tokens, prefill 1, 299 decoded, R 128 → residual 299 % 128 = 43.
  ['quanto-int4', 300, 1, 128, 4.5, 2 * 8 * 2 * 64 * ((300 - 43) * (0.5 + 4 / 64) + 43 * 4)],
  ['hqq-int2', 300, 1, 128, 2.5, 2 * 8 * 2 * 64 * ((300 - 43) * (0.25 + 4 / 64) + 43 * 4)],
  // R 0 → period 2: residual = 299 % 2 = 1.
  ['quanto-int8', 300, 1, 0, 8.5, 2 * 8 * 2 * 64 * (299 * (1 + 4 / 64) + 1 * 4)],
])('configMemory(%s, %i tokens, prefill %i, R %i)', (id, tokens, prefill, R, bpe, total) => {
  it('matches the hand computation', () => {
    const m = configMemory(id as (typeof PRESET_IDS)[number], KVLAB_DIMS, tokens, prefill, R);
    expect(m.bitsPerElement).toBeCloseTo(bpe, 9);
    expect(m.totalBytes).toBeCloseTo(total, 6);
    expect(m.fp32Bytes).toBe(2 * 8 * 2 * 64 * tokens * 4);
  });
});

describe('KIVI-style memory', () => {
  it('averages per-channel keys and per-token values (G32, 2 bits → 3 bits/element both ways when groups are full)', () => {
    // 257 tokens, prefill 1, R 128 → residual 0: 257 quantized; channel groups: ceil(257/32) = 9 groups per channel.
    const m = configMemory('kivi-int2', KVLAB_DIMS, 257, 1, 128);
    const perLayerHead = 64 * 257;
    const keyBytes = 8 * 2 * (perLayerHead * 0.25 + 9 * 64 * 4);
    const valBytes = 8 * 2 * (perLayerHead * 0.25 + (perLayerHead / 32) * 4);
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
    expect(summaryText(rows, { tokens: 300, prefillTokens: 1, residual: 128 })).toContain('after token 129');
    expect(summaryText(rows, { tokens: 100, prefillTokens: 1, residual: 128 })).toContain('never reaches');
    expect(summaryText([], { tokens: 0, prefillTokens: 1, residual: 128 })).toMatch(/^The first token is prefilled/);
  });
  it('every preset has its own colour and dash, and maps to a worker cache config', () => {
    expect(new Set(PRESET_IDS.map((i) => STYLE[i].colour)).size).toBe(PRESET_IDS.length);
    expect(new Set(PRESET_IDS.map((i) => STYLE[i].dash)).size).toBe(PRESET_IDS.length);
    expect(cacheConfigOf('fp32', 128)).toEqual({ kind: 'exact', label: PRESETS.fp32.label });
    expect(cacheConfigOf('kivi-int2', 64)).toEqual({ kind: 'quantized', label: PRESETS['kivi-int2'].label, key: { bits: 2, groupSize: 32, axis: 'channel', method: 'minmax' }, value: { bits: 2, groupSize: 32, axis: 'token', method: 'minmax' }, residualLength: 64 });
    const opts = chartOptions([seriesOf('fp32', [-1, -2], 1)], { width: 600, prefillTokens: 1, residual: 128, tokens: 300 });
    expect(opts.ariaLabel).toMatch(/running log-perplexity/);
  });
});
