/** Plot options for the memory calculator (pure: data and state in, options out). */
import * as Plot from '@observablehq/plot';
import { GB, growthCurve, type MemorySummary } from './model';
import type { MemoryState } from './state';
import { colour } from '../shared/palette';

/** The widget's error red (widget.css --w-error: #b3261e light, #ffb4ab dark), readable on both backgrounds. */
const GPU_RED = 'var(--w-error, #b3261e)';

/**
 * The GPU line: the memory the cache can use, i.e. the GPU's memory minus the fp16 weights
 * (summary.available), with its label. Null when nothing is left or the line would sit far above
 * the curves (more than 1.5× their top), where it would flatten them.
 */
export function gpuLine(
  s: Pick<MemoryState, 'gpu'>,
  summary: Pick<MemorySummary, 'available' | 'weights'>,
  curveMaxGb: number,
): { gb: number; label: string } | null {
  if (!(summary.available > 0) || summary.available / GB >= curveMaxGb * 1.5) return null;
  const gb = summary.available / GB;
  return {
    gb,
    label: summary.weights ? `${s.gpu} GB GPU − ${(summary.weights / GB).toFixed(1)} GB weights = ${gb.toFixed(1)} GB` : `${s.gpu} GB GPU`,
  };
}

/** The GPU line of the growth chart for this state (null when not drawn). */
export function gpuLineOf(s: MemoryState, summary: MemorySummary): { gb: number; label: string } | null {
  return gpuLine(s, summary, Math.max(...growthCurve(s).map((d) => d.gb)));
}

/** The summary's sentence about the GPU line: what it marks, or why it is not on the chart. */
export function gpuLineText(s: MemoryState, summary: MemorySummary): string {
  if (!(summary.available > 0)) return '';
  const line = gpuLineOf(s, summary);
  const gb = (summary.available / GB).toFixed(1);
  if (line)
    return summary.weights
      ? ` The dotted red line at ${gb} GB marks what the ${s.gpu} GB GPU leaves for the cache after ${(summary.weights / GB).toFixed(1)} GB of weights.`
      : ` The dotted red line at ${gb} GB marks the GPU's memory.`;
  return ` The chart leaves out the GPU line: the ${gb} GB ${summary.weights ? `the ${s.gpu} GB GPU leaves for the cache` : 'of the GPU'} lies far above the curves.`;
}

export function growthChartOptions(s: MemoryState, summary: MemorySummary, width: number): Plot.PlotOptions {
  const data = growthCurve(s);
  const series = [...new Set(data.map((d) => d.series))];
  const marks: Plot.Markish[] = [
    Plot.lineY(data, { x: 'tokens', y: 'gb', stroke: 'series', strokeWidth: 2, ariaHidden: 'true' } as Plot.LineYOptions),
    Plot.ruleX([s.tokens], { stroke: 'currentColor', strokeDasharray: '4,3', ariaHidden: 'true' } as Plot.RuleXOptions),
    Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
  ];
  const gpu = gpuLineOf(s, summary);
  if (gpu) {
    marks.push(
      Plot.ruleY([gpu.gb], { stroke: GPU_RED, strokeDasharray: '2,2', ariaHidden: 'true' } as Plot.RuleYOptions),
      Plot.text([gpu], {
        y: 'gb',
        text: 'label',
        frameAnchor: 'right',
        textAnchor: 'end',
        lineAnchor: 'bottom',
        dy: -3,
        dx: -2,
        fontSize: 11,
        fill: GPU_RED,
        stroke: 'var(--w-bg, white)',
        strokeWidth: 3,
        paintOrder: 'stroke',
        className: 'gpu-label',
        ariaHidden: 'true',
      } as Plot.TextOptions),
    );
  }
  return {
    width,
    height: 260,
    marginLeft: 56,
    ariaLabel: `Line chart of KV-cache memory in GB against context length for ${summary.arch.label}, batch ${s.batch}: fp16${s.bits === 16 ? '' : ` and ${s.bits}-bit`}. Dashed vertical line at ${s.tokens} tokens.${gpu ? ` Dotted red horizontal line: ${gpu.label}.` : ''}`,
    x: { label: 'Context length (tokens)', grid: true },
    y: { label: 'KV cache (GB)', grid: true },
    color: { domain: series, range: [colour('grey'), colour('blue')].slice(0, series.length), legend: true },
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
    color: {
      domain: ['payload', 'scales and zeros', 'residual (fp16)'],
      range: [colour('blue'), colour('orange'), colour('grey')],
      legend: true,
    },
    marks: [
      Plot.barX(rows, { x: 'gb', y: 'config', fill: 'part', ariaHidden: 'true' } as Plot.BarXOptions),
      Plot.ruleX([0], { ariaHidden: 'true' } as Plot.RuleXOptions),
    ],
  };
}
