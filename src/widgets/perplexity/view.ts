/** Pure parts of the perplexity widget: running log-perplexity, memory per config, table rows, Plot options, summary. */
import { formatNats } from '../../lib/model/sampling';
import * as Plot from '@observablehq/plot';
import { kvCacheBytes, residualSplit, type KvCacheBytes } from '../../lib/quant/index';
import type { CacheFailure, Distribution } from '../../lib/model/protocol';
import { PRESETS, type PresetId } from './presets';
import { colour } from '../shared/palette';

/** Running log-perplexity: the cumulative mean negative log-likelihood after each scored token (nats). */
export function runningNll(logProbs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logProbs.length);
  let sum = 0;
  for (let i = 0; i < logProbs.length; i++) {
    sum -= logProbs[i];
    out[i] = sum / (i + 1);
  }
  return out;
}

export interface ModelDims {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** The bundled model's cache dimensions (config.json of kvlab-16m), used until an example reports its own. */
export const KVLAB_DIMS: ModelDims = { layers: 8, kvHeads: 2, headDim: 64 };

export interface ConfigMemory {
  /** Stored bits per element of the quantized part (payload + scales/zeros), keys and values averaged. */
  bitsPerElement: number;
  /** Whole cache at the end of the text: quantized part + full-precision residual (fp32, 4 B), keys and values, all layers. */
  totalBytes: number;
  /** The same cache unquantized (fp32). */
  fp32Bytes: number;
}

/**
 * Memory of a preset's cache after `tokens` tokens, via kvCacheBytes (src/lib/quant). The model runs in
 * fp32, so the exact cache and the residual are counted at 4 bytes, and so are scales and zeros (they
 * follow the cache's dtype) except in the fp16-metadata presets (2 bytes). Keys and values may use
 * different axes (KIVI): each half is computed with its own axis. HQQ axis 0 (`strided`) and quanto
 * axis −1 (`flat-channel`) have numel / G groups, like the token layout.
 */
export function configMemory(id: PresetId, dims: ModelDims, tokens: number, prefillTokens: number, residualLength: number): ConfigMemory {
  const p = PRESETS[id];
  const common = { layers: dims.layers, kvHeads: dims.kvHeads, headDim: dims.headDim, tokens, kvBytes: 4 };
  const fp = kvCacheBytes({ ...common, bits: 16, metaBytes: 4 });
  if (!p.key || !p.value) return { bitsPerElement: 32, totalBytes: fp.total, fp32Bytes: fp.total };
  const split = residualSplit({ prefill: Math.min(prefillTokens, tokens), decoded: Math.max(0, tokens - prefillTokens), residualLength });
  const half = (c: NonNullable<typeof p.key>): KvCacheBytes =>
    kvCacheBytes({
      ...common,
      metaBytes: c.metaDtype === 'fp16' ? 2 : 4,
      bits: c.bits,
      groupSize: c.groupSize,
      axis: c.axis === 'channel' ? 'channel' : 'token',
      residualTokens: split.residual,
    });
  const k = half(p.key);
  const v = half(p.value);
  return { bitsPerElement: (k.bitsPerElement + v.bitsPerElement) / 2, totalBytes: (k.total + v.total) / 2, fp32Bytes: fp.total };
}

export interface Row {
  id: PresetId;
  label: string;
  /** Set when Transformers cannot run the configuration: then there is no number to show. */
  failure: CacheFailure | null;
  perplexity: number;
  meanNll: number;
  /** (ppl / ppl_fp32 − 1), or null without an fp32 row. */
  deltaVsFp32: number | null;
  klToExact: number | null;
  /** Per-position KL to fp32 (teacher-forced): mean and quantiles. */
  kl: Distribution | null;
  top1: number | null;
  memory: ConfigMemory;
}

export interface RowInput {
  id: PresetId;
  perplexity: number;
  meanNll: number;
  klToExact: number | null;
  top1AgreementToExact: number | null;
  failure?: CacheFailure | null;
  klDistribution?: Distribution | null;
}

export function tableRows(results: readonly RowInput[], dims: ModelDims, tokens: number, prefillTokens: number, residual: number): Row[] {
  const fp = results.find((r) => r.id === 'fp32');
  return results.map((r) => ({
    id: r.id,
    label: PRESETS[r.id].label,
    failure: r.failure ?? null,
    perplexity: r.perplexity,
    meanNll: r.meanNll,
    deltaVsFp32: fp && !r.failure ? r.perplexity / fp.perplexity - 1 : null,
    klToExact: r.klToExact,
    kl: r.klDistribution ?? null,
    top1: r.top1AgreementToExact,
    memory: configMemory(r.id, dims, tokens, prefillTokens, residual),
  }));
}

export { formatNats };

/** Edges of the KL histogram: half-decades from 1e-6 to 10 nats; values below the first edge fall in the first bin. */
export const KL_EDGES: readonly number[] = Array.from({ length: 15 }, (_, i) => 10 ** (-6 + i / 2));

export interface HistogramBin {
  /** Lower and upper edge (nats); the first bin also holds everything below its upper edge. */
  lo: number;
  hi: number;
  count: number;
  /** count / all positions. */
  share: number;
}

/** Histogram of per-position KL over `edges` (log-spaced): bin i holds [edges[i], edges[i+1]), bin 0 also below, the last also above. */
export function klHistogram(kl: ArrayLike<number>, edges: readonly number[] = KL_EDGES): HistogramBin[] {
  const bins: HistogramBin[] = [];
  for (let i = 0; i + 1 < edges.length; i++) bins.push({ lo: edges[i], hi: edges[i + 1], count: 0, share: 0 });
  for (let j = 0; j < kl.length; j++) {
    const v = kl[j];
    let i = 0;
    while (i < bins.length - 1 && v >= bins[i].hi) i++;
    bins[i].count++;
  }
  for (const b of bins) b.share = kl.length ? b.count / kl.length : 0;
  return bins;
}

/** Frequency polygons of per-position KL, one per configuration (own colour and dash), on a log KL axis. */
export function klHistogramOptions(hists: ReadonlyArray<{ id: PresetId; bins: readonly HistogramBin[] }>, width: number): Plot.PlotOptions {
  const marks: Plot.Markish[] = [];
  let top = 0;
  for (const h of hists) {
    const st = STYLE[h.id];
    const data = h.bins.map((b) => ({ x: Math.sqrt(b.lo * b.hi), y: b.share * 100 }));
    for (const d of data) top = Math.max(top, d.y);
    marks.push(
      Plot.line(data, {
        x: 'x',
        y: 'y',
        stroke: st.colour,
        strokeWidth: 2,
        strokeDasharray: st.dash || undefined,
        ariaHidden: 'true',
      } as Plot.LineOptions),
    );
    marks.push(Plot.dot(data, { x: 'x', y: 'y', fill: st.colour, r: 2.5, ariaHidden: 'true' } as Plot.DotOptions));
  }
  const edges = hists[0]?.bins ?? [];
  const lo = edges.length ? Math.sqrt(edges[0].lo * edges[0].hi) : 1e-6;
  const hi = edges.length ? Math.sqrt(edges[edges.length - 1].lo * edges[edges.length - 1].hi) : 10;
  const decades: number[] = [];
  for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) decades.push(Number(`1e${e}`));
  return {
    width,
    height: 220,
    marginLeft: 52,
    ariaLabel: `Histogram: share of token positions by KL divergence to the fp32 cache (nats, log scale) for ${hists.length} cache configurations. The text above the chart gives each configuration's mean, median, 90th and 99th percentile.`,
    x: {
      type: 'log',
      label: 'KL to fp32 per position (nats)',
      domain: [lo, hi],
      ticks: decades,
      tickFormat: (d: number) => formatNats(d, 1),
      grid: true,
    },
    y: { label: 'Positions (%)', grid: true, domain: [0, Math.max(1, top * 1.08)] },
    marks,
  };
}

