/**
 * Pure computations and Plot options of the attention widget (no DOM). Every number shown comes
 * from `attentionImpact` in src/lib/quant on the model's exported (post-RoPE) queries, causal.
 */
import * as Plot from '@observablehq/plot';
import { attentionImpact, type AttentionImpact, type KVTensor } from '../../lib/quant/index';
import { colour } from '../shared/palette';

/** Grouped-query attention: the KV head a query head reads (transformers `repeat_kv`). */
export function kvHeadOf(head: number, heads: number, kvHeads: number): number {
  return Math.floor(head / (heads / kvHeads));
}

/** The query token index: -1 or anything past the end means the last token; clamped to [0, tokens-1]. */
export function resolveQuery(query: number, tokens: number): number {
  if (query < 0 || query >= tokens) return tokens - 1;
  return query;
}

/** The first `n` tokens of every head of `t` (a view when n = tokens, else a copy into `out` when big enough). */
export function prefixTokens(t: KVTensor, n: number, out?: Float32Array): KVTensor {
  if (n === t.tokens) return t;
  const { heads, headDim } = t;
  const len = heads * n * headDim;
  const data = out && out.length >= len ? out.subarray(0, len) : new Float32Array(len);
  for (let h = 0; h < heads; h++) data.set(t.data.subarray(h * t.tokens * headDim, (h * t.tokens + n) * headDim), h * n * headDim);
  return { data, heads, tokens: n, headDim };
}

/** One query token of every query head: `[heads, 1, headDim]`. */
export function queryAt(q: KVTensor, index: number): KVTensor {
  const { heads, headDim, tokens } = q;
  const data = new Float32Array(heads * headDim);
  for (let h = 0; h < heads; h++)
    data.set(q.data.subarray((h * tokens + index) * headDim, (h * tokens + index + 1) * headDim), h * headDim);
  return { data, heads, tokens: 1, headDim };
}

export interface AttentionInputs {
  /** Queries of the layer, `[heads, tokens, headDim]`. */
  q: KVTensor;
  k: KVTensor;
  v: KVTensor;
  /** Dequantized keys and values of the whole layer (same shape as k, v). */
  kHat: Float32Array;
  vHat: Float32Array;
  /** Query token index (already resolved). */
  query: number;
  /** Query head. */
  head: number;
  scratch?: { k: Float32Array; v: Float32Array; kHat: Float32Array; vHat: Float32Array };
}

export interface AttentionView {
  impact: AttentionImpact;
  head: { kl: number; tv: number; outputRelError: number };
  layer: { kl: number; tv: number; outputRelError: number };
  /** Attention of the chosen head over tokens 0..query, reference and quantized. */
  ref: Float64Array;
  hat: Float64Array;
}

/** Attention of token `query` over tokens 0…query, with original and quantized K/V (causal, one query row). */
export function computeAttention(x: AttentionInputs): AttentionView {
  const n = x.query + 1;
  const kvTok = x.k.tokens;
  const k = prefixTokens(x.k, n, x.scratch?.k);
  const v = prefixTokens(x.v, n, x.scratch?.v);
  const kHat = n === kvTok ? x.kHat : prefixTokens({ ...x.k, data: x.kHat }, n, x.scratch?.kHat).data;
  const vHat = n === kvTok ? x.vHat : prefixTokens({ ...x.v, data: x.vHat }, n, x.scratch?.vHat).data;
  const q = queryAt(x.q, x.query);
  const impact = attentionImpact(q, k, kHat, v, vHat, { kvHeads: x.k.heads, queryHeads: x.q.heads, causal: true });
  return {
    impact,
    head: { kl: impact.perHead.kl[x.head], tv: impact.perHead.tv[x.head], outputRelError: impact.perHead.outputRelError[x.head] },
    layer: { kl: impact.kl, tv: impact.tv, outputRelError: impact.outputRelError },
    ref: impact.probsRef![x.head],
    hat: impact.probsHat![x.head],
  };
}

export interface TokenChange {
  index: number;
  token: string;
  ref: number;
  hat: number;
  /** hat − ref (positive: gained attention). */
  delta: number;
}

/** The `n` tokens that gained and lost the most attention (largest |Δ| of each sign). */
export function topChanges(
  ref: ArrayLike<number>,
  hat: ArrayLike<number>,
  tokens: readonly string[],
  n = 5,
): { gained: TokenChange[]; lost: TokenChange[] } {
  const all: TokenChange[] = [];
  for (let i = 0; i < ref.length; i++)
    all.push({ index: i, token: tokens[i] ?? `#${i}`, ref: ref[i], hat: hat[i], delta: hat[i] - ref[i] });
  const gained = all
    .filter((c) => c.delta > 0)
    .sort((a, b) => b.delta - a.delta || a.index - b.index)
    .slice(0, n);
  const lost = all
    .filter((c) => c.delta < 0)
    .sort((a, b) => a.delta - b.delta || a.index - b.index)
    .slice(0, n);
  return { gained, lost };
}

/** A token as readable text: leading spaces shown as "·", newlines as "⏎". */
export function showToken(t: string): string {
  return t.replace(/\n/g, '⏎').replace(/^ /, '·') || '∅';
}

