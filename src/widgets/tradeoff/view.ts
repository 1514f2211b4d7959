/**
 * The trade-off chart as pure functions (no DOM): Pareto frontier, the current
 * configuration, the summary sentence, table rows and the Plot options.
 * Numbers are the sweep's (src/lib/quant); nothing is recomputed here.
 */
import * as Plot from '@observablehq/plot';
import type { FormatPoint, SweepPoint, TensorKind } from './sweep';
import type { TradeoffState } from './state';
import { colour } from '../shared/palette';

export type Metric = 'tensor' | 'attention';

/**
 * Legend labels, colours and shapes of the Transformers methods and the engine-format families.
 * Colours: Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), min-max (blue)
 * and HQQ (vermillion) at opposite ends since their points crowd the same region; the shape stays
 * a second cue for each method. Each colour is a light/dark pair (widget.css `--kv-c-method-*`, named in
 * ../shared/palette), darker on the light background and lighter on the dark one, so marks keep 3:1 (WCAG SC 1.4.11).
 */
export const METHOD_LABEL: Record<string, string> = {
  minmax: 'min-max',
  hqq: 'HQQ',
  absmax: 'absmax',
  fp8: 'FP8 (vLLM/SGLang)',
  nvfp4: 'NVFP4 (vLLM)',
  ggml: 'llama.cpp',
  'ggml-rot': 'llama.cpp + Hadamard',
};
export const METHOD_COLOR: Record<string, string> = {
  minmax: colour('method-minmax'),
  absmax: colour('method-absmax'),
  hqq: colour('method-hqq'),
  fp8: colour('method-fp8'),
  nvfp4: colour('method-nvfp4'),
  ggml: colour('method-ggml'),
  'ggml-rot': colour('method-ggml-rot'),
};
export const METHOD_SYMBOL: Record<string, string> = {
  minmax: 'circle',
  absmax: 'triangle',
  hqq: 'square',
  fp8: 'diamond',
  nvfp4: 'star',
  ggml: 'cross',
  'ggml-rot': 'times',
};

/** KIVI-2 as the sweep has it: 2 bits, G32, keys per channel, values per token, min-max. */
export const KIVI2 = {
  k: { bits: 2, group: 32, axis: 'channel', method: 'minmax' },
  v: { bits: 2, group: 32, axis: 'token', method: 'minmax' },
} as const;

/** The engine formats of one tensor that have the metric. */
export function panelFormats(points: readonly FormatPoint[], tensor: TensorKind, metric: Metric): FormatPoint[] {
  return points.filter((p) => p.tensor === tensor && errorOf(p, metric) !== null && Number.isFinite(errorOf(p, metric)!));
}

/** One sentence per family's best-known formats: where q4_0, NVFP4, FP8 and KIVI-2 fall. */
export function formatSummaryText(
  formats: readonly FormatPoint[],
  points: readonly SweepPoint[],
  tensor: TensorKind,
  metric: Metric,
): string {
  if (!formats.length) return '';
  const kivi = points.find(
    (p) =>
      p.tensor === tensor &&
      p.bits === KIVI2[tensor].bits &&
      p.group === KIVI2[tensor].group &&
      p.axis === KIVI2[tensor].axis &&
      p.method === KIVI2[tensor].method,
  );
  const parts = [...formats]
    .sort((a, b) => a.bpe - b.bpe || errorOf(a, metric)! - errorOf(b, metric)!)
    .map((f) => `${f.label} ${Number(f.bpe.toFixed(3))} bits, ${pct(errorOf(f, metric)!)}`);
  const k =
    kivi && errorOf(kivi, metric) !== null
      ? ` KIVI-2 (${describeConfig(kivi)}): ${Number(kivi.bpe.toFixed(3))} bits, ${pct(errorOf(kivi, metric)!)}.`
      : '';
  return ` Serving-engine formats (bits per element as stored, error): ${parts.join('; ')}.${k}`;
}
const AXIS_LABEL = {
  token: 'per-token',
  channel: 'per-channel (KIVI)',
  strided: 'strided (HQQ axis 0)',
  'flat-channel': 'per-channel rows (quanto axis −1)',
} as const;

