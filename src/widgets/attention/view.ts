/**
 * Pure computations and Plot options of the attention widget (no DOM). Every number shown comes
 * from `attentionImpact` in src/lib/quant on the model's exported (post-RoPE) queries, causal.
 */
import * as Plot from '@observablehq/plot';
import { attentionImpact, type AttentionImpact, type KVTensor } from '../../lib/quant/index';

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
  for (let h = 0; h < heads; h++) data.set(q.data.subarray((h * tokens + index) * headDim, (h * tokens + index + 1) * headDim), h * headDim);
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
export function topChanges(ref: ArrayLike<number>, hat: ArrayLike<number>, tokens: readonly string[], n = 5): { gained: TokenChange[]; lost: TokenChange[] } {
  const all: TokenChange[] = [];
  for (let i = 0; i < ref.length; i++) all.push({ index: i, token: tokens[i] ?? `#${i}`, ref: ref[i], hat: hat[i], delta: hat[i] - ref[i] });
  const gained = all.filter((c) => c.delta > 0).sort((a, b) => b.delta - a.delta || a.index - b.index).slice(0, n);
  const lost = all.filter((c) => c.delta < 0).sort((a, b) => a.delta - b.delta || a.index - b.index).slice(0, n);
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

/**
 * One attention strip: a single stepped area (one path, not one rect per token, so 1,024 tokens redraw in a
 * few milliseconds); both strips share x and y domains so they align. Hover shows the token (tip), the table lists all.
 */
export function attentionChartOptions(o: { data: BarDatum[]; yMax: number; width: number; title: string; fill: string; label: string }): Plot.PlotOptions {
  const n = o.data.length;
  return {
    width: o.width,
    height: 130,
    ...margins,
    ariaLabel: o.label,
    x: { domain: [-0.5, n - 0.5], label: 'Past token (index)', grid: false },
    y: { domain: [0, o.yMax], label: o.title, grid: true, ticks: 3 },
    marks: [
      Plot.areaY(o.data, { x: 'i', y: 'p', curve: 'step', fill: o.fill, ariaHidden: 'true' } as Plot.AreaYOptions),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      Plot.tip(o.data, Plot.pointerX({ x: 'i', y: 'p', title: (d: BarDatum) => `#${d.i} “${d.token}”: ${(d.p * 100).toFixed(2)} %`, ariaHidden: 'true' }) as Plot.TipOptions),
    ],
  };
}

export const GAIN_COLOUR = '#b2182b';
export const LOSS_COLOUR = '#2166ac';

/** Difference quantized − original as two stepped areas: red above zero (gained), blue below (lost), like the diverging strip. */
export function diffChartOptions(o: { data: BarDatum[]; width: number }): Plot.PlotOptions {
  const n = o.data.length;
  let m = 0;
  for (const d of o.data) m = Math.max(m, Math.abs(d.p));
  m = m || 1e-6;
  return {
    width: o.width,
    height: 130,
    ...margins,
    ariaLabel: 'Difference of attention, quantized minus original, per past token: red areas above zero gained attention, blue areas below lost it.',
    x: { domain: [-0.5, n - 0.5], label: 'Past token (index)' },
    y: { domain: [-m, m], label: 'Δ attention', grid: true, ticks: 3, tickFormat: (v: number) => `${(v * 100).toFixed(Math.abs(m) < 0.01 ? 2 : 1)}%` },
    marks: [
      Plot.areaY(o.data, { x: 'i', y: (d: BarDatum) => Math.max(0, d.p), curve: 'step', fill: GAIN_COLOUR, ariaHidden: 'true' } as Plot.AreaYOptions),
      Plot.areaY(o.data, { x: 'i', y: (d: BarDatum) => Math.min(0, d.p), curve: 'step', fill: LOSS_COLOUR, ariaHidden: 'true' } as Plot.AreaYOptions),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      Plot.tip(o.data, Plot.pointerX({ x: 'i', y: 'p', title: (d: BarDatum) => `#${d.i} “${d.token}”: ${d.p >= 0 ? '+' : ''}${(d.p * 100).toFixed(3)} points`, ariaHidden: 'true' }) as Plot.TipOptions),
    ],
  };
}

export const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)} %`;
export const num = (x: number) => (x === 0 ? '0' : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toPrecision(3));

/** The chart summary in words (key numbers, most changed tokens). */
export function summaryText(o: { head: number; kvHead: number; layer: number; query: number; queryToken: string; view: AttentionView; changes: { gained: TokenChange[]; lost: TokenChange[] }; quant: string }): string {
  const { view: v } = o;
  const peakRef = argmax(v.ref);
  const peakHat = argmax(v.hat);
  const g = o.changes.gained[0];
  const l = o.changes.lost[0];
  return (
    `Query head ${o.head} (KV head ${o.kvHead}) of layer ${o.layer}, token #${o.query} “${showToken(o.queryToken)}”, attends most to token #${peakRef} (${pct(v.ref[peakRef], 1)}) with the original keys` +
    (peakHat === peakRef ? ` and still to #${peakHat} (${pct(v.hat[peakHat], 1)}) with ${o.quant}. ` : `, but to #${peakHat} (${pct(v.hat[peakHat], 1)}) with ${o.quant}. `) +
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
