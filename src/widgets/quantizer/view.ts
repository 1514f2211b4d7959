/**
 * Pure data and Plot options for <kv-quantizer> (no DOM): error maps, the error
 * histogram, metric rows and text, and the memory bar's parts.
 */
import * as Plot from '@observablehq/plot';
import type { KvCacheBytes, QuantConfig } from '../../lib/quant/index';
import { describeFormat, isFormat, type KvQuant, type Metrics } from './model';
import { colour } from '../shared/palette';

/** `out[i] = deq[i] − orig[i]` (signed error, same layout as the inputs). */
export function errorInto(orig: ArrayLike<number>, deq: ArrayLike<number>, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = deq[i] - orig[i];
  return out;
}

/**
 * A symmetric domain [−n, n] with n the smallest "nice" number (1, 1.5, 2, 3, 4, 5, 6 or 8 × 10^k) ≥ m:
 * readable legend ticks, and neighbouring settings share one legend and histogram axis.
 */
export function niceSymmetric(m: number): [number, number] {
  if (!(m > 0) || !Number.isFinite(m)) return [-1, 1];
  const step = 10 ** Math.floor(Math.log10(m));
  const n = [1, 1.5, 2, 3, 4, 5, 6, 8, 10].map((f) => f * step).find((v) => v >= m * (1 - 1e-12)) ?? 10 * step;
  return [-n, n];
}

export type Bin = { x1: number; x2: number; count: number };

/** Counts of `values` in `bins` equal bins over [lo, hi] (values at hi go in the last bin; outside values are clamped in). */
export function histogram(values: ArrayLike<number>, domain: readonly [number, number], bins = 41): Bin[] {
  const [lo, hi] = domain;
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    let b = w > 0 ? Math.floor((values[i] - lo) / w) : 0;
    if (b < 0) b = 0;
    else if (b >= bins) b = bins - 1;
    counts[b]++;
  }
  return counts.map((count, i) => ({ x1: lo + i * w, x2: lo + (i + 1) * w, count }));
}

export function histogramOptions(bins: Bin[], o: { width: number; tensor: string; exact: boolean }): Plot.PlotOptions {
  return {
    width: o.width,
    height: 170,
    marginLeft: 56,
    ariaLabel: o.exact
      ? `Histogram of the quantization error of the ${o.tensor}: every error is zero (no quantization).`
      : `Histogram of the signed quantization error (dequantized minus original) of the ${o.tensor} of this head.`,
    x: { label: 'Error (dequantized − original)', ticks: 5 },
    y: { label: 'Elements', grid: true, ticks: 3 },
    marks: [
      Plot.rectY(bins, {
        x1: 'x1',
        x2: 'x2',
        y: 'count',
        fill: 'currentColor',
        fillOpacity: 0.7,
        inset: 0.5,
        ariaHidden: 'true',
      } as Plot.RectYOptions),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      Plot.ruleX([0], { stroke: colour('red'), ariaHidden: 'true' } as Plot.RuleXOptions),
    ],
  };
}

export const TENSOR_NAMES = { k: 'keys', v: 'values' } as const;

export function describeConfig(c: QuantConfig | null): string {
  if (!c) return 'fp16 (not quantized)';
  return `${c.bits}-bit ${c.method}, per-${c.axis} groups of ${c.groupSize} ${c.axis === 'channel' ? 'tokens' : 'elements'}`;
}

/** The text of what a tensor is quantized with (Transformers config or engine format). */
export const describeKv = (q: KvQuant | null) => (isFormat(q) ? describeFormat(q) : describeConfig(q));

