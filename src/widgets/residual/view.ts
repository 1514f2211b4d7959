/**
 * The residual step-through, as pure functions (no DOM): which tokens are quantized,
 * in the full-precision residual or new after N decode steps, the flush log, the
 * memory count, and the Plot options of the strips. Every count comes from
 * `residualSplit` / `kiviResidualSplit` and every byte from `kvCacheBytes`.
 */
import * as Plot from '@observablehq/plot';
import { groupMembers, kiviResidualSplit, kvCacheBytes, requantizationDrift, residualSplit, type KVTensor } from '../../lib/quant/index';
import { DEFAULT_MODEL_ID, catalogueEntry } from '../../lib/model/catalogue';
import type { ResidualState } from './state';
import { toBits } from '../shared/quant-config';
import { colour } from '../shared/palette';

export const TOKEN_STATES = ['quantized', 'residual', 'new'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];
/** Letters drawn next to each lane so the state never depends on colour alone. */
export const STATE_LETTER: Record<TokenState, string> = { quantized: 'Q', residual: 'R', new: 'N' };
export const STATE_LABEL: Record<TokenState, string> = {
  quantized: 'Q quantized',
  residual: 'R full-precision residual',
  new: 'N new token',
};
/** Colour-blind-safe (Okabe–Ito blue, orange, bluish green). */
export const STATE_COLOR: Record<TokenState, string> = {
  quantized: colour('state-quantized'),
  residual: colour('state-residual'),
  new: colour('state-new'),
};

export type StripName = 'cache' | 'keys' | 'values';

/** A run of consecutive tokens in the same state: tokens [start, end). */
export interface Run {
  strip: StripName;
  state: TokenState;
  start: number;
  end: number;
}

/** Quantized / full-precision counts of one strip after the split. */
export interface StripCounts {
  strip: StripName;
  quantized: number;
  residual: number;
}

export interface StepModel {
  scheme: 'transformers' | 'kivi';
  prefill: number;
  step: number;
  /** R as used (KIVI needs R ≥ 1). */
  residualLength: number;
  total: number;
  strips: StripCounts[];
  flushes: number;
  flushedLastStep: boolean;
  /** Decode steps at which a flush happened, up to `step` (for marks and the log). */
  flushSteps: number[];
  /** Flush period in decode steps. */
  period: number;
}

/** Transformers' QuantizedLayer rule, or KIVI's streaming cache, after `step` decode steps. */
export function stepModel(s: Pick<ResidualState, 'scheme' | 'prefill' | 'step' | 'residual'>): StepModel {
  if (s.scheme === 'kivi') {
    const R = Math.max(1, s.residual);
    const k = kiviResidualSplit({ prefill: s.prefill, decoded: s.step, residualLength: R });
    const keyStart = s.prefill % R;
    // Key blocks complete when keyStart + n reaches a multiple of R.
    const flushSteps: number[] = [];
    for (let n = R - keyStart; n <= s.step; n += R) if (n >= 1) flushSteps.push(n);
    return {
      scheme: 'kivi',
      prefill: s.prefill,
      step: s.step,
      residualLength: R,
      total: k.total,
      strips: [
        { strip: 'keys', quantized: k.keys.quantized, residual: k.keys.residual },
        { strip: 'values', quantized: k.values.quantized, residual: k.values.residual },
      ],
      flushes: k.keys.flushes,
      flushedLastStep: k.keys.flushedLastStep,
      flushSteps,
      period: R,
    };
  }
  const r = residualSplit({ prefill: s.prefill, decoded: s.step, residualLength: s.residual });
  const flushSteps: number[] = [];
  for (let n = r.period; n <= s.step; n += r.period) flushSteps.push(n);
  return {
    scheme: 'transformers',
    prefill: s.prefill,
    step: s.step,
    residualLength: s.residual,
    total: r.total,
    strips: [{ strip: 'cache', quantized: r.quantized, residual: r.residual }],
    flushes: r.flushes,
    flushedLastStep: r.flushedLastStep,
    flushSteps,
    period: r.period,
  };
}