/** The KL distribution of every scored configuration, in words (the histogram's text equivalent). */
export function klSummaryText(rows: readonly Row[]): string {
  const parts = rows
    .filter((r) => r.id !== 'fp32' && !r.failure && r.kl)
    .map(
      (r) =>
        `${r.label}: mean ${formatNats(r.kl!.mean)}, median ${formatNats(r.kl!.p50)}, 90th percentile ${formatNats(r.kl!.p90)}, 99th ${formatNats(r.kl!.p99)}, largest ${formatNats(r.kl!.max)} nats; same top-1 token as fp32 at ${r.top1 === null ? '—' : `${(r.top1 * 100).toFixed(1)} %`} of positions`,
    );
  if (!parts.length) return '';
  return `KL divergence of each position's next-token distribution from the fp32 cache's, both reading the same text (teacher-forced). ${parts.join('. ')}.`;
}

/**
 * Colour-blind-safe categorical colours (Observable 10 hues) and a distinct dash per preset, so lines differ without colour.
 * Each colour is a light/dark pair (widget.css `--kv-c-ppl-*`, named in ../shared/palette) with 3:1 on both backgrounds.
 */
export const STYLE: Readonly<Record<PresetId, { colour: string; dash: string }>> = {
  fp32: { colour: colour('ppl-fp32'), dash: '' },
  'quanto-int4': { colour: colour('ppl-quanto-int4'), dash: '6,3' },
  'quanto-int2': { colour: colour('ppl-quanto-int2'), dash: '2,2' },
  'quanto-int4-fp16': { colour: colour('ppl-quanto-int4-fp16'), dash: '6,3,1,3' },
  'quanto-int2-fp16': { colour: colour('ppl-quanto-int2-fp16'), dash: '2,4' },
  'hqq-int8': { colour: colour('ppl-hqq-int8'), dash: '1,3' },
  'hqq-int4': { colour: colour('ppl-hqq-int4'), dash: '10,3,2,3' },
  'hqq-int2': { colour: colour('ppl-hqq-int2'), dash: '4,2,1,2' },
  'hqq-int4-axis1': { colour: colour('ppl-hqq-int4-axis1'), dash: '10,2' },
  'hqq-int2-axis1': { colour: colour('ppl-hqq-int2-axis1'), dash: '3,1' },
  'quanto-int4-axis-1': { colour: colour('ppl-quanto-int4-axis-1'), dash: '5,5' },
  'quanto-int2-axis-1': { colour: colour('ppl-quanto-int2-axis-1'), dash: '1,1' },
  'quanto-int8': { colour: colour('ppl-quanto-int8'), dash: '8,1,1,1' },
  'kivi-int4': { colour: colour('ppl-kivi-int4'), dash: '8,2' },
  'kivi-int2': { colour: colour('ppl-kivi-int2'), dash: '12,3' },
};

