/**
 * Pure data and Plot options for <kv-explorer> (no DOM): head slices laid out for the
 * heatmap, per-channel magnitude profiles, the outlier ratio and the layer overview.
 */
import * as Plot from '@observablehq/plot';
import type { KVTensor } from '../../lib/quant/index';
import { colour } from '../shared/palette';

/**
 * One head of `t` transposed to channel rows × token columns (row-major
 * `[headDim, tokens]`), the layout the heatmaps draw (tokens run left to right).
 */
export function headByChannel(t: KVTensor, head: number, out?: Float32Array): Float32Array {
  const { tokens: T, headDim: D } = t;
  const res = out && out.length === T * D ? out : new Float32Array(T * D);
  const base = head * T * D;
  const src = t.data;
  for (let tok = 0; tok < T; tok++) {
    const row = base + tok * D;
    for (let d = 0; d < D; d++) res[d * T + tok] = src[row + d];
  }
  return res;
}

/** max |x| over tokens for every channel of one head (length headDim). */
export function channelMaxAbs(t: KVTensor, head: number): Float64Array {
  const { tokens: T, headDim: D } = t;
  const out = new Float64Array(D);
  const base = head * T * D;
  for (let tok = 0; tok < T; tok++) {
    const row = base + tok * D;
    for (let d = 0; d < D; d++) {
      const a = Math.abs(t.data[row + d]);
      if (a > out[d]) out[d] = a;
    }
  }
  return out;
}