export interface BarDatum {
  i: number;
  token: string;
  p: number;
}

export function barData(p: ArrayLike<number>, tokens: readonly string[]): BarDatum[] {
  const out: BarDatum[] = new Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = { i, token: showToken(tokens[i] ?? ''), p: p[i] };
  return out;
}

const margins = { marginLeft: 52, marginRight: 12 };

/** One stepped area of a chart: a value per past token, its colour, and an optional clamp before scaling. */
export interface AreaSeries {
  values: ArrayLike<number>;
  fill: string;
  /** Maps a value before scaling (the difference chart's positive and negative halves). */
  clamp?: (v: number) => number;
}

/** d3-path's default rounding (3 decimals), so the path text matches d3's to the byte. */
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The path of a stepped area over every token: exactly the `d` that d3's `area().curve(curveStep)` writes for
 * x = x(i), y0 = y(0), y1 = y(value), which is what `Plot.areaY(data, {x: 'i', y: 'p', curve: 'step'})` draws
 * (stacked from zero); the unit tests compare the two on random data. Written out here because d3's generator
 * took ~0.3 ms an area at 1,024 tokens (point, lineTo, rounding through tagged templates); this reuses each
 * step's x text for the top and the baseline.
 */
export function stepAreaPath(s: AreaSeries, x: (v: number) => number, y: (v: number) => number): string {
  const { values, clamp } = s;
  const n = values.length;
  if (n === 0) return '';
  const y0 = `,${round3(y(0))}`;
  const yText = (i: number) => `,${round3(y(clamp ? clamp(values[i]) : values[i]))}`;
  // Top edge, left to right: M x0,y0' then, per step, L mid,prev L mid,next; then the last point.
  const mids = new Array<string>(n);
  let prevX = x(0);
  let prevY = yText(0);
  let d = `M${round3(prevX)}${prevY}`;
  for (let i = 1; i < n; i++) {
    const xi = x(i);
    const mid = `L${round3(prevX * 0.5 + xi * 0.5)}`;
    mids[i] = mid;
    const yi = yText(i);
    d += mid + prevY + mid + yi;
    prevX = xi;
    prevY = yi;
  }
  const lastX = `L${round3(prevX)}`;
  if (n > 1) d += lastX + prevY;
  // Baseline, right to left, through the same midpoints (curveStep keeps t = 0.5 on the way back), then close.
  d += lastX + y0;
  for (let i = n - 1; i > 0; i--) d += mids[i] + y0 + mids[i] + y0;
  if (n > 1) d += `L${round3(x(0))}${y0}`;
  return d + 'Z';
}

/**
 * A stepped area over every token as ONE path: the same geometry and markup (`<g aria-label="area"
 * aria-hidden="true" fill=…><path d=…>`) as Plot.areaY with curve "step", without Plot's per-datum channel, stack
 * and grouping work (about 1 ms a chart at 1,024 tokens, measured). Dense data outside Plot's generic marks,
 * Plot for axes, as the heatmaps do.
 */
export function stepArea(s: AreaSeries): Plot.RenderFunction {
  return (_index, scales, _values, _dimensions, context) => {
    const x = scales.x as (v: number) => number;
    const y = scales.y as (v: number) => number;
    const doc = context.document;
    const g = doc.createElementNS('http://www.w3.org/2000/svg', 'g');
    g.setAttribute('aria-label', 'area');
    g.setAttribute('aria-hidden', 'true');
    g.setAttribute('fill', s.fill);
    const path = doc.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', stepAreaPath(s, x, y));
    g.append(path);
    return g;
  };
}

const positive = (v: number) => Math.max(0, v);
const negative = (v: number) => Math.min(0, v);

export interface SeriesInput {
  /** One value per past token (attention probability, or its change). */
  values: ArrayLike<number>;
  tokens: readonly string[];
  width: number;
  /**
   * Include the hover tip (Plot.tip with pointerX over every token). The widget renders charts without it on
   * every slider move and adds it when a pointer first comes over the chart (the tip's per-token data and titles
   * cost about 0.5 ms a chart at 1,024 tokens, measured; see chart.ts).
   */
  tip?: boolean;
}

/**
 * One attention strip: a single stepped area (one path, not one rect per token, so 1,024 tokens redraw in a
 * few milliseconds); both strips share x and y domains so they align. Hover shows the token (tip), the table lists all.
 */
export function attentionChartOptions(o: AttentionChartInput): Plot.PlotOptions {
  const n = o.values.length;
  return {
    width: o.width,
    height: 130,
    ...margins,
    ariaLabel: o.label,
    x: { domain: [-0.5, n - 0.5], label: 'Past token (index)', grid: false },
    y: { domain: [0, o.yMax], label: o.title, grid: true, ticks: 3 },
    marks: [
      stepArea({ values: o.values, fill: o.fill }),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      o.tip
        ? Plot.tip(
            barData(o.values, o.tokens),
            Plot.pointerX({
              x: 'i',
              y: 'p',
              title: (d: BarDatum) => `#${d.i} “${d.token}”: ${(d.p * 100).toFixed(2)} %`,
              ariaHidden: 'true',
            }) as Plot.TipOptions,
          )
        : null,
    ],
  };
}