export interface Series {
  id: PresetId;
  /** Token position (index in the text) of each scored token. */
  x: Float64Array;
  y: Float64Array;
}

export function seriesOf(id: PresetId, logProbs: ArrayLike<number>, prefillTokens: number, step = 1): Series {
  const run = runningNll(logProbs);
  const n = Math.ceil(run.length / step);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const i = Math.min(run.length - 1, j * step);
    x[j] = prefillTokens + i;
    y[j] = run[i];
  }
  return { id, x, y };
}

/** One line per config (own colour and dash), a dashed rule where the residual first flushes. */
export function chartOptions(
  series: readonly Series[],
  o: { width: number; prefillTokens: number; residual: number; tokens: number },
): Plot.PlotOptions {
  const marks: Plot.Markish[] = [];
  const flushAt = o.prefillTokens + Math.max(2, o.residual);
  if (flushAt < o.tokens) {
    marks.push(
      Plot.ruleX([flushAt], {
        stroke: 'currentColor',
        strokeOpacity: 0.5,
        strokeDasharray: '3,3',
        ariaHidden: 'true',
      } as Plot.RuleXOptions),
    );
    marks.push(
      Plot.text([flushAt], {
        x: (d: number) => d,
        frameAnchor: 'top',
        text: () => `first flush (R = ${o.residual})`,
        textAnchor: 'start',
        dx: 4,
        dy: 4,
        ariaHidden: 'true',
      } as Plot.TextOptions),
    );
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const start = Math.min(s.y.length - 1, Math.floor(s.y.length * 0.1));
    for (let i = start; i < s.y.length; i++) {
      lo = Math.min(lo, s.y[i]);
      hi = Math.max(hi, s.y[i]);
    }
    const st = STYLE[s.id];
    marks.push(
      Plot.lineY(
        Array.from(s.x, (x, i) => ({ x, y: s.y[i] })),
        {
          x: 'x',
          y: 'y',
          stroke: st.colour,
          strokeWidth: 2,
          strokeDasharray: st.dash || undefined,
          ariaHidden: 'true',
        } as Plot.LineYOptions,
      ),
    );
  }
  const pad = Number.isFinite(hi - lo) ? Math.max(0.02, (hi - lo) * 0.1) : 1;
  return {
    width: o.width,
    height: 300,
    marginLeft: 52,
    ariaLabel: `Line chart: running log-perplexity (cumulative mean negative log-likelihood, nats) against token position for ${series.length} cache configurations. The table below lists the final values.`,
    x: { label: 'Token position', grid: true },
    y: { label: 'Log-perplexity (nats)', grid: true, domain: Number.isFinite(lo) ? [lo - pad, hi + pad] : undefined, clamp: true },
    marks,
  };
}