export function median(values: ArrayLike<number>): number {
  const s = Array.from(values).sort((a, b) => a - b);
  if (!s.length) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Largest channel's max |x| divided by the median channel's (1 for a flat profile). */
export function outlierRatio(profile: ArrayLike<number>): number {
  const med = median(profile);
  let max = 0;
  for (let i = 0; i < profile.length; i++) if (profile[i] > max) max = profile[i];
  return med > 0 ? max / med : max > 0 ? Infinity : 1;
}

/** Index of the largest entry. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export type ProfileRow = { channel: number; tensor: 'keys' | 'values'; maxAbs: number };

export function profileRows(keys: ArrayLike<number>, values: ArrayLike<number>): ProfileRow[] {
  const rows: ProfileRow[] = [];
  for (let d = 0; d < keys.length; d++) rows.push({ channel: d, tensor: 'keys', maxAbs: keys[d] });
  for (let d = 0; d < values.length; d++) rows.push({ channel: d, tensor: 'values', maxAbs: values[d] });
  return rows;
}

const SERIES = { domain: ['keys', 'values'], range: [colour('blue'), colour('orange')] };

/** Bars of max |x| per channel, keys and values side by side (one facet row each). */
export function profileOptions(rows: ProfileRow[], o: { width: number; layer: number; head: number }): Plot.PlotOptions {
  return {
    width: o.width,
    height: 240,
    marginLeft: 48,
    marginRight: 52,
    ariaLabel: `Bar chart of the largest absolute value in each channel of layer ${o.layer}, KV head ${o.head}: keys above, values below.`,
    x: { label: 'Channel', ticks: 8, domain: [0, rows.length / 2] },
    y: { label: 'max |x|', grid: true, ticks: 3 },
    fy: { label: null },
    color: { ...SERIES, legend: true },
    marks: [
      Plot.rectY(rows, {
        x1: 'channel',
        x2: (d: ProfileRow) => d.channel + 1,
        y: 'maxAbs',
        fy: 'tensor',
        fill: 'tensor',
        inset: 0.5,
        ariaHidden: 'true',
      } as Plot.RectYOptions),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
    ],
  };
}

export type OverviewRow = ProfileRow & { layer: number };

/** Channel profiles of every layer for one head (small multiples). */
export function overviewRows(keys: readonly KVTensor[], values: readonly KVTensor[], head: number): OverviewRow[] {
  const rows: OverviewRow[] = [];
  keys.forEach((k, layer) => {
    const kp = channelMaxAbs(k, head);
    const vp = channelMaxAbs(values[layer], head);
    for (const r of profileRows(kp, vp)) rows.push({ ...r, layer });
  });
  return rows;
}

/** Per-layer outlier ratios (keys, values) for the overview's text and table. */
export function overviewRatios(
  keys: readonly KVTensor[],
  values: readonly KVTensor[],
  head: number,
): { layer: number; keys: number; values: number }[] {
  return keys.map((k, layer) => ({
    layer,
    keys: outlierRatio(channelMaxAbs(k, head)),
    values: outlierRatio(channelMaxAbs(values[layer], head)),
  }));
}

export function overviewOptions(rows: OverviewRow[], o: { width: number; head: number; layers: number }): Plot.PlotOptions {
  return {
    width: o.width,
    height: 200,
    marginLeft: 56,
    marginRight: 52,
    ariaLabel: `Small multiples: for each of the ${o.layers} layers, the largest absolute value per channel of KV head ${o.head}; keys in the top row, values in the bottom row.`,
    x: { axis: null },
    y: { label: 'max |x|', ticks: 2, grid: true },
    fx: { label: 'Layer' },
    fy: { label: null },
    color: SERIES,
    marks: [
      Plot.rectY(rows, {
        x1: 'channel',
        x2: (d: OverviewRow) => d.channel + 1,
        y: 'maxAbs',
        fx: 'layer',
        fy: 'tensor',
        fill: 'tensor',
        ariaHidden: 'true',
      } as Plot.RectYOptions),
      Plot.frame({ stroke: 'currentColor', strokeOpacity: 0.2, ariaHidden: 'true' } as Plot.FrameOptions),
    ],
  };
}

/** "×" ratio in words: one decimal. */
export const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(1)}×` : 'unbounded');

export function profileSummary(o: {
  layer: number;
  head: number;
  keyRatio: number;
  valueRatio: number;
  keyChannel: number;
  valueChannel: number;
  tokens: number;
}): string {
  return (
    `Layer ${o.layer}, KV head ${o.head}, ${o.tokens} tokens: the largest key channel (channel ${o.keyChannel}) is ${fmtRatio(o.keyRatio)} the median channel; ` +
    `values: ${fmtRatio(o.valueRatio)} (largest: channel ${o.valueChannel}). ` +
    (o.keyRatio > 1.5 * o.valueRatio
      ? 'Keys have outlier channels that values do not — why KIVI quantizes keys per channel.'
      : 'Keys and values have similar channel magnitudes here.')
  );
}

export function overviewSummary(ratios: { layer: number; keys: number; values: number }[], head: number): string {
  if (!ratios.length) return '';
  const k = ratios.map((r) => r.keys);
  const v = ratios.map((r) => r.values);
  const maxK = argmax(k);
  return `Across the ${ratios.length} layers (KV head ${head}), the key outlier ratio ranges from ${fmtRatio(Math.min(...k))} to ${fmtRatio(Math.max(...k))} (largest in layer ${maxK}); values from ${fmtRatio(Math.min(...v))} to ${fmtRatio(Math.max(...v))}.`;
}

/** Text for the pointer readout over a heatmap. */
export function hoverText(o: {
  tensor: 'keys' | 'values';
  token: number;
  tokenText: string | undefined;
  channel: number;
  value: number;
}): string {
  const tok = o.tokenText === undefined ? '' : ` ${JSON.stringify(o.tokenText)}`;
  return `${o.tensor === 'keys' ? 'Key' : 'Value'} of token ${o.token}${tok}, channel ${o.channel}: ${o.value.toFixed(3)}`;
}

/** Cell under a pointer at (fx, fy) ∈ [0,1)² of a heatmap with channel rows and token columns. */
export function cellAt(fx: number, fy: number, tokens: number, channels: number): { token: number; channel: number } | null {
  if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) return null;
  return { token: Math.floor(fx * tokens), channel: Math.floor(fy * channels) };
}