/**
 * The runs of one strip: [quantized | residual | new]. The newest token (after at least one decode step)
 * is "new" while it is in full precision; when the step flushed it, it is already quantized.
 */
export function stripRuns(m: StepModel, c: StripCounts): Run[] {
  const runs: Run[] = [];
  const push = (state: TokenState, start: number, end: number) => {
    if (end > start) runs.push({ strip: c.strip, state, start, end });
  };
  push('quantized', 0, c.quantized);
  const newInResidual = m.step > 0 && c.residual > 0;
  push('residual', c.quantized, m.total - (newInResidual ? 1 : 0));
  if (newInResidual) push('new', m.total - 1, m.total);
  return runs;
}

/** Per-token states of one strip (index = token position). */
export function tokenStates(m: StepModel, c: StripCounts): TokenState[] {
  const out: TokenState[] = new Array(m.total);
  for (const r of stripRuns(m, c)) for (let i = r.start; i < r.end; i++) out[i] = r.state;
  return out;
}

/** The newest tokens shown one cell each: a window wide enough for one flush period plus context. */
export function detailWindow(m: StepModel, max = 192): { start: number; end: number } {
  const want = Math.min(max, Math.max(32, m.period + 32));
  return { start: Math.max(0, m.total - want), end: m.total };
}

export interface Cell {
  strip: StripName;
  token: number;
  state: TokenState;
}

