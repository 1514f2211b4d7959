/** Plot options for the memory calculator (pure: data and state in, options out). */
import * as Plot from '@observablehq/plot';
import { GB, growthCurve, type MemorySummary } from './model';
import type { MemoryState } from './state';

export function growthChartOptions(s: MemoryState, summary: MemorySummary, width: number): Plot.PlotOptions {
  const data = growthCurve(s);
  const series = [...new Set(data.map((d) => d.series))];
  const marks: Plot.Markish[] = [
    Plot.lineY(data, { x: 'tokens', y: 'gb', stroke: 'series', strokeWidth: 2, ariaHidden: 'true' } as Plot.LineYOptions),
    Plot.ruleX([s.tokens], { stroke: 'currentColor', strokeDasharray: '4,3', ariaHidden: 'true' } as Plot.RuleXOptions),
    Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
  ];
  if (summary.available > 0 && summary.available / GB < Math.max(...data.map((d) => d.gb)) * 1.5) {
    marks.push(
      Plot.ruleY([summary.available / GB], { stroke: '#b3261e', strokeDasharray: '2,2', ariaHidden: 'true' } as Plot.RuleYOptions),
    );
  }
  return {
    width,
    height: 260,
    marginLeft: 56,
    ariaLabel: `Line chart of KV-cache memory in GB against context length for ${summary.arch.label}, batch ${s.batch}: fp16${s.bits === 16 ? '' : ` and ${s.bits}-bit`}. Dashed vertical line at ${s.tokens} tokens.`,
    x: { label: 'Context length (tokens)', grid: true },
    y: { label: 'KV cache (GB)', grid: true },
    color: { domain: series, range: ['#6b6b6b', '#0b57d0'].slice(0, series.length), legend: true },
    marks,
  };
}

export interface BarDatum {
  part: string;
  gb: number;
  config: string;
}

/** Stacked bar parts (payload, scales/zeros, residual) for fp16 and the chosen bits. */
export function breakdown(summary: MemorySummary, s: MemoryState): BarDatum[] {
  const q = summary.quant;
  const label = s.bits === 16 ? 'fp16' : `int${s.bits}`;
  const rows: BarDatum[] = [{ part: 'payload', gb: summary.fp16.total / GB, config: 'fp16' }];
  if (s.bits !== 16) {
    rows.push(
      { part: 'payload', gb: q.payload / GB, config: label },
      { part: 'scales and zeros', gb: q.meta / GB, config: label },
      { part: 'residual (fp16)', gb: q.residual / GB, config: label },
    );
  }
  return rows;
}

export function breakdownOptions(rows: BarDatum[], width: number): Plot.PlotOptions {
  return {
    width,
    height: 120,
    marginLeft: 56,
    ariaLabel: 'Stacked bars: memory of the fp16 cache and of the quantized cache, split into payload, scales and zeros, and residual',
    x: { label: 'GB', grid: true },
    y: { label: null },
    color: { domain: ['payload', 'scales and zeros', 'residual (fp16)'], range: ['#0b57d0', '#e8a33d', '#6b6b6b'], legend: true },
    marks: [
      Plot.barX(rows, { x: 'gb', y: 'config', fill: 'part', ariaHidden: 'true' } as Plot.BarXOptions),
      Plot.ruleX([0], { ariaHidden: 'true' } as Plot.RuleXOptions),
    ],
  };
}
