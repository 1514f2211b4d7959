/**
 * The trade-off sweep, without any DOM: every valid combination of bits × group × axis × method,
 * applied to every layer of the keys or values of one prompt. Used by sweep.worker.ts and by tests.
 * Each point's numbers come from src/lib/quant: memory from `kvCacheBytes(...).bitsPerElement`
 * (fp16 scale and zero), tensor error ‖x − x̂‖/‖x‖ over all layers at once (squaredErrorSums per layer), attention-output
 * error from `attentionImpact` (mean over layers of `outputRelError`, with the layer's last queries).
 */
import {
  allocateFakeQuantOutput,
  attentionImpact,
  BITS,
  engineFormatInfo,
  fakeQuantizeInto,
  hadamardRotate,
  kvCacheBytes,
  quantizeFormat,
  relativeErrorOfSums,
  squaredErrorSums,
  type Axis,
  type Bits,
  type EngineFormat,
  type FakeQuantBuffers,
  type FormatScale,
  type KVTensor,
  type Method,
} from '../../lib/quant/index';

export const SWEEP_GROUPS = [16, 32, 64, 128] as const;
/** HQQ last: it is much slower (iterative optimizer), so the fast methods stream in first. */
export const SWEEP_METHODS = ['minmax', 'absmax', 'hqq'] as const;

/**
 * Grouping layouts per method: per token and KIVI's per-channel groups for every method, plus the layouts only one
 * Transformers backend has: quanto's axis −1 (`flat-channel`) for min-max, HQQ's axis 0 (`strided`, its default) for HQQ.
 */
export const SWEEP_AXES = {
  minmax: ['token', 'channel', 'flat-channel'],
  absmax: ['token', 'channel'],
  hqq: ['token', 'channel', 'strided'],
} as const satisfies Record<(typeof SWEEP_METHODS)[number], readonly Axis[]>;

/** Query tokens (the last ones of the prompt) used for the attention-output error. */
export const ATTENTION_QUERIES = 16;

export type TensorKind = 'k' | 'v';

export interface SweepConfig {
  tensor: TensorKind;
  bits: Bits;
  group: number;
  axis: Axis;
  method: Method;
}

export interface SweepPoint extends SweepConfig {
  /** Bits per quantized element including fp16 scale and zero (kvCacheBytes). */
  bpe: number;
  /** Relative error ‖x − x̂‖ / ‖x‖ over every layer of this tensor. */
  relErr: number;
  /** Mean over layers of attentionImpact().outputRelError (only this tensor quantized); null without queries. */
  attnErr: number | null;
  ms: number;
}

export interface SweepInput {
  keys: KVTensor[];
  values: KVTensor[];
  queries: KVTensor[] | null;
}

/** Every valid configuration, fast methods first (absmax needs ≥ 2 bits). */
export function sweepConfigs(tensors: readonly TensorKind[] = ['k', 'v']): SweepConfig[] {
  const out: SweepConfig[] = [];
  for (const method of SWEEP_METHODS)
    for (const tensor of tensors)
      for (const bits of BITS)
        for (const group of SWEEP_GROUPS)
          for (const axis of SWEEP_AXES[method]) {
            if (method === 'absmax' && bits < 2) continue;
            out.push({ tensor, bits, group, axis, method });
          }
  return out;
}

export const configKey = (c: Pick<SweepConfig, 'tensor' | 'bits' | 'group' | 'axis' | 'method'>) =>
  `${c.tensor}|${c.bits}|${c.group}|${c.axis}|${c.method}`;

/** The last `n` query tokens of every head of a `[heads, tokens, headDim]` query tensor. */
export function lastQueries(q: KVTensor, n = ATTENTION_QUERIES): KVTensor {
  const m = Math.min(n, q.tokens);
  const data = new Float32Array(q.heads * m * q.headDim);
  for (let h = 0; h < q.heads; h++) {
    const from = (h * q.tokens + q.tokens - m) * q.headDim;
    data.set(q.data.subarray(from, from + m * q.headDim), h * m * q.headDim);
  }
  return { data, heads: q.heads, tokens: m, headDim: q.headDim };
}