export const fmtPct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1)} %` : '∞');
export const fmtDb = (x: number) => (x === Infinity ? '∞ (exact)' : Number.isFinite(x) ? `${x.toFixed(1)} dB` : '−∞');
export const fmtAbs = (x: number) => (x === 0 ? '0' : x.toPrecision(3));
export const fmtCos = (x: number) => (x === 1 ? '1' : x.toFixed(5));

export type MetricRow = { scope: string; key: string; m: Metrics | null };

/** Rows of the metrics table (keys and values, head and layer, then the whole cache). */
export function metricRows(o: {
  layer: number;
  head: number;
  kHead: Metrics;
  kLayer: Metrics;
  vHead: Metrics;
  vLayer: Metrics;
  whole: Metrics | null;
}): MetricRow[] {
  return [
    { scope: `Keys, layer ${o.layer} head ${o.head}`, key: 'k-head', m: o.kHead },
    { scope: `Keys, layer ${o.layer} (all heads)`, key: 'k-layer', m: o.kLayer },
    { scope: `Values, layer ${o.layer} head ${o.head}`, key: 'v-head', m: o.vHead },
    { scope: `Values, layer ${o.layer} (all heads)`, key: 'v-layer', m: o.vLayer },
    { scope: 'Whole cache (all layers, keys and values)', key: 'cache', m: o.whole },
  ];
}

export function metricsSummary(o: {
  tensor: 'k' | 'v';
  head: Metrics;
  layer: number;
  headIndex: number;
  config: string;
  whole: Metrics | null;
}): string {
  const name = TENSOR_NAMES[o.tensor];
  const w = o.whole
    ? ` Whole cache: ${fmtPct(o.whole.relativeError)} relative error, ${fmtDb(o.whole.snrDb)}.`
    : ' Whole cache: computing…';
  if (o.head.relativeError === 0)
    return `With ${o.config} the ${name} of layer ${o.layer}, head ${o.headIndex} are reproduced exactly: zero error.${w}`;
  return (
    `With ${o.config}, the ${name} of layer ${o.layer}, head ${o.headIndex} have a relative error of ${fmtPct(o.head.relativeError)} ` +
    `(SNR ${fmtDb(o.head.snrDb)}, largest error ${fmtAbs(o.head.maxAbsError)}, mean cosine similarity ${fmtCos(o.head.cosine)}).${w}`
  );
}

export type MemoryPart = { part: 'payload' | 'scales and zeros' | 'residual (fp16)'; bytes: number; fraction: number };

/** The quantized cache's parts as fractions of the fp16 cache (the bar's full width). */
export function memoryParts(m: KvCacheBytes): MemoryPart[] {
  const f = (b: number) => (m.fp16Total > 0 ? b / m.fp16Total : 0);
  return [
    { part: 'payload', bytes: m.payload, fraction: f(m.payload) },
    { part: 'scales and zeros', bytes: m.meta, fraction: f(m.meta) },
    { part: 'residual (fp16)', bytes: m.residual, fraction: f(m.residual) },
  ];
}

export function memorySummary(m: KvCacheBytes, o: { tokens: number; bits: number; residual: number; fmt: (b: number) => string }): string {
  if (o.bits === 16) return `The fp16 cache of these ${o.tokens} tokens takes ${o.fmt(m.total)}.`;
  const r = Math.min(o.residual, o.tokens);
  return (
    `For these ${o.tokens} tokens the cache takes ${o.fmt(m.total)} instead of ${o.fmt(m.fp16Total)} in fp16 (${m.ratio.toFixed(2)}× smaller): ` +
    `${o.fmt(m.payload)} of ${o.bits}-bit codes, ${o.fmt(m.meta)} of scales and zeros, and ${o.fmt(m.residual)} for the ${r} newest tokens kept in fp16 (residual; ` +
    `the heatmaps quantize every token, like Transformers right after prefill).`
  );
}

// ---------------------------------------------------------------- engine formats

/**
 * Every finite non-negative value of an FP8 format (bit patterns enumerated: e4m3fn has exponent bias 7, subnormals
 * m/8·2^−6, no infinities and one NaN pattern S.1111.111; e5m2 has bias 15, subnormals m/4·2^−14, exponent 31 =
 * inf/NaN), ascending. 0 included once.
 */
export function fp8Values(kind: 'e4m3' | 'e5m2'): number[] {
  const [ebits, mbits, bias] = kind === 'e4m3' ? [4, 3, 7] : [5, 2, 15];
  const out: number[] = [];
  for (let e = 0; e < 2 ** ebits; e++) {
    for (let m = 0; m < 2 ** mbits; m++) {
      if (kind === 'e4m3' && e === 15 && m === 7) continue; // NaN
      if (kind === 'e5m2' && e === 31) continue; // inf / NaN
      out.push(e === 0 ? (m / 2 ** mbits) * 2 ** (1 - bias) : (1 + m / 2 ** mbits) * 2 ** (e - bias));
    }
  }
  return out;
}

/** E2M1 (NVFP4's element type) magnitudes. */
export const E2M1_VALUES = [0, 0.5, 1, 1.5, 2, 3, 4, 6] as const;

/** The grid points ±v·scale (v from `magnitudes`) inside [lo, hi], ascending, 0 once. */
export function gridIn(magnitudes: readonly number[], scale: number, domain: readonly [number, number]): number[] {
  const pts = new Set<number>();
  for (const v of magnitudes) {
    for (const x of [v * scale, -v * scale]) if (x >= domain[0] && x <= domain[1]) pts.add(x === 0 ? 0 : x);
  }
  return [...pts].sort((a, b) => a - b);
}

/** Histogram of the head's original values with the format's representable values as rules. */
export function gridOptions(bins: Bin[], grid: readonly number[], o: { width: number; tensor: string; format: string }): Plot.PlotOptions {
  return {
    width: o.width,
    height: 170,
    marginLeft: 56,
    ariaLabel: `Histogram of the original ${o.tensor} of this head with the ${grid.length} values ${o.format} can store in that range drawn as vertical lines.`,
    x: { label: `Original ${o.tensor.slice(0, -1)} value (lines: values ${o.format} can store)`, ticks: 5 },
    y: { label: 'Elements', grid: true, ticks: 3 },
    marks: [
      Plot.rectY(bins, {
        x1: 'x1',
        x2: 'x2',
        y: 'count',
        fill: 'currentColor',
        fillOpacity: 0.5,
        inset: 0.5,
        ariaHidden: 'true',
      } as Plot.RectYOptions),
      Plot.ruleX(grid, { stroke: colour('red'), strokeOpacity: 0.7, strokeWidth: 1, ariaHidden: 'true' } as Plot.RuleXOptions),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
    ],
  };
}

/** Where the grid's points fall: the text beside the grid chart. */
export function gridSummary(grid: readonly number[], o: { tensor: string; format: string; domain: readonly [number, number] }): string {
  const pos = grid.filter((x) => x > 0);
  if (pos.length === 0)
    return `In the range of these ${o.tensor} (${fmtAbs(o.domain[0])} to ${fmtAbs(o.domain[1])}) ${o.format} can store only 0.`;
  const step = pos.length > 1 ? pos[pos.length - 1] - pos[pos.length - 2] : pos[0];
  return (
    `In the range of these ${o.tensor} (${fmtAbs(o.domain[0])} to ${fmtAbs(o.domain[1])}) ${o.format} can store ${grid.length} values: ` +
    `the smallest positive is ${fmtAbs(pos[0])}, the largest ${fmtAbs(pos[pos.length - 1])}, and the gap between the two largest is ${fmtAbs(step)}. ` +
    `A floating-point grid is dense near zero and coarse at the ends, where the outliers are.`
  );
}

/**
 * The stored structure of a block format along one token's `headDim` channels, as text: how many blocks, what each
 * block stores (ggml-common.h block_q4_0 etc.; NVFP4: 16 E2M1 codes and one E4M3 scale, plus a global fp32 scale).
 */
export function blockStructure(format: string, headDim: number): string {
  const n32 = headDim / 32;
  const blocks = (b: number) => `${headDim / b} block${headDim / b === 1 ? '' : 's'} of ${b}`;
  switch (format) {
    case 'q8_0':
      return `Each token's ${headDim} channels are stored as ${blocks(32)}: one fp16 scale d = max|x|/127 per block and 32 signed 8-bit codes (${n32 * 34} bytes per token vector).`;
    case 'q4_0':
      return `Each token's ${headDim} channels are stored as ${blocks(32)}: one fp16 scale d = (signed value of largest magnitude)/−8 per block and 32 4-bit codes, x̂ = d·(q − 8) (${n32 * 18} bytes per token vector).`;
    case 'q5_0':
      return `Each token's ${headDim} channels are stored as ${blocks(32)}: one fp16 scale d = (signed value of largest magnitude)/−16 per block and 32 5-bit codes, x̂ = d·(q − 16) (${n32 * 22} bytes per token vector).`;
    case 'q4_1':
      return `Each token's ${headDim} channels are stored as ${blocks(32)}: an fp16 scale d = (max − min)/15 and an fp16 minimum m per block and 32 4-bit codes, x̂ = d·q + m (${n32 * 20} bytes per token vector).`;
    case 'q5_1':
      return `Each token's ${headDim} channels are stored as ${blocks(32)}: an fp16 scale d = (max − min)/31 and an fp16 minimum m per block and 32 5-bit codes, x̂ = d·q + m (${n32 * 24} bytes per token vector).`;
    case 'iq4_nl':
      return `Each token's ${headDim} channels are stored as ${blocks(32)}: one fp16 scale per block and 32 4-bit indices into a fixed non-uniform table of 16 values (−127 … 113) (${n32 * 18} bytes per token vector).`;
    case 'nvfp4':
      return `Each token's ${headDim} channels are stored as ${blocks(16)}: one FP8 E4M3 block scale and 16 E2M1 codes (±0, 0.5, 1, 1.5, 2, 3, 4, 6) per block, under one fp32 global scale per tensor (${(headDim / 16) * 9} bytes per token vector).`;
    default:
      return `Every element is one FP8 ${format === 'fp8_e5m2' ? 'E5M2' : 'E4M3'} code (8 bits) times a shared scale; there are no blocks.`;
  }
}

/** Memory sentence for an engine format cache (formatMemory). */
export function formatMemorySummary(m: KvCacheBytes, o: { tokens: number; k: string; v: string; fmt: (b: number) => string }): string {
  const what = o.k === o.v ? `keys and values in ${o.k}` : `keys in ${o.k} and values in ${o.v}`;
  return (
    `For these ${o.tokens} tokens, ${what} take ${o.fmt(m.total)} instead of ${o.fmt(m.fp16Total)} in fp16 (${m.ratio.toFixed(2)}× smaller, ` +
    `${Number(m.bitsPerElement.toFixed(3))} bits per element): ${o.fmt(m.payload)} of codes and ${o.fmt(m.meta)} of block scales. The engines keep no full-precision residual.`
  );
}