const pctSigned = (f: number) => `${f >= 0 ? '+' : '−'}${Math.abs(f * 100).toFixed(2)} %`;
export const formatDelta = (f: number | null) => (f === null ? '—' : pctSigned(f));

export function summaryText(rows: readonly Row[], o: { tokens: number; prefillTokens: number; residual: number }): string {
  const R = o.residual;
  const explain =
    `${o.tokens > 0 ? `The text has ${o.tokens} tokens; the` : 'The'} first ${o.prefillTokens === 1 ? 'token is' : `${o.prefillTokens} tokens are`} prefilled (and quantized at once, as Transformers does) and every later token is scored one at a time. ` +
    (R >= 2
      ? `With a residual of R = ${R}, each new token stays in full precision until the ${R}th step flushes the residual into the quantized part, and every ${R} steps after that; the quantized prompt already changes every later token, so the curves part from the start and further at token ${o.prefillTokens + R}` +
        (o.tokens > 0 && o.prefillTokens + R >= o.tokens
          ? ' — which this text never reaches: lower R to see more of the cache quantized.'
          : '.')
      : `With R = ${R}, the residual flushes every 2 steps, so almost the whole cache is quantized from the start.`);
  if (!rows.length) return explain;
  const fp = rows.find((r) => r.id === 'fp32');
  const parts = rows
    .filter((r) => r.id !== 'fp32')
    .map((r) =>
      r.failure
        ? `${r.label}: Transformers cannot run it (${r.failure.message})`
        : `${r.label}: ${r.perplexity.toFixed(2)}${r.deltaVsFp32 === null ? '' : ` (${pctSigned(r.deltaVsFp32)})`} at ${r.memory.bitsPerElement.toFixed(2)} bits per element`,
    );
  return `${fp ? `Perplexity with the exact fp32 cache: ${fp.perplexity.toFixed(2)}. ` : ''}${parts.join('; ')}${parts.length ? '. ' : ''}${explain}`;
}
