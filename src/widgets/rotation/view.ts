/**
 * Pure functions of <kv-rotation>: per-channel magnitude profiles of keys before and after
 * the Hadamard rotation, and the relative error of quantizing them plainly or rotated
 * (quantize the rotated keys, rotate back, compare with the original). All quantization,
 * rotation and error numbers come from src/lib/quant. No DOM.
 */
import * as Plot from '@observablehq/plot';
import {
  allocateFakeQuantOutput,
  fakeQuantizeInto,
  groupCount,
  hadamardRotate,
  inverseHadamardRotate,
  relativeError,
  type FakeQuantBuffers,
  type KVTensor,
  type QuantConfig,
} from '../../lib/quant/index';
import type { RotationState } from './state';
import { requireQuantConfig } from '../shared/quant-config';
import { colour } from '../shared/palette';

export function configOf(s: Pick<RotationState, 'bits' | 'group' | 'kaxis' | 'method'>): QuantConfig {
  // fp16 metadata: this chapter widget shows a typical fp16 deployment's storage (16-bit scale and zero).
  return requireQuantConfig({ bits: s.bits, group: s.group, axis: s.kaxis, method: s.method }, 'fp16');
}

/** absmax needs a sign bit: 1-bit absmax becomes 2 bits, with a note. */
export function resolveRotationState<S extends Pick<RotationState, 'bits' | 'method'>>(s: S): { state: S; note: string | null } {
  if (s.method === 'absmax' && s.bits < 2)
    return { state: { ...s, bits: 2 }, note: 'Symmetric (abs-max) quantization needs a sign bit, so 1 bit is used as 2 bits.' };
  return { state: s, note: null };
}

/** Largest |x| of each channel over all tokens (and heads) of a [heads, tokens, headDim] tensor. */
export function channelMaxAbs(t: KVTensor): Float64Array {
  const out = new Float64Array(t.headDim);
  const D = t.headDim;
  for (let i = 0; i < t.data.length; i++) {
    const a = Math.abs(t.data[i]);
    const d = i % D;
    if (a > out[d]) out[d] = a;
  }
  return out;
}

/** Largest channel maximum over the median channel maximum: ≈ 1 for a flat profile, large with outlier channels. */
export function peakToMedian(profile: ArrayLike<number>): number {
  const sorted = Array.from(profile).sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return median > 0 ? sorted[n - 1] / median : Infinity;
}

/** Reusable buffers so moving a slider allocates nothing after the first draw of a shape. */
export class RotationScratch {
  rotated = new Float32Array(0);
  back = new Float32Array(0);
  #pool = new Map<string, FakeQuantBuffers>();
  ensure(n: number): void {
    if (this.rotated.length !== n) {
      this.rotated = new Float32Array(n);
      this.back = new Float32Array(n);
    }
  }
  buffers(t: KVTensor, cfg: QuantConfig, slot: string): FakeQuantBuffers {
    const key = `${slot}|${t.heads}x${t.tokens}x${t.headDim}|${cfg.axis}|${groupCount(t, cfg)}`;
    let b = this.#pool.get(key);
    if (!b) {
      b = allocateFakeQuantOutput(t, cfg);
      this.#pool.set(key, b);
    }
    return b;
  }
}

export interface RotationView {
  before: Float64Array;
  after: Float64Array;
  peakBefore: number;
  peakAfter: number;
  errorPlain: number;
  errorRotated: number;
  tokens: number;
}

/** Quantize `keys` plainly and after rotation; return profiles and both relative errors. */
export function rotationView(
  keys: KVTensor,
  s: Pick<RotationState, 'bits' | 'group' | 'kaxis' | 'method'>,
  scratch = new RotationScratch(),
): RotationView {
  const cfg = configOf(s);
  const n = keys.data.length;
  scratch.ensure(n);
  const plain = fakeQuantizeInto(keys, cfg, scratch.buffers(keys, cfg, 'plain'));
  const errorPlain = relativeError(keys.data, plain.dequantized);
  const rotated = hadamardRotate(keys, scratch.rotated);
  const rq = fakeQuantizeInto(rotated, cfg, scratch.buffers(rotated, cfg, 'rotated'));
  inverseHadamardRotate({ ...rotated, data: rq.dequantized }, scratch.back);
  const errorRotated = relativeError(keys.data, scratch.back);
  const before = channelMaxAbs(keys);
  const after = channelMaxAbs(rotated);
  return { before, after, peakBefore: peakToMedian(before), peakAfter: peakToMedian(after), errorPlain, errorRotated, tokens: keys.tokens };
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

export function summaryText(v: RotationView, s: RotationState, label: string): string {
  const axis = s.kaxis === 'channel' ? `per-channel groups of ${s.group} tokens` : `per-token groups of ${s.group} channels`;
  const better = v.errorRotated < v.errorPlain;
  return (
    `${label}, ${v.tokens} tokens. Before the rotation the largest channel reaches ${v.peakBefore.toFixed(1)}× the median channel's maximum; after it, ${v.peakAfter.toFixed(1)}×. ` +
    `Quantized to ${s.bits} bits with ${axis}: relative error ${pct(v.errorPlain)} without rotation, ${pct(v.errorRotated)} with it (rotated, quantized, rotated back) — ` +
    (better
      ? `the rotation lowers the error by ${((1 - v.errorRotated / v.errorPlain) * 100).toFixed(0)} %.`
      : `the rotation does not help here.`)
  );
}

export interface ProfileDatum {
  channel: number;
  maxAbs: number;
  series: 'before rotation' | 'after rotation';
}

export function profileData(v: RotationView): ProfileDatum[] {
  const rows: ProfileDatum[] = [];
  v.before.forEach((m, channel) => rows.push({ channel, maxAbs: m, series: 'before rotation' }));
  v.after.forEach((m, channel) => rows.push({ channel, maxAbs: m, series: 'after rotation' }));
  return rows;
}

const SERIES: ProfileDatum['series'][] = ['before rotation', 'after rotation'];

/** Bars of per-channel max |x| before and after rotation, one panel each (facet by series). */
export function profileChartOptions(v: RotationView, width: number, label: string): Plot.PlotOptions {
  return {
    width,
    height: 320,
    marginLeft: 48,
    ariaLabel: `Bar charts of the largest absolute value of each of the ${v.before.length} key channels of ${label}, before the Hadamard rotation (peak ${v.peakBefore.toFixed(1)}× the median) and after it (${v.peakAfter.toFixed(1)}×).`,
    x: { label: 'Channel', tickFormat: (d: number) => (d % 16 === 0 ? String(d) : '') },
    y: { label: 'Max |key|', grid: true },
    // The facet names go above each panel's right end instead of on a right-hand fy axis: that axis gets
    // Plot's default 20 px right margin and cut "after rotation" to "after r".
    fy: { label: null, axis: null, domain: SERIES, padding: 0.16 },
    color: { domain: SERIES, range: [colour('purple'), colour('green')] },
    marks: [
      Plot.barY(profileData(v), { x: 'channel', y: 'maxAbs', fy: 'series', fill: 'series', ariaHidden: 'true' } as Plot.BarYOptions),
      Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      Plot.text(SERIES, {
        fy: (d: string) => d,
        text: (d: string) => d,
        frameAnchor: 'top-right',
        lineAnchor: 'bottom',
        dy: -4,
        fontSize: 11,
        fontWeight: 600,
        fill: 'currentColor',
        className: 'facet-label',
        ariaHidden: 'true',
      } as Plot.TextOptions),
    ],
  };
}
