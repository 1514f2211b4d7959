/**
 * Pure functions of <kv-vector>: one head vector, quantized with src/lib/quant, turned into
 * the data a chart shows (points, grid levels, errors) and Plot options. No DOM.
 */
import * as Plot from '@observablehq/plot';
import { fakeQuantize, maxAbsError, relativeError, type FakeQuantResult, type KVTensor, type QuantConfig } from '../../lib/quant/index';
import type { VectorState } from './state';
import { requireQuantConfig } from '../shared/quant-config';
import { createRng } from '../../lib/model/sampling';
import { colour } from '../shared/palette';

export interface VectorPoint {
  channel: number;
  original: number;
  dequantized: number;
  error: number;
  group: number;
}

export interface GridLevel {
  group: number;
  /** Channel range of the group, as chart x-extent [x1, x2). */
  x1: number;
  x2: number;
  code: number;
  value: number;
}

export interface VectorView {
  points: VectorPoint[];
  levels: GridLevel[];
  result: FakeQuantResult;
  relativeError: number;
  maxAbsError: number;
  /** Storage cost: b bits per element plus a 16-bit scale and zero per group. */
  bitsPerElement: number;
  config: QuantConfig;
}

export function configOf(s: Pick<VectorState, 'bits' | 'group' | 'method'>): QuantConfig {
  // fp16 metadata: the widget states the storage of an fp16 cache (16-bit scale and zero per group).
  return requireQuantConfig({ bits: s.bits, group: s.group, axis: 'token', method: s.method }, 'fp16');
}

/** The value a code dequantizes to, following the meaning of `zeros` documented in src/lib/quant/types.ts. */
export function levelValue(method: QuantConfig['method'], bits: number, code: number, scale: number, zero: number): number {
  if (method === 'minmax') return code * scale + zero;
  if (method === 'hqq') return (code - zero) * scale;
  return (code - 2 ** (bits - 1)) * scale;
}

/** Quantize one vector (length headDim) and collect what the chart shows. */
export function vectorView(vector: Float32Array, s: Pick<VectorState, 'bits' | 'group' | 'method'>): VectorView {
  const config = configOf(s);
  const t: KVTensor = { data: vector, heads: 1, tokens: 1, headDim: vector.length };
  const result = fakeQuantize(t, config);
  const G = config.groupSize;
  const points: VectorPoint[] = Array.from(vector, (x, i) => ({
    channel: i,
    original: x,
    dequantized: result.dequantized[i],
    error: result.dequantized[i] - x,
    group: Math.floor(i / G),
  }));
  const levels: GridLevel[] = [];
  const codes = 2 ** s.bits;
  // Every level of every group for ≤ 4 bits (at most 16 per group); 8 bits has 256 levels per group, too dense to draw.
  if (s.bits <= 4) {
    for (let g = 0; g < result.groups; g++) {
      for (let c = 0; c < codes; c++) {
        if (s.method === 'absmax' && c === 0) continue; // symmetric codes use −(2^(b−1)−1) … 2^(b−1)−1
        levels.push({
          group: g,
          x1: g * G - 0.5,
          x2: (g + 1) * G - 0.5,
          code: c,
          value: levelValue(s.method, s.bits, c, result.scales[g], result.zeros[g]),
        });
      }
    }
  }
  return {
    points,
    levels,
    result,
    relativeError: relativeError(vector, result.dequantized),
    maxAbsError: maxAbsError(vector, result.dequantized),
    bitsPerElement: s.bits + 32 / G,
    config,
  };
}

const METHOD_NAMES = { minmax: 'min-max (quanto)', hqq: 'HQQ', absmax: 'abs-max (symmetric)' } as const;