type AttentionChartInput = SeriesInput & { yMax: number; title: string; fill: string; label: string };

export const GAIN_COLOUR = colour('gain');
export const LOSS_COLOUR = colour('loss');

const diffAreas = (values: ArrayLike<number>): AreaSeries[] => [
  { values, fill: GAIN_COLOUR, clamp: positive },
  { values, fill: LOSS_COLOUR, clamp: negative },
];

/** The difference chart's y extent m (domain [−m, m]): the largest |Δ|, or 1e-6 when nothing changed. */
function diffExtent(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m || 1e-6;
}

/** Difference quantized − original as two stepped areas: red above zero (gained), blue below (lost), like the diverging strip. */
export function diffChartOptions(o: SeriesInput): Plot.PlotOptions {
  const n = o.values.length;
  const m = diffExtent(o.values);
  return {
    width: o.width,
    height: 130,
    ...margins,
    ariaLabel:
      'Difference of attention, quantized minus original, per past token: red areas above zero gained attention, blue areas below lost it.',
    x: { domain: [-0.5, n - 0.5], label: 'Past token (index)' },
    y: {
      domain: [-m, m],
      label: 'Δ attention',
      grid: true,
      ticks: 3,
      tickFormat: (v: number) => `${(v * 100).toFixed(Math.abs(m) < 0.01 ? 2 : 1)}%`,
    },
    marks: [
      ...diffAreas(o.values).map(stepArea),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      o.tip
        ? Plot.tip(
            barData(o.values, o.tokens),
            Plot.pointerX({
              x: 'i',
              y: 'p',
              title: (d: BarDatum) => `#${d.i} “${d.token}”: ${d.p >= 0 ? '+' : ''}${(d.p * 100).toFixed(3)} points`,
              ariaHidden: 'true',
            }) as Plot.TipOptions,
          )
        : null,
    ],
  };
}

/**
 * A chart as the widget redraws it: `options(tip)` for Plot; `axes`, a key of everything but the areas' values
 * and the SVG's aria-label (domains, width, titles, colours), so that a redraw that changes only the values can
 * replace the area paths of the chart already drawn (same scales, so the same markup a new plot would have).
 */
export interface ChartSpec {
  axes: string;
  /** The tokens named in the tip. */
  tokens: readonly string[];
  areas: AreaSeries[];
  ariaLabel: string;
  options: (tip: boolean) => Plot.PlotOptions;
}

export function attentionChart(o: Omit<AttentionChartInput, 'tip'>): ChartSpec {
  return {
    axes: JSON.stringify(['attention', o.values.length, o.yMax, o.width, o.title, o.fill]),
    tokens: o.tokens,
    areas: [{ values: o.values, fill: o.fill }],
    ariaLabel: o.label,
    options: (tip) => attentionChartOptions({ ...o, tip }),
  };
}

export function diffChart(o: Omit<SeriesInput, 'tip'>): ChartSpec {
  const options = (tip: boolean) => diffChartOptions({ ...o, tip });
  return {
    axes: JSON.stringify(['diff', o.values.length, diffExtent(o.values), o.width]),
    tokens: o.tokens,
    areas: diffAreas(o.values),
    ariaLabel: options(false).ariaLabel!,
    options,
  };
}

export const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)} %`;
export const num = (x: number) => (x === 0 ? '0' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3));

/** The chart summary in words (key numbers, most changed tokens). */
export function summaryText(o: {
  head: number;
  kvHead: number;
  layer: number;
  query: number;
  queryToken: string;
  view: AttentionView;
  changes: { gained: TokenChange[]; lost: TokenChange[] };
  quant: string;
}): string {
  const { view: v } = o;
  const peakRef = argmax(v.ref);
  const peakHat = argmax(v.hat);
  const g = o.changes.gained[0];
  const l = o.changes.lost[0];
  return (
    `Query head ${o.head} (KV head ${o.kvHead}) of layer ${o.layer}, token #${o.query} “${showToken(o.queryToken)}”, attends most to token #${peakRef} (${pct(v.ref[peakRef], 1)}) with the original keys` +
    (peakHat === peakRef
      ? ` and still to #${peakHat} (${pct(v.hat[peakHat], 1)}) with ${o.quant}. `
      : `, but to #${peakHat} (${pct(v.hat[peakHat], 1)}) with ${o.quant}. `) +
    `KL divergence ${num(v.head.kl)} nats, total variation ${pct(v.head.tv)}, attention-output error ${pct(v.head.outputRelError)} ` +
    `(layer average over all query heads: KL ${num(v.layer.kl)}, TV ${pct(v.layer.tv)}, output error ${pct(v.layer.outputRelError)}).` +
    (g ? ` Largest gain: #${g.index} “${showToken(g.token)}” (+${(g.delta * 100).toFixed(2)} points).` : '') +
    (l ? ` Largest loss: #${l.index} “${showToken(l.token)}” (${(l.delta * 100).toFixed(2)} points).` : '')
  );
}

function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}
