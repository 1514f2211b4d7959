/**
 * The trade-off chart as pure functions (no DOM): Pareto frontier, the current
 * configuration, the summary sentence, table rows and the Plot options.
 * Numbers are the sweep's (src/lib/quant); nothing is recomputed here.
 */
import * as Plot from '@observablehq/plot';
import type { SweepPoint, TensorKind } from './sweep';
import type { TradeoffState } from './state';

export type Metric = 'tensor' | 'attention';

export const METHOD_LABEL: Record<string, string> = { minmax: 'min-max', hqq: 'HQQ', absmax: 'absmax' };
export const METHOD_COLOR: Record<string, string> = { minmax: '#0072b2', absmax: '#e69f00', hqq: '#009e73' };
export const METHOD_SYMBOL: Record<string, string> = { minmax: 'circle', absmax: 'triangle', hqq: 'square' };
const AXIS_LABEL = { token: 'per-token', channel: 'per-channel (KIVI)', strided: 'strided (HQQ axis 0)', 'flat-channel': 'per-channel rows (quanto axis −1)' } as const;

/** The error a metric shows for a point (null when the point lacks it). */
export function errorOf(p: SweepPoint, metric: Metric): number | null {
  return metric === 'attention' ? p.attnErr : p.relErr;
}

/** Points of one tensor that have the metric. */
export function panelPoints(points: readonly SweepPoint[], tensor: TensorKind, metric: Metric): SweepPoint[] {
  return points.filter((p) => p.tensor === tensor && errorOf(p, metric) !== null && Number.isFinite(errorOf(p, metric)!));
}

/**
 * Lower-left envelope: sorted by memory, a point is on the frontier when its error is below every
 * cheaper-or-equal point's (ties in memory: the lower error wins).
 */
export function paretoFrontier(points: readonly SweepPoint[], metric: Metric): SweepPoint[] {
  const sorted = [...points].sort((a, b) => a.bpe - b.bpe || errorOf(a, metric)! - errorOf(b, metric)!);
  const out: SweepPoint[] = [];
  let best = Infinity;
  for (const p of sorted) {
    const e = errorOf(p, metric)!;
    if (e < best) {
      out.push(p);
      best = e;
    }
  }
  return out;
}

export function describeConfig(p: Pick<SweepPoint, 'bits' | 'group' | 'axis' | 'method'>): string {
  return `${p.bits} bit${p.bits === 1 ? '' : 's'}, G${p.group}, ${AXIS_LABEL[p.axis]}, ${p.method}`;
}

export const pct = (e: number) => `${(e * 100).toFixed(e < 0.01 ? 2 : 1)} %`;
export const bpeText = (b: number) => `${Number(b.toFixed(3))} bits per element`;

/** The configuration the widget's bits/group/axis/method select for this tensor. */
export function currentConfig(s: Pick<TradeoffState, 'bits' | 'group' | 'kaxis' | 'vaxis' | 'method'>, tensor: TensorKind) {
  return { tensor, bits: s.bits, group: s.group, axis: tensor === 'k' ? s.kaxis : s.vaxis, method: s.method };
}

export function findPoint(points: readonly SweepPoint[], c: ReturnType<typeof currentConfig>): SweepPoint | undefined {
  return points.find((p) => p.tensor === c.tensor && p.bits === c.bits && p.group === c.group && p.axis === c.axis && p.method === c.method);
}

/** The cheapest point (fewest bits per element; then lowest error) with error under `limit`. */
export function cheapestUnder(points: readonly SweepPoint[], metric: Metric, limit: number): SweepPoint | undefined {
  let best: SweepPoint | undefined;
  for (const p of points) {
    const e = errorOf(p, metric);
    if (e === null || !(e < limit)) continue;
    if (!best || p.bpe < best.bpe || (p.bpe === best.bpe && e < errorOf(best, metric)!)) best = p;
  }
  return best;
}

const TENSOR_WORD = { k: 'key', v: 'value' } as const;

/** "Cheapest configuration under 5 % key error: 4 bits, G64, per-channel, minmax (4.5 bits per element)". */
export function summaryText(points: readonly SweepPoint[], tensor: TensorKind, metric: Metric, current: SweepPoint | undefined, limit = 0.05): string {
  const what = metric === 'attention' ? `attention-output error from quantized ${TENSOR_WORD[tensor]}s` : `${TENSOR_WORD[tensor]} error`;
  const best = cheapestUnder(points, metric, limit);
  const first = best
    ? `Cheapest configuration under ${pct(limit).replace('.0 ', ' ')} ${what}: ${describeConfig(best)} (${bpeText(best.bpe)}, error ${pct(errorOf(best, metric)!)}).`
    : `No configuration stays under ${pct(limit).replace('.0 ', ' ')} ${what}.`;
  const cur = current && errorOf(current, metric) !== null ? ` Current configuration: ${describeConfig(current)}, ${bpeText(current.bpe)}, error ${pct(errorOf(current, metric)!)}.` : '';
  return first + cur;
}