/** The error a metric shows for a point (null when the point lacks it). */
export function errorOf(p: Pick<SweepPoint, 'attnErr' | 'relErr'>, metric: Metric): number | null {
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
  return points.find(
    (p) => p.tensor === c.tensor && p.bits === c.bits && p.group === c.group && p.axis === c.axis && p.method === c.method,
  );
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
export function summaryText(
  points: readonly SweepPoint[],
  tensor: TensorKind,
  metric: Metric,
  current: SweepPoint | undefined,
  limit = 0.05,
): string {
  const what = metric === 'attention' ? `attention-output error from quantized ${TENSOR_WORD[tensor]}s` : `${TENSOR_WORD[tensor]} error`;
  const best = cheapestUnder(points, metric, limit);
  const first = best
    ? `Cheapest configuration under ${pct(limit).replace('.0 ', ' ')} ${what}: ${describeConfig(best)} (${bpeText(best.bpe)}, error ${pct(errorOf(best, metric)!)}).`
    : `No configuration stays under ${pct(limit).replace('.0 ', ' ')} ${what}.`;
  const cur =
    current && errorOf(current, metric) !== null
      ? ` Current configuration: ${describeConfig(current)}, ${bpeText(current.bpe)}, error ${pct(errorOf(current, metric)!)}.`
      : '';
  return first + cur;
}

/** Table: every point sorted by memory, with a Pareto column. */
export function tableRows(
  points: readonly SweepPoint[],
  metric: Metric,
  formats: readonly FormatPoint[] = [],
): Array<Array<string | number>> {
  const front = new Set(paretoFrontier(points, metric));
  const rows: Array<{ bpe: number; err: number; row: Array<string | number> }> = points.map((p) => ({
    bpe: p.bpe,
    err: errorOf(p, metric)!,
    row: [p.bits, p.group, AXIS_LABEL[p.axis], p.method, Number(p.bpe.toFixed(4)), pct(errorOf(p, metric)!), front.has(p) ? 'yes' : ''],
  }));
  // Engine formats: code bits, block size (— for a per-tensor scale), layout, the format, and no Pareto mark (the frontier is the Transformers sweep's).
  for (const f of formats) {
    const block = f.format.startsWith('fp8') ? '—' : f.format === 'nvfp4' ? 16 : 32;
    const code = f.format.startsWith('fp8') || f.format === 'q8_0' ? 8 : f.format.startsWith('q5') ? 5 : 4;
    rows.push({
      bpe: f.bpe,
      err: errorOf(f, metric)!,
      row: [
        code,
        block,
        block === '—' ? 'one scale per tensor' : 'per-token blocks',
        `${METHOD_LABEL[f.family]}: ${f.label}`,
        Number(f.bpe.toFixed(4)),
        pct(errorOf(f, metric)!),
        '',
      ],
    });
  }
  return rows.sort((a, b) => a.bpe - b.bpe || a.err - b.err).map((r) => r.row);
}

/**
 * One accessor for both the stroke and the symbol of every dot: Plot's dot mark
 * (@observablehq/plot 0.6.17 src/marks/dot.js) colours the symbol legend's swatches only when
 * the two channels are the same value; two separate functions give black swatches.
 */
const legendKey = (p: SweepPoint | FormatPoint): string => ('family' in p ? p.family : p.method);

/** The x ticks (bits per element) the chart labels; the x domain always reaches the outer ones. */
export const BPE_TICKS = [1, 2, 3, 4, 6, 8, 12];
const MARGIN_LEFT = 56;
/** Room for half of the last tick label ("12") and the end of the axis label arrow. */
const MARGIN_RIGHT = 24;

export function chartOptions(
  points: readonly SweepPoint[],
  metric: Metric,
  tensor: TensorKind,
  current: SweepPoint | undefined,
  focused: SweepPoint | undefined,
  width: number,
  formats: readonly FormatPoint[] = [],
): Plot.PlotOptions {
  const front = paretoFrontier(points, metric);
  const y = (p: Pick<SweepPoint, 'attnErr' | 'relErr'>) => Math.max(1e-6, errorOf(p, metric)!);
  const methods = [...new Set([...points.map((p) => p.method as string), ...formats.map((f) => f.family)])];
  const kivi = points.filter(
    (p) =>
      p.bits === KIVI2[tensor].bits &&
      p.group === KIVI2[tensor].group &&
      p.axis === KIVI2[tensor].axis &&
      p.method === KIVI2[tensor].method,
  );
  // labelled on the chart: the formats a reader compares (q4_0 with and without rotation, NVFP4, FP8 E4M3) and KIVI-2
  const labelled = formats.filter((f) => ['q4_0', 'nvfp4', 'q8_0'].includes(f.format) || (f.format === 'fp8_e4m3' && f.scale === 'unit'));
  const narrow = width < 520;
  const labelOnLeft = (f: FormatPoint) => f.format === 'nvfp4' || (narrow && f.bpe >= 6);
  // The x domain reaches the first and last tick, so the gridlines span the plot and no tick falls outside it.
  const bpes = [...points.map((p) => p.bpe), ...formats.map((f) => f.bpe)];
  const xDomain = [Math.min(BPE_TICKS[0], ...bpes), Math.max(BPE_TICKS[BPE_TICKS.length - 1], ...bpes)];
  const marks: Plot.Markish[] = [
    Plot.line(front, {
      x: 'bpe',
      y,
      curve: 'step-after',
      stroke: 'currentColor',
      strokeOpacity: 0.6,
      strokeWidth: 1.5,
      ariaHidden: 'true',
    } as Plot.LineOptions),
    Plot.dot(points, {
      x: 'bpe',
      y,
      stroke: legendKey,
      symbol: legendKey,
      r: 3.5,
      strokeWidth: 1.5,
      ariaHidden: 'true',
    } as Plot.DotOptions),
    Plot.dot(formats, {
      x: 'bpe',
      y,
      stroke: legendKey,
      symbol: legendKey,
      r: 5,
      strokeWidth: 2,
      ariaHidden: 'true',
    } as Plot.DotOptions),
    // NVFP4 sits at q4_0's 4.5 bits with a similar error: its label goes on the left so the two do not
    // overlap. On narrow charts (phones) the labels of 6 bits and up go on the left too: to their right
    // only about 45 px remain before the frame's edge, too little for "FP8 E4M3 (scale 1)".
    Plot.text(
      labelled.filter((f) => !labelOnLeft(f)),
      {
        x: 'bpe',
        y,
        text: 'label',
        dx: 8,
        textAnchor: 'start',
        fontSize: 10,
        stroke: 'var(--w-bg, white)',
        strokeWidth: 3,
        fill: 'currentColor',
        paintOrder: 'stroke',
        ariaHidden: 'true',
      } as Plot.TextOptions,
    ),
    Plot.text(labelled.filter(labelOnLeft), {
      x: 'bpe',
      y,
      text: 'label',
      dx: -8,
      textAnchor: 'end',
      fontSize: 10,
      stroke: 'var(--w-bg, white)',
      strokeWidth: 3,
      fill: 'currentColor',
      paintOrder: 'stroke',
      ariaHidden: 'true',
    } as Plot.TextOptions),
    Plot.text(kivi, {
      x: 'bpe',
      y,
      text: () => 'KIVI-2',
      dy: 12,
      fontSize: 10,
      stroke: 'var(--w-bg, white)',
      strokeWidth: 3,
      fill: 'currentColor',
      paintOrder: 'stroke',
      ariaHidden: 'true',
    } as Plot.TextOptions),
    Plot.tip(
      formats,
      Plot.pointer({
        x: 'bpe',
        y,
        title: (p: FormatPoint) => `${METHOD_LABEL[p.family]}: ${p.label}\n${bpeText(p.bpe)}\nerror ${pct(errorOf(p, metric)!)}`,
        ariaHidden: 'true',
      } as Plot.TipOptions),
    ),
    Plot.tip(
      points,
      Plot.pointer({
        x: 'bpe',
        y,
        title: (p: SweepPoint) => `${describeConfig(p)}\n${bpeText(p.bpe)}\nerror ${pct(errorOf(p, metric)!)}`,
        ariaHidden: 'true',
      } as Plot.TipOptions),
    ),
  ];
  if (current) {
    marks.push(
      Plot.dot([current], { x: 'bpe', y, r: 9, stroke: 'currentColor', strokeWidth: 2.5, ariaHidden: 'true' } as Plot.DotOptions),
      // On narrow charts (phones) a label beside the ring would run off the edge: pin it to the
      // frame's top-right corner, where high-bit, low-error points never are.
      narrow
        ? Plot.text([current], {
            frameAnchor: 'top-right',
            text: () => `current: ${describeConfig(current)}`,
            // wrapped to the frame's width (in ems of the 10 px text; bold runs wider than Plot's estimate)
            lineWidth: Math.floor((width - MARGIN_LEFT - MARGIN_RIGHT) / 10 / 1.15),
            lineAnchor: 'top',
            dy: 4,
            dx: -4,
            fontWeight: 600,
            stroke: 'var(--w-bg, white)',
            strokeWidth: 4,
            fill: 'currentColor',
            paintOrder: 'stroke',
            textAnchor: 'end',
            ariaHidden: 'true',
          } as Plot.TextOptions)
        : Plot.text([current], {
            x: 'bpe',
            y,
            text: () => `current: ${describeConfig(current)}`,
            dy: -16,
            fontWeight: 600,
            stroke: 'var(--w-bg, white)',
            strokeWidth: 4,
            fill: 'currentColor',
            paintOrder: 'stroke',
            textAnchor: current.bpe > 8 ? 'end' : 'start',
            ariaHidden: 'true',
          } as Plot.TextOptions),
    );
  }
  if (focused) {
    marks.push(
      Plot.tip([focused], {
        x: 'bpe',
        y,
        title: () => `${describeConfig(focused)}\n${bpeText(focused.bpe)}\nerror ${pct(errorOf(focused, metric)!)}`,
        ariaHidden: 'true',
      } as Plot.TipOptions),
    );
  }
  const yLabel =
    metric === 'attention' ? 'Attention-output relative error (log)' : `Relative error of ${tensor === 'k' ? 'keys' : 'values'} (log)`;
  return {
    width,
    height: 380,
    marginLeft: MARGIN_LEFT,
    marginRight: MARGIN_RIGHT,
    ariaLabel: `Scatter plot of ${points.length} quantization configurations${formats.length ? ` and ${formats.length} serving-engine formats` : ''} for the ${tensor === 'k' ? 'keys' : 'values'}: memory in bits per element against ${metric === 'attention' ? 'attention-output' : 'relative'} error on a log scale, with the Pareto frontier as a step line${current ? ` and the current configuration ringed` : ''}.`,
    x: {
      label: 'Memory (bits per element, incl. stored scales and zeros)',
      grid: true,
      type: 'log',
      domain: xDomain,
      ticks: BPE_TICKS,
    },
    y: { label: yLabel, type: 'log', grid: true, tickFormat: (d: number) => pct(d).replace(' ', '') },
    color: { domain: methods, range: methods.map((m) => METHOD_COLOR[m]) },
    symbol: { domain: methods, range: methods.map((m) => METHOD_SYMBOL[m]), legend: true, tickFormat: (m: string) => METHOD_LABEL[m] ?? m },
    marks,
  };
}