/** Whether `queries` fit `keys` (same layers, tokens and head size, query heads a multiple of KV heads). */
export function queriesUsable(input: SweepInput): boolean {
  const q = input.queries;
  if (!q || q.length !== input.keys.length) return false;
  return q.every(
    (t, i) => t && t.tokens === input.keys[i].tokens && t.headDim === input.keys[i].headDim && t.heads % input.keys[i].heads === 0,
  );
}

/** A reusable evaluator: buffers are allocated once per tensor shape. */
export function makeEvaluator(input: SweepInput) {
  const layers = input.keys.length;
  const k0 = input.keys[0];
  const per = k0.data.length;
  const useQ = queriesUsable(input);
  const qs = useQ ? input.queries!.map((q) => lastQueries(q)) : null;
  let buffers: FakeQuantBuffers | null = null;
  let bufferKey = '';

  return function evaluate(c: SweepConfig): SweepPoint {
    const t0 = performance.now();
    const tensors = c.tensor === 'k' ? input.keys : input.values;
    const cfg = { bits: c.bits, groupSize: c.group, axis: c.axis, method: c.method } as const;
    const key = `${c.group}|${c.axis}`;
    if (!buffers || key !== bufferKey) {
      buffers = allocateFakeQuantOutput(tensors[0], cfg);
      bufferKey = key;
    }
    let attnSum = 0;
    // relative error over the whole cache (all layers of this tensor) from per-layer sums: no concatenation
    const sums = { error: 0, signal: 0 };
    for (let l = 0; l < layers; l++) {
      const r = fakeQuantizeInto(tensors[l], cfg, buffers);
      const dq = r.dequantized.length === per ? r.dequantized : r.dequantized.subarray(0, per);
      const s = squaredErrorSums(tensors[l].data, dq);
      sums.error += s.error;
      sums.signal += s.signal;
      if (qs) {
        const a =
          c.tensor === 'k'
            ? attentionImpact(qs[l], input.keys[l], dq, input.values[l], input.values[l].data)
            : attentionImpact(qs[l], input.keys[l], input.keys[l].data, input.values[l], dq);
        attnSum += a.outputRelError;
      }
    }
    const relErr = relativeErrorOfSums(sums);
    const bpe = kvCacheBytes({
      layers,
      kvHeads: k0.heads,
      headDim: k0.headDim,
      tokens: k0.tokens,
      bits: c.bits,
      groupSize: c.group,
      axis: c.axis,
    }).bitsPerElement;
    return { ...c, bpe, relErr, attnErr: qs ? attnSum / layers : null, ms: performance.now() - t0 };
  };
}

// ---------------------------------------------------------------- serving-engine formats

/** Mark families of the engine formats on the chart (each its own shape and colour). */
export type FormatFamily = 'fp8' | 'nvfp4' | 'ggml' | 'ggml-rot';

/** One engine format applied to every layer of K or V (src/lib/quant/formats, quantizeFormat). */
export interface FormatConfig {
  tensor: TensorKind;
  format: EngineFormat;
  /** FP8 scale mode; 'dynamic-k'/'dynamic-v' = vLLM's calc_kv_scales for keys/values. */
  scale?: FormatScale;
  /** llama.cpp's Hadamard rotation of K and V (ggml-org/llama.cpp PR #21038) before quantizing. */
  hadamard: boolean;
}

export interface FormatPoint extends FormatConfig {
  family: FormatFamily;
  /** Short label for the chart and table, e.g. "q4_0 + Hadamard", "FP8 E4M3 (dynamic)". */
  label: string;
  /** Bits per element as stored (ENGINE_FORMATS: block scales included, per-tensor scales not). */
  bpe: number;
  relErr: number;
  attnErr: number | null;
  ms: number;
}