/** Table: every point sorted by memory, with a Pareto column. */
export function tableRows(points: readonly SweepPoint[], metric: Metric): Array<Array<string | number>> {
  const front = new Set(paretoFrontier(points, metric));
  return [...points]
    .sort((a, b) => a.bpe - b.bpe || errorOf(a, metric)! - errorOf(b, metric)!)
    .map((p) => [p.bits, p.group, AXIS_LABEL[p.axis], p.method, Number(p.bpe.toFixed(4)), pct(errorOf(p, metric)!), front.has(p) ? 'yes' : '']);
}

export function chartOptions(points: readonly SweepPoint[], metric: Metric, tensor: TensorKind, current: SweepPoint | undefined, focused: SweepPoint | undefined, width: number): Plot.PlotOptions {
  const front = paretoFrontier(points, metric);
  const y = (p: SweepPoint) => Math.max(1e-6, errorOf(p, metric)!);
  const methods = [...new Set(points.map((p) => p.method))];
  const marks: Plot.Markish[] = [
    Plot.line(front, { x: 'bpe', y, curve: 'step-after', stroke: 'currentColor', strokeOpacity: 0.6, strokeWidth: 1.5, ariaHidden: 'true' } as Plot.LineOptions),
    Plot.dot(points, { x: 'bpe', y, stroke: (p: SweepPoint) => p.method, symbol: (p: SweepPoint) => p.method, r: 3.5, strokeWidth: 1.5, ariaHidden: 'true' } as Plot.DotOptions),
    Plot.tip(points, Plot.pointer({ x: 'bpe', y, title: (p: SweepPoint) => `${describeConfig(p)}\n${bpeText(p.bpe)}\nerror ${pct(errorOf(p, metric)!)}`, ariaHidden: 'true' } as Plot.TipOptions)),
  ];
  if (current) {
    marks.push(
      Plot.dot([current], { x: 'bpe', y, r: 9, stroke: 'currentColor', strokeWidth: 2.5, ariaHidden: 'true' } as Plot.DotOptions),
      // On narrow charts (phones) a label beside the ring would run off the edge: pin it to the
      // frame's top-right corner, where high-bit, low-error points never are.
      width < 520
        ? Plot.text([current], { frameAnchor: 'top-right', text: () => `current: ${describeConfig(current)}`, dy: 4, dx: -4, fontWeight: 600, stroke: 'var(--w-bg, white)', strokeWidth: 4, fill: 'currentColor', paintOrder: 'stroke', textAnchor: 'end', ariaHidden: 'true' } as Plot.TextOptions)
        : Plot.text([current], { x: 'bpe', y, text: () => `current: ${describeConfig(current)}`, dy: -16, fontWeight: 600, stroke: 'var(--w-bg, white)', strokeWidth: 4, fill: 'currentColor', paintOrder: 'stroke', textAnchor: current.bpe > 8 ? 'end' : 'start', ariaHidden: 'true' } as Plot.TextOptions),
    );
  }
  if (focused) {
    marks.push(Plot.tip([focused], { x: 'bpe', y, title: () => `${describeConfig(focused)}\n${bpeText(focused.bpe)}\nerror ${pct(errorOf(focused, metric)!)}`, ariaHidden: 'true' } as Plot.TipOptions));
  }
  const yLabel = metric === 'attention' ? 'Attention-output relative error (log)' : `Relative error of ${tensor === 'k' ? 'keys' : 'values'} (log)`;
  return {
    width,
    height: 380,
    marginLeft: 56,
    ariaLabel: `Scatter plot of ${points.length} quantization configurations for the ${tensor === 'k' ? 'keys' : 'values'}: memory in bits per element against ${metric === 'attention' ? 'attention-output' : 'relative'} error on a log scale, with the Pareto frontier as a step line${current ? ` and the current configuration ringed` : ''}.`,
    x: { label: 'Memory (bits per element, incl. fp16 scale and zero)', grid: true, type: 'log', ticks: [1, 2, 3, 4, 6, 8, 12] },
    y: { label: yLabel, type: 'log', grid: true, tickFormat: (d: number) => pct(d).replace(' ', '') },
    color: { domain: methods, range: methods.map((m) => METHOD_COLOR[m]) },
    symbol: { domain: methods, range: methods.map((m) => METHOD_SYMBOL[m]), legend: true, tickFormat: (m: string) => METHOD_LABEL[m] ?? m },
    marks,
  };
}