export function methodName(m: QuantConfig['method']): string {
  return METHOD_NAMES[m];
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

/** One-paragraph text summary of the chart (the key numbers in words). */
export function summaryText(v: VectorView, s: VectorState, label: string): string {
  const n = v.points.length;
  const groups = v.result.groups;
  return (
    `${label}: ${n} numbers quantized to ${s.bits} bits in ${groups} group${groups === 1 ? '' : 's'} of ${s.group} with ${methodName(s.method)}. ` +
    `Each group has ${2 ** s.bits} levels. Relative error ${pct(v.relativeError)}, largest error of one number ${v.maxAbsError.toPrecision(3)}. ` +
    `Storage: ${s.bits} bits per number plus a 16-bit scale and zero per group = ${v.bitsPerElement.toFixed(2)} bits per number.`
  );
}

/** Plot options: grid levels as short horizontal rules per group, error sticks, original and dequantized dots. */
export function vectorChartOptions(v: VectorView, s: VectorState, width: number, label: string): Plot.PlotOptions {
  const n = v.points.length;
  const G = s.group;
  const boundaries = Array.from({ length: Math.max(0, Math.ceil(n / G) - 1) }, (_, i) => (i + 1) * G - 0.5);
  return {
    width,
    height: 300,
    marginLeft: 48,
    ariaLabel: `Dot chart of the ${n} numbers of ${label}, original and after ${s.bits}-bit quantization with groups of ${G}; horizontal lines are the values each group can represent.`,
    x: { label: 'Channel (position in the vector)', domain: [-0.5, n - 0.5] },
    y: { label: 'Value', grid: false },
    color: { domain: ['original', 'dequantized'], range: [colour('purple'), colour('orange')], legend: true },
    marks: [
      Plot.ruleY(v.levels, {
        y: 'value',
        x1: 'x1',
        x2: 'x2',
        stroke: 'currentColor',
        strokeOpacity: 0.22,
        ariaHidden: 'true',
      } as Plot.RuleYOptions),
      Plot.ruleX(boundaries, {
        stroke: 'currentColor',
        strokeOpacity: 0.5,
        strokeDasharray: '3,3',
        ariaHidden: 'true',
      } as Plot.RuleXOptions),
      Plot.link(v.points, {
        x1: 'channel',
        x2: 'channel',
        y1: 'original',
        y2: 'dequantized',
        stroke: colour('red'),
        strokeWidth: 1.5,
        ariaHidden: 'true',
      } as Plot.LinkOptions),
      Plot.dot(v.points, { x: 'channel', y: 'original', fill: () => 'original', r: 2.6, ariaHidden: 'true' } as Plot.DotOptions),
      Plot.dot(v.points, {
        x: 'channel',
        y: 'dequantized',
        stroke: () => 'dequantized',
        r: 3.4,
        strokeWidth: 1.4,
        ariaHidden: 'true',
      } as Plot.DotOptions),
    ],
  };
}

/** A seeded, reproducible stand-in vector (used only while the precomputed tensors are missing): Gaussian with two outlier channels. */
export function syntheticVector(seed: number, length = 64): Float32Array {
  const rand = createRng(seed >>> 0 || 1);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = Math.max(rand(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  }
  out[length >> 3] *= 4;
  out[(length * 5) >> 3] *= -3;
  return out;
}

/** Copy one token vector out of a [heads, tokens, headDim] tensor. */
export function vectorOf(t: KVTensor, head: number, token: number): Float32Array {
  const h = Math.min(Math.max(0, head), t.heads - 1);
  const k = Math.min(Math.max(0, token), t.tokens - 1);
  const start = (h * t.tokens + k) * t.headDim;
  return t.data.slice(start, start + t.headDim);
}

/** absmax needs a sign bit: 1-bit absmax is replaced by 2 bits, with a note for the reader. */
export function resolveVectorState<S extends Pick<VectorState, 'bits' | 'method'>>(s: S): { state: S; note: string | null } {
  if (s.method === 'absmax' && s.bits < 2)
    return { state: { ...s, bits: 2 }, note: 'Symmetric (abs-max) quantization needs a sign bit, so 1 bit is shown as 2 bits.' };
  return { state: s, note: null };
}
