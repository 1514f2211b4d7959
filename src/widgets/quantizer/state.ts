import { defineCodec, enumSpec, type StateOf } from '../shared/params';

/** Bits choices of the playground: the engine's BITS plus 16 = no quantization (fp16 preset). */
export const QUANTIZER_BITS = [1, 2, 3, 4, 8, 16] as const;

/** URL parameters of <kv-quantizer>; attributes mirror them (`<kv-quantizer bits="2" group="32">`). */
export const quantizerCodec = defineCodec(
  ['model', 'prompt', 'layer', 'head', 'tensor', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'residual', 'controls', 'theme'] as const,
  {
    specs: { bits: enumSpec<number>(QUANTIZER_BITS, 4, 'Bits per quantized element; 16 = an unquantized fp16 cache (zero error).') },
    controlNames: ['prompt', 'preset', 'layer', 'head', 'tensor', 'bits', 'group', 'kaxis', 'vaxis', 'method', 'residual'],
  },
);

export type QuantizerState = StateOf<(typeof quantizerCodec.names)[number]>;

/** The quantization part of the state that presets set. */
export type QuantSettings = Pick<QuantizerState, 'bits' | 'group' | 'kaxis' | 'vaxis' | 'method' | 'residual'>;

export const PRESETS: ReadonlyArray<{ id: string; label: string; settings: QuantSettings }> = [
  { id: 'transformers', label: 'Transformers default (quanto int4, per-token, G64, R128)', settings: { bits: 4, group: 64, kaxis: 'token', vaxis: 'token', method: 'minmax', residual: 128 } },
  { id: 'kivi2', label: 'KIVI-2 (K per-channel, V per-token, G32, R128)', settings: { bits: 2, group: 32, kaxis: 'channel', vaxis: 'token', method: 'minmax', residual: 128 } },
  { id: 'hqq2', label: 'HQQ int2 (per-token, G64, R128)', settings: { bits: 2, group: 64, kaxis: 'token', vaxis: 'token', method: 'hqq', residual: 128 } },
  { id: 'fp16', label: 'fp16 (no quantization)', settings: { bits: 16, group: 64, kaxis: 'token', vaxis: 'token', method: 'minmax', residual: 128 } },
];

/** The preset the state matches ('custom' if none). fp16 matches any state with bits=16. */
export function presetOf(s: QuantSettings): string {
  if (s.bits === 16) return 'fp16';
  const keys = ['bits', 'group', 'kaxis', 'vaxis', 'method', 'residual'] as const;
  return PRESETS.find((p) => keys.every((k) => p.settings[k] === s[k]))?.id ?? 'custom';
}
