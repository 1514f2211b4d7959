/**
 * The quantizer's control set: the Transformers settings (preset, bits, group, key/value grouping, method,
 * residual), the layer/head/tensor pickers and the serving-engine format controls (vLLM/SGLang dtype and FP8
 * scale, llama.cpp -ctk/-ctv and Hadamard rotation). It lives apart from the element so that building the
 * controls, syncing them to the state and showing only the chosen engine's controls have one home.
 *
 * The widget's bits include 16 (fp16, no quantization) and its method labels name HQQ's optimized zero, so it
 * does not use shared/quant-controls (whose bits stop at 8); the layouts come from the same axisOptions.
 */
import { followIndex, followSteps, rangeControl, selectControl, withStep, type RangeControl, type SelectControl } from '../shared/controls';
import { axisOptions } from '../shared/axis-labels';
import { describeQuant } from '../shared/params';
import { layerHeadSliders, range } from '../shared/layer-head';
import { METHODS } from '../../lib/quant/index';
import { FP8_SCALES, LLAMACPP_TYPES, PRESETS, presetOf, QUANTIZER_BITS, VLLM_DTYPES, type QuantizerState } from './state';

const ENGINE_LABELS: Record<string, string> = {
  transformers: 'Transformers (QuantizedCache)',
  vllm: 'vLLM / SGLang (--kv-cache-dtype)',
  llamacpp: 'llama.cpp (-ctk / -ctv)',
};
const SCALE_LABELS: Record<string, string> = {
  unit: 'scale 1.0 (no calibration)',
  tensor: 'per tensor (amax/max)',
  head: 'per KV head (amax/max)',
  dynamic: 'dynamic (K amax/200, V amax/100)',
};
/** Controls of each engine (the others are hidden while it is chosen). */
export const ENGINE_CONTROLS: Record<string, readonly string[]> = {
  transformers: ['preset', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'residual'],
  vllm: ['dtype', 'fp8scale'],
  llamacpp: ['kfmt', 'vfmt', 'hadamard'],
};

/**
 * For each engine control: whether it shows for this state (the chosen engine's controls only; NVFP4 has no FP8
 * scale to choose). Pure, so the rule is testable without a DOM.
 */
export function engineControlVisibility(s: Pick<QuantizerState, 'engine' | 'dtype'>): Map<string, boolean> {
  const shown = new Map<string, boolean>();
  for (const [engine, names] of Object.entries(ENGINE_CONTROLS))
    for (const n of names) shown.set(n, engine === s.engine && (n !== 'fp8scale' || s.dtype !== 'nvfp4'));
  return shown;
}

const withValue = withStep;
const RESIDUAL_STEPS = [0, 32, 64, 128, 256, 512, 1024];

export interface QuantizerControls {
  layer: RangeControl<number>;
  head: RangeControl<number>;
  bits: RangeControl<number>;
  group: RangeControl<number>;
  residual: RangeControl<number>;
  preset: SelectControl<string>;
  tensor: SelectControl<string>;
  kaxis: SelectControl<string>;
  vaxis: SelectControl<string>;
  method: SelectControl<string>;
  engine: SelectControl<string>;
  dtype: SelectControl<string>;
  fp8scale: SelectControl<string>;
  kfmt: SelectControl<string>;
  vfmt: SelectControl<string>;
  hadamard: SelectControl<string>;
}

/**
 * Builds every control from the state `read()` gives now (and reads it again for the live aria-valuetext).
 * `describeLayer` names a layer (it knows the loaded model); `set` applies a change.
 */