export function detailCells(m: StepModel): Cell[] {
  const { start, end } = detailWindow(m);
  const cells: Cell[] = [];
  for (const c of m.strips) {
    const states = tokenStates(m, c);
    for (let i = start; i < end; i++) cells.push({ strip: c.strip, token: i, state: states[i] });
  }
  return cells;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Log lines for the flushes up to step N (newest last). */
export function flushLog(m: StepModel, limit = 6): string[] {
  const steps = m.flushSteps.slice(-limit);
  return steps.map((n) => {
    if (m.scheme === 'kivi') {
      return `step ${fmt(n)}: a block of ${fmt(m.residualLength)} full-precision keys was quantized per channel and appended; the cache now holds ${fmt(m.prefill + n)} tokens.`;
    }
    const residualBefore = m.period - 1;
    return `step ${fmt(n)}: the residual (${fmt(residualBefore)} token${residualBefore === 1 ? '' : 's'}) and the new token were re-quantized with the whole cache (${fmt(m.prefill + n)} tokens).`;
  });
}

export interface MemoryCount {
  label: string;
  bytes: number;
  fp16Bytes: number;
  ratio: number;
}

/** Bytes of the cache now (quantized + residual, every layer, keys and values) vs the same cache in fp16. */
export function memoryCount(m: StepModel, s: Pick<ResidualState, 'model' | 'bits' | 'group'>): MemoryCount {
  const entry = catalogueEntry(s.model) ?? catalogueEntry(DEFAULT_MODEL_ID)!;
  const p = { ...entry.architecture, label: entry.label };
  const base = { layers: p.layers, kvHeads: p.kvHeads, headDim: p.headDim, tokens: m.total, bits: toBits(s.bits), groupSize: s.group };
  let bytes: number;
  let fp16Bytes: number;
  if (m.scheme === 'kivi') {
    // kvCacheBytes counts keys and values alike; KIVI's differ (per-channel keys, own residuals): half of each.
    const keys = kvCacheBytes({ ...base, residualTokens: m.strips[0].residual, axis: 'channel' });
    const values = kvCacheBytes({ ...base, residualTokens: m.strips[1].residual, axis: 'token' });
    bytes = keys.total / 2 + values.total / 2;
    fp16Bytes = keys.fp16Total;
  } else {
    const r = kvCacheBytes({ ...base, residualTokens: m.strips[0].residual, axis: 'token' });
    bytes = r.total;
    fp16Bytes = r.fp16Total;
  }
  return { label: p.label, bytes, fp16Bytes, ratio: bytes > 0 ? fp16Bytes / bytes : 1 };
}

export function formatBytesShort(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${b} B`;
}

/** "After 200 decode steps with R = 128: 1,224 tokens quantized, 72 in full precision, 1 flush; memory X vs Y fp16". */
export function summaryText(m: StepModel, mem: MemoryCount): string {
  const steps = `After ${fmt(m.step)} decode step${m.step === 1 ? '' : 's'} with R = ${fmt(m.residualLength)}`;
  const flushes = `${fmt(m.flushes)} flush${m.flushes === 1 ? '' : 'es'}`;
  const memory = `memory ${formatBytesShort(mem.bytes)} vs ${formatBytesShort(mem.fp16Bytes)} fp16 (${mem.label})`;
  if (m.scheme === 'kivi') {
    const [k, v] = m.strips;
    return `${steps} (KIVI): keys ${fmt(k.quantized)} quantized, ${fmt(k.residual)} in full precision, ${flushes} of a key block; values ${fmt(v.quantized)} quantized, ${fmt(v.residual)} in full precision; ${memory}.`;
  }
  const c = m.strips[0];
  return `${steps}: ${fmt(c.quantized)} tokens quantized, ${fmt(c.residual)} in full precision, ${flushes}; ${memory}.`;
}

const STRIP_LABEL: Record<StripName, string> = { cache: 'Keys and values', keys: 'Keys', values: 'Values' };

function laneY(d: { strip: StripName; state: TokenState }, kivi: boolean): string {
  return kivi ? `${d.strip === 'keys' ? 'K' : 'V'} ${STATE_LETTER[d.state]}` : STATE_LABEL[d.state];
}

function laneDomain(kivi: boolean): string[] {
  if (!kivi) return TOKEN_STATES.map((t) => STATE_LABEL[t]);
  return (['keys', 'values'] as const).flatMap((s) => TOKEN_STATES.map((t) => `${s === 'keys' ? 'K' : 'V'} ${STATE_LETTER[t]}`));
}

/** Whole cache: one lane per state (position, not only colour, tells the state), runs as rectangles, flushes as ticks. */
export function overviewOptions(m: StepModel, width: number): Plot.PlotOptions {
  const kivi = m.scheme === 'kivi';
  const runs = m.strips.flatMap((c) => stripRuns(m, c)).map((r) => ({ ...r, lane: laneY(r, kivi) }));
  const flushTokens = m.flushSteps.slice(-50).map((n) => m.prefill + n);
  const marks: Plot.Markish[] = [
    Plot.rectX(runs, {
      x1: 'start',
      x2: (d: Run) => Math.max(d.end, d.start + m.total / Math.max(1, width)),
      y: 'lane',
      fill: (d: Run) => STATE_COLOR[d.state],
      ariaHidden: 'true',
    } as Plot.RectXOptions),
    Plot.ruleX([m.prefill], { stroke: 'currentColor', strokeDasharray: '3,3', ariaHidden: 'true' } as Plot.RuleXOptions),
    Plot.tickX(flushTokens, { x: (d: number) => d, stroke: colour('flush'), strokeWidth: 2, ariaHidden: 'true' } as Plot.TickXOptions),
  ];
  return {
    width,
    height: kivi ? 190 : 120,
    marginLeft: kivi ? 40 : 150,
    marginRight: 12,
    ariaLabel: `Strip of all ${fmt(m.total)} cached tokens by state: ${m.strips.map((c) => `${STRIP_LABEL[c.strip].toLowerCase()} ${fmt(c.quantized)} quantized, ${fmt(c.residual)} full precision`).join('; ')}. Dashed line at the end of the ${fmt(m.prefill)}-token prefill; pink ticks mark flushes.`,
    x: { label: 'Token position (whole cache)', domain: [0, Math.max(1, m.total)], grid: false },
    y: { label: null, domain: laneDomain(kivi) },
    marks,
  };
}

/** The newest tokens one cell each, in the same lanes. */
export function detailOptions(m: StepModel, width: number): Plot.PlotOptions {
  const kivi = m.scheme === 'kivi';
  const { start, end } = detailWindow(m);
  const cells = detailCells(m).map((c) => ({ ...c, lane: laneY(c, kivi) }));
  return {
    width,
    height: kivi ? 190 : 120,
    marginLeft: kivi ? 40 : 150,
    marginRight: 12,
    ariaLabel: `The newest ${fmt(end - start)} tokens (positions ${fmt(start)} to ${fmt(end - 1)}), one cell each, in the same lanes.`,
    x: { label: `Newest tokens (positions ${fmt(start)}–${fmt(end - 1)})`, domain: [start, Math.max(end, start + 1)] },
    y: { label: null, domain: laneDomain(kivi) },
    marks: [
      Plot.rectX(cells, {
        x1: 'token',
        x2: (d: Cell) => d.token + 1,
        y: 'lane',
        fill: (d: Cell) => STATE_COLOR[d.state],
        insetLeft: end - start > 96 ? 0 : 0.5,
        ariaHidden: 'true',
      } as Plot.RectXOptions),
      Plot.ruleX(
        [m.prefill].filter((p) => p >= start && p <= end),
        { stroke: 'currentColor', strokeDasharray: '3,3', ariaHidden: 'true' } as Plot.RuleXOptions,
      ),
    ],
  };
}

/** Real keys used for the drift panel: layer 4 of the 1,024-token precomputed example, its first 64 tokens followed. */
export const DRIFT_EXAMPLE = 'long-1024';
export const DRIFT_LAYER = 4;
export const DRIFT_PREFILL = 64;
const DRIFT_MAX_FLUSHES = 12;

export interface DriftRow {
  flush: number;
  tokens: number;
  quanto: number;
  hqq: number;
  once: number;
}

/**
 * Error of the first DRIFT_PREFILL tokens of real keys after each flush, with the widget's bits, group and R:
 * quanto per token (axis 0, Transformers' quanto default) and HQQ strided (axis 0, Transformers' hqq default),
 * both re-quantized at every flush as Transformers does, and quantized once (KIVI-style streaming, quanto grouping).
 * Metadata in fp32 like the bundled model's cache. Throws a RangeError the widget shows when a layout cannot take a size.
 */
export function driftRows(keys: KVTensor, s: Pick<ResidualState, 'bits' | 'group' | 'residual'>): DriftRow[] {
  const period = Math.max(2, s.residual);
  const flushes = Math.min(DRIFT_MAX_FLUSHES, Math.floor((keys.tokens - DRIFT_PREFILL) / period));
  const bits = toBits(s.bits);
  const o = { prefill: DRIFT_PREFILL, period, flushes };
  const quanto = requantizationDrift(keys, { bits, groupSize: s.group, axis: 'token', method: 'minmax', metaDtype: 'fp32' }, o);
  const hqq = requantizationDrift(keys, { bits, groupSize: s.group, axis: 'strided', method: 'hqq', metaDtype: 'fp32' }, o);
  return quanto.map((q, i) => ({ flush: q.flush, tokens: q.tokens, quanto: q.transformers, hqq: hqq[i].transformers, once: q.once }));
}

const pctText = (e: number) => `${(e * 100).toFixed(2)} %`;

export function driftSummary(rows: readonly DriftRow[]): string {
  if (rows.length < 2) return 'R is too long for the 1,024-token example to flush: no drift to show.';
  const last = rows[rows.length - 1];
  const first = rows[0];
  return (
    `Error of the first ${DRIFT_PREFILL} keys (layer ${DRIFT_LAYER}, real tensors) after ${last.flush} flush${last.flush === 1 ? '' : 'es'}: ` +
    `quanto per token ${pctText(first.quanto)} → ${pctText(last.quanto)}; HQQ strided (its default) ${pctText(first.hqq)} → ${pctText(last.hqq)}; ` +
    `quantized once ${pctText(last.once)}.`
  );
}

export function driftChartOptions(rows: readonly DriftRow[], width: number): Plot.PlotOptions {
  const series = rows.flatMap((r) => [
    { flush: r.flush, error: r.quanto, scheme: 'quanto axis 0, re-quantized' },
    { flush: r.flush, error: r.hqq, scheme: 'HQQ axis 0, re-quantized' },
    { flush: r.flush, error: r.once, scheme: 'quantized once' },
  ]);
  return {
    width,
    height: 200,
    marginLeft: 56,
    x: { label: 'flushes →', tickFormat: 'd', ticks: Math.min(rows.length, 12) },
    y: { label: '↑ relative error of the oldest keys', tickFormat: '.1%', grid: true, zero: true },
    color: {
      legend: true,
      domain: ['quanto axis 0, re-quantized', 'HQQ axis 0, re-quantized', 'quantized once'],
      range: [colour('blue'), colour('red'), colour('grey')],
    },
    ariaLabel: `Relative error of the oldest keys after 0 to ${rows[rows.length - 1]?.flush ?? 0} flushes for three schemes; the summary above gives the numbers.`,
    marks: [Plot.line(series, { x: 'flush', y: 'error', stroke: 'scheme', marker: 'circle', ariaHidden: 'true' } as Plot.LineOptions)],
  };
}

export interface MemberPoint {
  head: number;
  token: number;
  channel: number;
  when: string;
}

/**
 * The elements that share HQQ axis-0 group 0 with the first key (head 0, token 0, channel 0), before and after one
 * flush: HQQ reshapes the flattened cache of N elements to [G, N/G], so group 0 is elements 0, N/G, 2N/G, …, and
 * its members move when N grows (`groupMembers` in src/lib/quant/grouping.ts).
 */
export function stridedGroupPoints(
  heads: number,
  headDim: number,
  tokensBefore: number,
  tokensAfter: number,
  group: number,
): MemberPoint[] {
  const out: MemberPoint[] = [];
  for (const [tokens, when] of [
    [tokensBefore, `prompt: ${tokensBefore} tokens`],
    [tokensAfter, `after a flush: ${tokensAfter} tokens`],
  ] as const) {
    for (const i of groupMembers('strided', { heads, tokens, headDim }, group, 0)) {
      out.push({ head: Math.floor(i / (tokens * headDim)), token: Math.floor(i / headDim) % tokens, channel: i % headDim, when });
    }
  }
  return out;
}

export function stridedGroupOptions(points: readonly MemberPoint[], tokensAfter: number, headDim: number, width: number): Plot.PlotOptions {
  return {
    width,
    height: 220,
    marginLeft: 48,
    x: { label: 'token →', domain: [0, tokensAfter] },
    y: { label: '↑ channel', domain: [0, headDim] },
    fx: { label: 'KV head' },
    symbol: { legend: true },
    color: { legend: false, domain: [...new Set(points.map((p) => p.when))], range: [colour('blue'), colour('red')] },
    ariaLabel:
      'Positions (token, channel, KV head) of the keys in HQQ axis-0 group 0, at the prompt and after one flush; the summary above lists them.',
    marks: [
      Plot.frame({ stroke: colour('grey'), ariaHidden: 'true' } as Plot.FrameOptions),
      Plot.dot(points, {
        x: 'token',
        y: 'channel',
        fx: 'head',
        symbol: 'when',
        stroke: 'when',
        r: 3,
        ariaHidden: 'true',
      } as Plot.DotOptions),
    ],
  };
}
