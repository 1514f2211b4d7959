/**
 * Widget state → the engine's `QuantConfig`, in one place. Widgets hold bits as a plain number
 * from their URL codec (some offer 16 = no quantization); the engine takes `Bits`. Every widget
 * converts through here instead of casting, so "16 means unquantized" and the metadata dtype rule
 * have one home.
 */
import {
  BITS,
  MEMORY_BITS,
  type Axis,
  type Bits,
  type MemoryBits,
  type MetaDtype,
  type Method,
  type QuantConfig,
} from '../../lib/quant/index';
import { catalogueEntry } from '../../lib/model/catalogue';

/** The bits value widgets use for an unquantized (fp16) cache. */
export const UNQUANTIZED_BITS = 16;

export function isQuantBits(n: number): n is Bits {
  return (BITS as readonly number[]).includes(n);
}

/** `n` as engine bits; a RangeError naming the allowed values otherwise (a codec let through a value the engine lacks). */
export function toBits(n: number): Bits {
  if (!isQuantBits(n)) throw new RangeError(`bits = ${n} is not a quantized width (allowed: ${BITS.join(', ')})`);
  return n;
}

/** `n` as a width the memory accounting knows (the quantized ones and 16). */
export function toMemoryBits(n: number): MemoryBits {
  if (!(MEMORY_BITS as readonly number[]).includes(n))
    throw new RangeError(`bits = ${n} is not a width the memory count knows (allowed: ${MEMORY_BITS.join(', ')})`);
  return n as MemoryBits; // checked on the line above
}

/**
 * Metadata dtype of a model's cache: a real cache keeps scale and zero in its own dtype
 * (optimum-quanto's `MaxOptimizer` returns them in the input dtype; hqq's `Quantizer.quantize` is
 * called by Transformers 5.x `HQQQuantizedLayer` with `compute_dtype=self.keys.dtype`). The bundled
 * fp32 model therefore has fp32 metadata; the Hub models' q4f16 graphs return an fp16 cache.
 */
export function metaDtypeOfModel(modelId: string): MetaDtype {
  const e = catalogueEntry(modelId);
  return e && 'runtime' in e && e.runtime?.dtype === 'fp32' ? 'fp32' : 'fp16';
}

/** The quantization choices a widget state holds for one tensor. */
export interface QuantChoice {
  bits: number;
  group: number;
  axis: Axis;
  method: Method;
}

/** The engine config for one tensor, or null for bits = 16 (no quantization). */
export function quantConfigOf(c: QuantChoice, metaDtype: MetaDtype): QuantConfig | null {
  if (c.bits === UNQUANTIZED_BITS) return null;
  return { bits: toBits(c.bits), groupSize: c.group, axis: c.axis, method: c.method, metaDtype };
}

/** As `quantConfigOf`, for widgets that always quantize (their codecs do not offer 16). */
export function requireQuantConfig(c: QuantChoice, metaDtype: MetaDtype): QuantConfig {
  const q = quantConfigOf(c, metaDtype);
  if (!q) throw new RangeError('bits = 16 means no quantization; this widget needs a quantized width');
  return q;
}