/**
 * The formats the sweep measures: vLLM's FP8 with scale 1.0 (no calibration) and with calc_kv_scales' dynamic
 * scales, NVFP4, and every llama.cpp type with and without its Hadamard rotation (on by default for quantized caches).
 */
export function formatConfigs(tensors: readonly TensorKind[] = ['k', 'v']): FormatConfig[] {
  const out: FormatConfig[] = [];
  for (const tensor of tensors) {
    const dyn: FormatScale = tensor === 'k' ? 'dynamic-k' : 'dynamic-v';
    out.push(
      { tensor, format: 'fp8_e4m3', scale: 'unit', hadamard: false },
      { tensor, format: 'fp8_e4m3', scale: dyn, hadamard: false },
      { tensor, format: 'fp8_e5m2', scale: 'unit', hadamard: false },
      { tensor, format: 'nvfp4', hadamard: false },
    );
    for (const format of ['q8_0', 'q5_1', 'q5_0', 'q4_1', 'q4_0', 'iq4_nl'] as const)
      for (const hadamard of [false, true]) out.push({ tensor, format, hadamard });
  }
  return out;
}

export function familyOf(c: Pick<FormatConfig, 'format' | 'hadamard'>): FormatFamily {
  if (c.format.startsWith('fp8')) return 'fp8';
  if (c.format === 'nvfp4') return 'nvfp4';
  return c.hadamard ? 'ggml-rot' : 'ggml';
}

export function formatLabel(c: Pick<FormatConfig, 'format' | 'scale' | 'hadamard'>): string {
  const base = engineFormatInfo(c.format).label;
  if (c.format.startsWith('fp8')) return `${base} (${c.scale?.startsWith('dynamic') ? 'dynamic scale' : 'scale 1'})`;
  return c.hadamard ? `${base} + Hadamard` : base;
}

/** Fake-quantizes one tensor with a format (rotating by H/√d first and back after when `hadamard`). */
export function quantizeWithFormat(t: KVTensor, c: Pick<FormatConfig, 'format' | 'scale' | 'hadamard'>): Float32Array {
  const opts = c.scale ? { scale: c.scale } : {};
  if (!c.hadamard) return quantizeFormat(t, c.format, opts).dequantized;
  const out = quantizeFormat(hadamardRotate(t), c.format, opts).dequantized;
  return hadamardRotate({ ...t, data: out }, out).data;
}

/** Evaluates format configurations on every layer (same error measures as makeEvaluator). */
export function makeFormatEvaluator(input: SweepInput) {
  const layers = input.keys.length;
  const qs = queriesUsable(input) ? input.queries!.map((q) => lastQueries(q)) : null;
  return function evaluate(c: FormatConfig): FormatPoint {
    const t0 = performance.now();
    const tensors = c.tensor === 'k' ? input.keys : input.values;
    const sums = { error: 0, signal: 0 };
    let attnSum = 0;
    for (let l = 0; l < layers; l++) {
      const dq = quantizeWithFormat(tensors[l], c);
      const s = squaredErrorSums(tensors[l].data, dq);
      sums.error += s.error;
      sums.signal += s.signal;
      if (qs) {
        const a =
          c.tensor === 'k'
            ? attentionImpact(qs[l], input.keys[l], dq, input.values[l], input.values[l].data)
            : attentionImpact(qs[l], input.keys[l], input.keys[l].data, input.values[l], dq);
        attnSum += a.outputRelError;
      }
    }
    return {
      ...c,
      family: familyOf(c),
      label: formatLabel(c),
      bpe: engineFormatInfo(c.format).bitsPerElement,
      relErr: relativeErrorOfSums(sums),
      attnErr: qs ? attnSum / layers : null,
      ms: performance.now() - t0,
    };
  };
}
