import { defineCodec, enumSpec, type CodecState } from '../shared/params';

/** Bits choices of the playground: the engine's BITS plus 16 = no quantization (fp16 preset). */
export const QUANTIZER_BITS = [1, 2, 3, 4, 8, 16] as const;

/** Which engine's cache the quantizer shows: Transformers' QuantizedCache (bits/group/axis/method) or a serving engine's format. */
export const ENGINES = ['transformers', 'vllm', 'llamacpp'] as const;
export type Engine = (typeof ENGINES)[number];
/** vLLM/SGLang `--kv-cache-dtype` values the widget offers (`fp8` is vLLM's alias of fp8_e4m3; NVFP4 is vLLM only). */
export const VLLM_DTYPES = ['fp8_e4m3', 'fp8_e5m2', 'nvfp4'] as const;
/** llama.cpp `-ctk` / `-ctv` types (common/arg.cpp's kv_cache_types minus bf16/f32): f16 = not quantized. */
export const LLAMACPP_TYPES = ['f16', 'q8_0', 'q5_1', 'q5_0', 'q4_1', 'q4_0', 'iq4_nl'] as const;
/**
 * FP8 scale: unit = 1.0 (vLLM without calibrated scales), tensor/head = amax/448 (or /57344) per layer tensor or KV head,
 * dynamic = vLLM's `calc_kv_scales` (amax/200 for K, amax/100 for V).
 */
export const FP8_SCALES = ['unit', 'tensor', 'head', 'dynamic'] as const;

const own = {
  engine: enumSpec(
    ENGINES,
    'transformers',
    'Engine whose KV cache is shown: transformers (QuantizedCache: bits, group, axes, method), vllm (FP8 or NVFP4 `--kv-cache-dtype`, also SGLang’s FP8) or llamacpp (`-ctk`/`-ctv` block types).',
  ),
  dtype: enumSpec(
    VLLM_DTYPES,
    'fp8_e4m3',
    'With engine=vllm: the `--kv-cache-dtype` (fp8_e4m3, fp8_e5m2 or nvfp4), the same for keys and values.',
  ),
  fp8scale: enumSpec(
    FP8_SCALES,
    'unit',
    'With engine=vllm and an FP8 dtype: the scale (unit = 1.0, tensor, head, dynamic = amax/200 for K and amax/100 for V as vLLM’s calc_kv_scales).',
  ),
  kfmt: enumSpec(LLAMACPP_TYPES, 'q8_0', 'With engine=llamacpp: the key cache type (`-ctk`).'),
  vfmt: enumSpec(LLAMACPP_TYPES, 'q8_0', 'With engine=llamacpp: the value cache type (`-ctv`; a quantized V needs flash attention).'),
  hadamard: enumSpec(
    ['on', 'off'] as const,
    'on',
    'With engine=llamacpp: rotate quantized K and V with a 64×64 Hadamard matrix before storing them, as llama.cpp does since PR #21038 (off = LLAMA_ATTN_ROT_DISABLE=1).',
  ),
};

const NAMES = [
  'model',
  'prompt',
  'layer',
  'head',
  'tensor',
  'engine',
  'dtype',
  'fp8scale',
  'kfmt',
  'vfmt',
  'hadamard',
  'bits',
  'group',
  'kaxis',
  'vaxis',
  'method',
  'residual',
  'controls',
  'theme',
] as const;

/** URL parameters of <kv-quantizer>; attributes mirror them (`<kv-quantizer bits="2" group="32">`, `<kv-quantizer engine="llamacpp" kfmt="q4_0">`). */
export const quantizerCodec = defineCodec<(typeof NAMES)[number], typeof own>(NAMES, {
  own,
  specs: { bits: enumSpec<number>(QUANTIZER_BITS, 4, 'Bits per quantized element; 16 = an unquantized fp16 cache (zero error).') },
  controlNames: [
    'prompt',
    'preset',
    'layer',
    'head',
    'tensor',
    'engine',
    'dtype',
    'fp8scale',
    'kfmt',
    'vfmt',
    'hadamard',
    'bits',
    'group',
    'kaxis',
    'vaxis',
    'method',
    'residual',
  ],
});

export type QuantizerState = CodecState<(typeof NAMES)[number], typeof own>;

/** The quantization part of the state that presets set. */
export type QuantSettings = Pick<QuantizerState, 'bits' | 'group' | 'kaxis' | 'vaxis' | 'method' | 'residual'>;

export const PRESETS: ReadonlyArray<{ id: string; label: string; settings: QuantSettings }> = [
  {
    id: 'transformers',
    label: 'Transformers default (quanto int4, per-token, G64, R128)',
    settings: { bits: 4, group: 64, kaxis: 'token', vaxis: 'token', method: 'minmax', residual: 128 },
  },
  {
    id: 'kivi2',
    label: 'KIVI-2 (K per-channel, V per-token, G32, R128)',
    settings: { bits: 2, group: 32, kaxis: 'channel', vaxis: 'token', method: 'minmax', residual: 128 },
  },
  {
    id: 'hqq2',
    label: 'HQQ int2 (per-token, G64, R128)',
    settings: { bits: 2, group: 64, kaxis: 'token', vaxis: 'token', method: 'hqq', residual: 128 },
  },
  {
    id: 'fp16',
    label: 'fp16 (no quantization)',
    settings: { bits: 16, group: 64, kaxis: 'token', vaxis: 'token', method: 'minmax', residual: 128 },
  },
];

/** The preset the state matches ('custom' if none). fp16 matches any state with bits=16. */
export function presetOf(s: QuantSettings): string {
  if (s.bits === 16) return 'fp16';
  const keys = ['bits', 'group', 'kaxis', 'vaxis', 'method', 'residual'] as const;
  return PRESETS.find((p) => keys.every((k) => p.settings[k] === s[k]))?.id ?? 'custom';
}
