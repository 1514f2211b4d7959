/**
 * The quantizer the model layer applies to simulated caches: `fakeQuantize` from `src/lib/quant`
 * (quantize, then dequantize), keeping only the dequantized values.
 */
import { fakeQuantize } from '../../lib/quant/index';
import type { FakeQuantizeFn } from './quantized-cache';

export const fakeQuantizeDequantized: FakeQuantizeFn = (t, cfg) => fakeQuantize(t, cfg).dequantized;
