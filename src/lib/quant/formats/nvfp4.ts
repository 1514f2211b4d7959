/**
 * NVFP4 fake quantization as vLLM's reference emulation `ref_nvfp4_quant` + `ref_nvfp4_quant_dequant`
 * (vllm/model_executor/layers/quantization/utils/nvfp4_emulation_utils.py, vLLM commit 055e47c), float32 at every
 * step: blocks of 16 along headDim, FP8-E4M3 block scales, E2M1 elements {0, 0.5, 1, 1.5, 2, 3, 4, 6}.
 *
 *   s  = e4m3(clamp(fl(gs · fl(vmax · fl(1/6))), ±448))        vmax = max |x| of the block
 *   o  = get_reciprocal(fl(s · get_reciprocal(gs)))            get_reciprocal(t) = 1 / (t + (t == 0)·1e8)
 *   q  = cast_to_fp4(clamp(fl(x · o), ±6))                      thresholds = round to nearest, ties to even
 *   x̂  = fl(q · fl(s / gs))
 *
 * Where the source differs from the usual prose: (1) a zero block scale gives o = fl(1/1e8) (the `+ (t == 0)·1e8`
 * guard), not 1/1e-8 — harmless since such a block is all zeros after the scale; (2) `cast_to_fp4` multiplies the
 * magnitude by `torch.sign(x)`, so x = −0 gives +0 while a negative x that rounds to 0 gives −0.
 * Global scale gs: the emulation takes it as an input; vLLM's own NVFP4 tests derive it as
 * `(FLOAT8_E4M3_MAX * FLOAT4_E2M1_MAX) / amax` with amax a float32 tensor (tests/kernels/quantization/
 * test_nvfp4_quant.py). PyTorch evaluates `python_float / tensor` as `tensor.reciprocal() * python_float`
 * (torch/_tensor.py `__rdiv__`), so gs = fl(fl(1/amax) · 2688) — reciprocal first, which differs from a true
 * division in the last bit for some amax (the fixtures caught it). amax is over the tensor, or per head with scale
 * 'head'; 'unit' gives gs = 1. An all-zero scope gets gs = 1 (1/0 would be +inf and then NaN).
 */
import { roundE4m3 } from './fp8';

const fl = Math.fround;
const INV6 = fl(1 / 6);
const INV_1E8 = fl(1 / 1e8);

/** `cast_to_fp4` for one value: magnitude by its thresholds, times torch.sign(v) (0 for ±0). */
export function castToFp4(v: number): number {
  const a = Math.abs(v);
  let m: number;
  if (a <= 0.25) m = 0;
  else if (a < 0.75) m = 0.5;
  else if (a <= 1.25) m = 1;
  else if (a < 1.75) m = 1.5;
  else if (a <= 2.5) m = 2;
  else if (a < 3.5) m = 3;
  else if (a <= 5) m = 4;
  else m = 6;
  return v > 0 ? m : v < 0 ? -m : 0;
}

/** gs = fl(fl(1/amax) · 2688); 1 for amax = 0. */
export function nvfp4GlobalScale(amax: number): number {
  return amax === 0 ? 1 : fl(fl(1 / amax) * 2688);
}

/** The per-block constants for a block max and global scale: [o, s/gs]. */
export function nvfp4BlockScales(vmax: number, gs: number): [number, number] {
  let s = fl(gs * fl(vmax * INV6));
  if (s > 448) s = 448;
  s = roundE4m3(s);
  const y = fl(s * fl(1 / gs));
  const o = y === 0 ? INV_1E8 : fl(1 / y);
  return [o, fl(s / gs)];
}

/** NVFP4 over data[from, to) (multiple of 16) with global scale gs into out. */
export function nvfp4Range(data: Float32Array, out: Float32Array, from: number, to: number, gs: number): void {
  for (let b = from; b < to; b += 16) {
    let vmax = 0;
    for (let j = 0; j < 16; j++) {
      const a = Math.abs(data[b + j]);
      if (a > vmax) vmax = a;
    }
    const [o, ds] = nvfp4BlockScales(vmax, gs);
    for (let j = 0; j < 16; j++) {
      let v = fl(data[b + j] * o);
      v = v > 6 ? 6 : v < -6 ? -6 : v;
      out[b + j] = fl(castToFp4(v) * ds);
    }
  }
}