export function buildControls(
  read: () => QuantizerState,
  set: (patch: Partial<QuantizerState>) => void,
  describeLayer: (layer: number) => string,
): QuantizerControls {
  const s = read();
  // Built in this order so the controls' generated ids (shared/controls nextId) stay as they were.
  const preset = selectControl<string>({
    name: 'preset',
    label: 'Preset',
    options: [...PRESETS.map((p) => ({ value: p.id, label: p.label })), { value: 'custom', label: 'Custom (your settings)' }],
    value: presetOf(s),
    onChange: (id) => {
      const p = PRESETS.find((x) => x.id === id);
      if (p) set({ ...p.settings });
    },
  });
  const { layer, head } = layerHeadSliders({
    layer: s.layer,
    head: s.head,
    layers: range(Math.max(8, s.layer + 1)),
    heads: range(Math.max(2, s.head + 1)),
    describeLayer,
    set,
  });
  const tensor = selectControl<string>({
    name: 'tensor',
    label: 'Heatmaps show',
    options: [
      { value: 'k', label: 'Keys' },
      { value: 'v', label: 'Values' },
    ],
    value: s.tensor,
    onChange: (v) => set({ tensor: v as 'k' | 'v' }),
  });
  const bits = rangeControl({
    name: 'bits',
    label: 'Bits',
    values: QUANTIZER_BITS,
    value: s.bits,
    describe: (v) => (v === 16 ? '16 bits, unquantized fp16' : describeQuant(v, read().group)),
    short: (v) => (v === 16 ? 'fp16' : `${v} bit${v === 1 ? '' : 's'}`),
    onChange: (v) => set({ bits: v }),
  });
  const group = rangeControl({
    name: 'group',
    label: 'Group size',
    values: [16, 32, 64, 128],
    value: s.group,
    describe: (v) => describeQuant(read().bits, v),
    short: (v) => `G${v}`,
    onChange: (v) => set({ group: v }),
  });
  const axisChoices = axisOptions<string>();
  const kaxis = selectControl<string>({
    name: 'kaxis',
    label: 'Key grouping',
    options: axisChoices,
    value: s.kaxis,
    onChange: (v) => set({ kaxis: v as QuantizerState['kaxis'] }),
  });
  const vaxis = selectControl<string>({
    name: 'vaxis',
    label: 'Value grouping',
    options: axisChoices,
    value: s.vaxis,
    onChange: (v) => set({ vaxis: v as QuantizerState['vaxis'] }),
  });
  const methodLabels: Record<string, string> = { minmax: 'min-max (quanto)', hqq: 'HQQ (optimized zero)', absmax: 'abs-max (symmetric)' };
  const method = selectControl<string>({
    name: 'method',
    label: 'Method',
    options: METHODS.map((m) => ({ value: m, label: methodLabels[m] ?? m })),
    value: s.method,
    onChange: (v) => set({ method: v as QuantizerState['method'] }),
  });
  const residual = rangeControl({
    name: 'residual',
    label: 'Residual length',
    values: withValue(RESIDUAL_STEPS, s.residual),
    value: s.residual,
    describe: (v) => `${v} full-precision tokens`,
    onChange: (v) => set({ residual: v }),
  });
  const engine = selectControl<string>({
    name: 'engine',
    label: 'Engine',
    options: Object.entries(ENGINE_LABELS).map(([value, label]) => ({ value, label })),
    value: s.engine,
    onChange: (v) => set({ engine: v as QuantizerState['engine'] }),
  });
  const dtype = selectControl<string>({
    name: 'dtype',
    label: 'KV cache dtype',
    options: VLLM_DTYPES.map((d) => ({ value: d, label: d === 'nvfp4' ? 'nvfp4 (vLLM)' : d })),
    value: s.dtype,
    onChange: (v) => set({ dtype: v as QuantizerState['dtype'] }),
  });
  const fp8scale = selectControl<string>({
    name: 'fp8scale',
    label: 'FP8 scale',
    options: FP8_SCALES.map((d) => ({ value: d, label: SCALE_LABELS[d] })),
    value: s.fp8scale,
    onChange: (v) => set({ fp8scale: v as QuantizerState['fp8scale'] }),
  });
  const ggml = LLAMACPP_TYPES.map((d) => ({ value: d, label: d === 'f16' ? 'f16 (not quantized)' : d }));
  const kfmt = selectControl<string>({
    name: 'kfmt',
    label: 'K cache type (-ctk)',
    options: ggml,
    value: s.kfmt,
    onChange: (v) => set({ kfmt: v as QuantizerState['kfmt'] }),
  });
  const vfmt = selectControl<string>({
    name: 'vfmt',
    label: 'V cache type (-ctv)',
    options: ggml,
    value: s.vfmt,
    onChange: (v) => set({ vfmt: v as QuantizerState['vfmt'] }),
  });
  const hadamard = selectControl<string>({
    name: 'hadamard',
    label: 'Hadamard rotation',
    options: [
      { value: 'on', label: 'on (llama.cpp default for quantized K/V)' },
      { value: 'off', label: 'off (LLAMA_ATTN_ROT_DISABLE=1)' },
    ],
    value: s.hadamard,
    onChange: (v) => set({ hadamard: v as QuantizerState['hadamard'] }),
  });
  return { layer, head, bits, group, residual, preset, tensor, kaxis, vaxis, method, engine, dtype, fp8scale, kfmt, vfmt, hadamard };
}

/** The control roots in the order the widget shows them (engine and its formats first, then the Transformers settings). */
export function controlRoots(c: QuantizerControls): HTMLElement[] {
  return [
    c.engine.root,
    c.dtype.root,
    c.fp8scale.root,
    c.kfmt.root,
    c.vfmt.root,
    c.hadamard.root,
    c.preset.root,
    c.layer.root,
    c.head.root,
    c.tensor.root,
    c.bits.root,
    c.group.root,
    c.kaxis.root,
    c.vaxis.root,
    c.method.root,
    c.residual.root,
  ];
}

/** Shows the chosen engine's controls only (style, so the `controls=` filter's `hidden` stays as it is). */
export function showEngineControls(c: QuantizerControls | undefined, s: QuantizerState): void {
  if (!c) return;
  const controls = c as unknown as Record<string, { root: HTMLElement } | undefined>;
  for (const [n, show] of engineControlVisibility(s)) {
    const root = controls[n]?.root;
    if (root) root.style.display = show ? '' : 'none';
  }
}

/**
 * The controls that show one state parameter each, for the widget's bindControls (shared/base), which moves them to
 * the state after every change (a URL, attribute or preset). The preset select shows no parameter of its own: the
 * widget sets it from presetOf.
 */
export function stateControls(c: QuantizerControls) {
  return {
    layer: followIndex(c.layer),
    head: followIndex(c.head),
    tensor: c.tensor,
    bits: c.bits,
    group: c.group,
    kaxis: c.kaxis,
    vaxis: c.vaxis,
    method: c.method,
    engine: c.engine,
    dtype: c.dtype,
    fp8scale: c.fp8scale,
    kfmt: c.kfmt,
    vfmt: c.vfmt,
    hadamard: c.hadamard,
    residual: followSteps(c.residual, RESIDUAL_STEPS),
  };
}
