/**
 * FP8 KV cache as vLLM writes it (float32 arithmetic throughout, every step rounded to float32 like the reference):
 *
 *   q = cast_fp8(clamp(fl(x / scale), ±max))   x̂ = fl(q · scale)
 *
 * - The cast rounds to nearest, ties to even, as PyTorch's `Tensor.to(torch.float8_e4m3fn | torch.float8_e5m2)`.
 *   Out of range the casts disagree between paths: c10's scalar conversion (c10/util/Float8_e4m3fn.h
 *   `fp8e4m3fn_from_fp32_value`) sends |v| > 464 to NaN (e4m3fn has no infinity), while torch 2.13's CPU tensor cast
 *   saturates e4m3fn to ±448 (measured: 480, 1e6 and inf all give 448); e5m2 overflows to ±inf from 61440 in both.
 *   The clamp to ±448 / ±57344 that comes first makes all of them agree (vLLM's CUDA cache writer
 *   `csrc/quantization/fp8/nvidia/quant_utils.cuh` converts `x / scale` with `__NV_SATFINITE`, the same values).
 *   `roundE4m3` below follows c10's scalar rule.
 * - Scales (`FormatScale`): 'unit' = 1.0 (vLLM's k_scale/v_scale default when the checkpoint carries none);
 *   'tensor' = amax(|x|)/max over the whole tensor; 'head' = one amax/max per KV head; 'dynamic-k' /
 *   'dynamic-v' = vLLM's `Attention.calc_kv_scales` (vllm/attention/layer.py, vLLM commit 004a5da): `abs(key).max() / k_range` with
 *   `k_range = torch.tensor(envs.K_SCALE_CONSTANT, dtype=float32)` (default 200) and V_SCALE_CONSTANT (default 100)
 *   for values, computed once over the whole layer tensor on the first forward pass. A scale that comes out 0
 *   (all-zero tensor or head) is replaced by 1: the reference would compute 0/0 = NaN there.
 */

/** Largest finite float8_e4m3fn: 448 (S.1111.110). */
export const E4M3_MAX = 448;
/** Largest finite float8_e5m2: 57344 (S.11110.11). */
export const E5M2_MAX = 57344;
/** vLLM's default `K_SCALE_CONSTANT` / `V_SCALE_CONSTANT` (vllm/envs.py). */
export const VLLM_K_SCALE_CONSTANT = 200;
export const VLLM_V_SCALE_CONSTANT = 100;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const MAGIC = 6755399441055744; // 2^52 + 2^51: x + MAGIC − MAGIC rounds |x| < 2^51 to an integer, ties to even

/** floor(log2 a) for a normal positive float64 `a`, from its exponent bits (exact, unlike Math.log2). */
function floorLog2(a: number): number {
  f64[0] = a;
  return ((u32[HI] >>> 20) & 0x7ff) - 1023;
}

/**
 * Rounds finite `x` to a binary float with `mbits` mantissa bits whose smallest normal is 2^eminNormal (gradual
 * underflow below it), ties to even, with no upper limit (the caller maps overflow). Sign (and −0) kept.
 */
function roundMini(x: number, mbits: number, eminNormal: number): number {
  const a = x < 0 ? -x : x;
  if (a === 0) return x;
  const e = a < 2 ** eminNormal ? eminNormal : floorLog2(a);
  const q = 2 ** (e - mbits);
  const r = (a / q + MAGIC - MAGIC) * q;
  return x < 0 ? -r : r;
}

/** `torch.tensor(x, dtype=float32).to(torch.float8_e4m3fn).float()`: RNE; |x| that rounds past 448 (> 464) → NaN. */
export function roundE4m3(x: number): number {
  if (x !== x) return NaN;
  const r = roundMini(x, 3, -6);
  return r > E4M3_MAX || r < -E4M3_MAX ? NaN : r;
}

/** `torch.tensor(x, dtype=float32).to(torch.float8_e5m2).float()`: RNE; |x| that rounds past 57344 → ±Infinity. */
export function roundE5m2(x: number): number {
  if (x !== x) return NaN;
  const r = roundMini(x, 2, -14);
  if (r > E5M2_MAX) return Infinity;
  if (r < -E5M2_MAX) return -Infinity;
  return r;
}

export type Fp8Kind = 'e4m3' | 'e5m2';
export type FormatScale = 'unit' | 'tensor' | 'head' | 'dynamic-k' | 'dynamic-v';

/** max |x| over data[from, to) (float32 values, so exact). */
export function absMax(data: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(data[i]);
    if (a > m) m = a;
  }
  return m;
}

/** The scale(s) a mode gives: one per head (all equal unless 'head'). `amaxOf(from, to)` = max |x| over a range. */
export function fp8Scales(
  amaxOf: (from: number, to: number) => number,
  heads: number,
  perHead: number,
  kind: Fp8Kind,
  mode: FormatScale,
): Float32Array {
  const max = kind === 'e4m3' ? E4M3_MAX : E5M2_MAX;
  const out = new Float32Array(heads);
  const fix = (s: number): number => (s === 0 ? 1 : s);
  if (mode === 'unit') return out.fill(1);
  if (mode === 'head') {
    for (let h = 0; h < heads; h++) out[h] = fix(Math.fround(amaxOf(h * perHead, (h + 1) * perHead) / max));
    return out;
  }
  const amax = amaxOf(0, heads * perHead);
  const div = mode === 'tensor' ? max : mode === 'dynamic-k' ? VLLM_K_SCALE_CONSTANT : VLLM_V_SCALE_CONSTANT;
  return out.fill(fix(Math.fround(amax / div)));
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * Fake-quantizes data[from, to) with one scale into out (JS reference path). After the clamp |v| ≤ max, so the
 * rounding is the grid rounding (a + M) − M with M = max(2^(e + 23 − m), 2^(emin + 23 − m)) taken from a's
 * exponent bits (each addition an f32 operation: the float64 sum is exact, Math.fround rounds it once) — the same
 * value as roundE4m3 / roundE5m2, which the tests check on every grid midpoint.
 */
export function fp8Range(data: Float32Array, out: Float32Array, from: number, to: number, scale: number, kind: Fp8Kind): void {
  const max = kind === 'e4m3' ? E4M3_MAX : E5M2_MAX;
  const k = kind === 'e4m3' ? 20 << 23 : 21 << 23; // quantum 2^(e−3) / 2^(e−2)
  const floor = kind === 'e4m3' ? 2 ** 14 : 2 ** 7; // subnormal quantum 2^-9 / 2^-16
  const unit = scale === 1;
  for (let i = from; i < to; i++) {
    let v = unit ? data[i] : Math.fround(data[i] / scale);
    v = v > max ? max : v < -max ? -max : v;
    const a = v < 0 ? -v : v;
    F32[0] = a;
    U32[0] = (U32[0] & 0x7f800000) + k;
    const M = F32[0] > floor ? F32[0] : floor;
    const r = Math.fround(Math.fround(a + M) - M);
    out[i] = Math.fround((v < 0 || (v === 0 && 1 / v < 0) ? -r : r) * scale);
  }
}
