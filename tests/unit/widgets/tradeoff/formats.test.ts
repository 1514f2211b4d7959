/**
 * Engine formats on the trade-off chart: the points' error and bits per element against quantizeFormat called here
 * on every layer (float64 sums), the attention error against attentionImpact, the mark families (shape and colour
 * distinct), and the table/summary rows.
 */
import { describe, expect, it } from 'vitest';
import { attentionImpact, ENGINE_FORMATS, quantizeFormat, type KVTensor } from '../../../../src/lib/quant/index';
import {
  familyOf,
  formatConfigs,
  lastQueries,
  makeFormatEvaluator,
  type FormatPoint,
  type SweepPoint,
} from '../../../../src/widgets/tradeoff/sweep';
import {
  chartOptions,
  formatSummaryText,
  METHOD_COLOR,
  METHOD_SYMBOL,
  panelFormats,
  tableRows,
} from '../../../../src/widgets/tradeoff/view';

function tensor(heads: number, tokens: number, headDim: number, seed: number, outliers = false): KVTensor {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) data[i] = rnd() * (outliers && i % headDim < 3 ? 6 : 1);
  return { data, heads, tokens, headDim };
}

const L = 2;
const input = {
  keys: Array.from({ length: L }, (_, l) => tensor(2, 32, 64, 11 + l, true)),
  values: Array.from({ length: L }, (_, l) => tensor(2, 32, 64, 101 + l)),
  queries: Array.from({ length: L }, (_, l) => tensor(6, 32, 64, 1001 + l)),
};

describe('formatConfigs', () => {
  it('every engine format for K and V; llama.cpp types with and without rotation; FP8 E4M3 with scale 1 and calc_kv_scales', () => {
    const cs = formatConfigs();
    for (const f of ENGINE_FORMATS) expect(cs.some((c) => c.format === f.id && c.tensor === 'k')).toBe(true);
    expect(
      cs
        .filter((c) => c.format === 'q4_0')
        .map((c) => `${c.tensor}${c.hadamard}`)
        .sort(),
    ).toEqual(['kfalse', 'ktrue', 'vfalse', 'vtrue']);
    expect(cs.find((c) => c.tensor === 'k' && c.scale?.startsWith('dynamic'))?.scale).toBe('dynamic-k');
    expect(cs.find((c) => c.tensor === 'v' && c.scale?.startsWith('dynamic'))?.scale).toBe('dynamic-v');
    expect(cs.filter((c) => c.hadamard).every((c) => !c.format.startsWith('fp8') && c.format !== 'nvfp4')).toBe(true);
  });
});

describe('makeFormatEvaluator', () => {
  const evaluate = makeFormatEvaluator(input);
  it.each(['q4_0', 'nvfp4', 'fp8_e5m2', 'iq4_nl'] as const)(
    '%s on keys: ‖x − x̂‖/‖x‖ over both layers, stored bits per element, attention error',
    (format) => {
      const p = evaluate({ tensor: 'k', format, hadamard: false });
      let e = 0;
      let s = 0;
      let attn = 0;
      for (let l = 0; l < L; l++) {
        const dq = quantizeFormat(input.keys[l], format).dequantized;
        for (let i = 0; i < dq.length; i++) {
          e += (input.keys[l].data[i] - dq[i]) ** 2;
          s += input.keys[l].data[i] ** 2;
        }
        attn += attentionImpact(lastQueries(input.queries[l]), input.keys[l], dq, input.values[l], input.values[l].data).outputRelError;
      }
      expect(p.relErr).toBeCloseTo(Math.sqrt(e / s), 12);
      expect(p.attnErr).toBeCloseTo(attn / L, 12);
      expect(p.bpe).toBe({ q4_0: 4.5, nvfp4: 4.5, fp8_e5m2: 8, iq4_nl: 4.5 }[format]);
    },
  );

  it('more bits, less error: q8_0 < q5_1 < q4_0 on the keys', () => {
    const err = (format: 'q8_0' | 'q5_1' | 'q4_0') => evaluate({ tensor: 'k', format, hadamard: false }).relErr;
    expect(err('q8_0')).toBeLessThan(err('q5_1'));
    expect(err('q5_1')).toBeLessThan(err('q4_0'));
  });
});

describe('chart and table', () => {
  const evaluate = makeFormatEvaluator({ ...input, queries: null });
  const formats: FormatPoint[] = formatConfigs(['k']).map(evaluate);
  const transformers: SweepPoint[] = [
    { tensor: 'k', bits: 2, group: 32, axis: 'channel', method: 'minmax', bpe: 3, relErr: 0.2, attnErr: null, ms: 0 },
  ];

  it('each family has its own shape and colour, distinct from the Transformers methods', () => {
    const fams = [...new Set(formats.map((f) => familyOf(f)))];
    expect(fams.sort()).toEqual(['fp8', 'ggml', 'ggml-rot', 'nvfp4']);
    const all = ['minmax', 'absmax', 'hqq', ...fams];
    expect(new Set(all.map((m) => METHOD_SYMBOL[m])).size).toBe(all.length);
    expect(new Set(all.map((m) => METHOD_COLOR[m])).size).toBe(all.length);
    const o = chartOptions(transformers, 'tensor', 'k', undefined, undefined, 640, formats);
    expect((o.symbol as { domain: string[] }).domain).toEqual([
      'minmax',
      ...fams.sort((a, b) => formats.findIndex((f) => f.family === a) - formats.findIndex((f) => f.family === b)),
    ]);
    expect((o.symbol as { legend: boolean }).legend).toBe(true);
  });

  it('table: one row per format, sorted by bits per element, with its label and error', () => {
    const rows = tableRows(transformers, 'tensor', formats);
    expect(rows).toHaveLength(1 + formats.length);
    const bpes = rows.map((r) => r[4] as number);
    expect([...bpes].sort((a, b) => a - b)).toEqual(bpes);
    const q4 = formats.find((f) => f.format === 'q4_0' && !f.hadamard)!;
    expect(rows.find((r) => r[3] === 'llama.cpp: Q4_0')).toEqual([
      4,
      32,
      'per-token blocks',
      'llama.cpp: Q4_0',
      4.5,
      `${(q4.relErr * 100).toFixed(q4.relErr < 0.01 ? 2 : 1)} %`,
      '',
    ]);
  });

  it('summary names every format and KIVI-2', () => {
    const text = formatSummaryText(panelFormats(formats, 'k', 'tensor'), transformers, 'k', 'tensor');
    for (const f of formats) expect(text).toContain(f.label);
    expect(text).toContain('KIVI-2 (2 bits, G32, per-channel (KIVI), minmax): 3 bits, 20.0 %');
  });
});
