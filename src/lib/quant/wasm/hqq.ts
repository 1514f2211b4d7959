/**
 * WebAssembly SIMD path of HQQ's zero-point optimizer (`../hqq.ts`: hqq/core/optimize.py
 * `optimize_weights_proximal_legacy`, then the final quantization with meta rounded to fp16/fp32). Same arguments
 * and outputs as `hqqToken` / `hqqChannel`; returns the number of optimizer iterations that ran (as they do), or
 * false — having written nothing — when WASM/SIMD is unavailable, switched off with `setWasmEnabled(false)`, the
 * data holds NaN/±Infinity (the caller's JS path then throws its RangeError), the tensor does not fit in 32-bit
 * wasm memory, or `lpNorm` is outside [0.05, 1.95] (the kernel's power needs |p − 1| ≤ 0.95, see hqq.wat).
 *
 * Per call: the tensor is copied into the module memory; `hqq_init` gathers it into a lane-major order (one v128 =
 * the same element of 4 groups; token axis: 4 consecutive groups, channel axis: 4 consecutive channels of a
 * (head, token block)), computes each group's min/max, s and z0 in f64 exactly as hqq.ts (so `scales` are the
 * reference's), and the per-element code-unit offsets d = (W − min)·s; JS then runs the optimizer loop — one
 * `hqq_iterate` call per iteration (two passes per chunk: codes and errors, then the power on the rows that need
 * it), the early-stop test on the whole-tensor mean |W − W_r| in f64 here, β·κ in f64 — and `hqq_final` writes
 * meta, codes and x̂ back in the original order.
 *
 * Accuracy (f32 instead of the reference's f64, as HQQ itself on CPU): per-element values differ by ~1e-7
 * relative; a code differs only where W·s + z lies within ~1e-5 of a rounding tie, and a flip changes its group's
 * next zero by O(1/G) code units — tests/unit/lib/quant/hqq-wasm.test.ts measures the agreement.
 */
import { HQQ_WASM_BASE64 } from './hqq.generated';
import { wasmActive, wasmSimdSupported } from './index';
import { align16, decodeBase64, ensureBytes } from './memory';
import type { HqqParams } from '../types';

type Exports = {
  memory: WebAssembly.Memory;
  hqq_init(X: number, IDX: number, DL: number, LEN: number, chunks: number, qmax: number, e2p: number,
    ZP: number, C: number, IS: number, S64: number, Z0: number, S32: number): number;
  hqq_iterate(DL: number, LEN: number, chunks: number, ZP: number, C: number, IS: number, qmax: number,
    invBeta: number, pm1: number, thr: number, S32: number, LST: number): number;
  hqq_final(DL: number, IDX: number, LEN: number, chunks: number, ZP: number, S64: number, Z0: number, qmax: number,
    is32: number, OUT: number, OUTC: number, SC: number, ZR: number): void;
  hqq_pow(src: number, dst: number, count: number, e: number): void;
  hqq_pow_fast(src: number, dst: number, count: number, pm1: number): void;
};

let kernel: Exports | null | undefined; // undefined: not tried yet; null: unavailable

function load(): Exports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (!wasmSimdSupported()) return null;
  try {
    // Synchronous compile: the module is ~3 KB.
    kernel = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(HQQ_WASM_BASE64)), {}).exports as unknown as Exports;
  } catch {
    kernel = null;
  }
  return kernel;
}

/**
 * The gather order for one shape: `idx[slot]` = element index of lane-major slot (n for padding, which reads a
 * zero and writes to a dummy element); `len[k]` = rows of chunk k; `gidx[v]` = real group of virtual group v
 * (= 4·chunk + lane; −1 for padding), null when it is the identity (token axis, or channel axis with D % 4 = 0).
 */
type Plan = { key: string; n: number; groups: number; chunks: number; slots: number; idx: Int32Array; len: Int32Array; gidx: Int32Array | null };
let plan: Plan | null = null;

function makePlan(axis: 'token' | 'channel', heads: number, tokens: number, D: number, G: number): Plan {
  const key = `${axis}:${heads}:${tokens}:${D}:${G}`;
  if (plan !== null && plan.key === key) return plan;
  const n = heads * tokens * D;
  if (axis === 'token') {
    const groups = n / G;
    const chunks = Math.ceil(groups / 4);
    const slots = chunks * G * 4;
    const idx = new Int32Array(slots);
    const len = new Int32Array(chunks).fill(G);
    for (let k = 0, s = 0; k < chunks; k++) {
      for (let j = 0; j < G; j++) {
        for (let l = 0; l < 4; l++, s++) {
          const g = 4 * k + l;
          idx[s] = g < groups ? g * G + j : n;
        }
      }
    }
    return (plan = { key, n, groups, chunks, slots, idx, len, gidx: null });
  }
  const tgs = Math.ceil(tokens / G);
  const D4 = Math.ceil(D / 4);
  const groups = heads * tgs * D;
  const chunks = heads * tgs * D4;
  const slots = 4 * heads * tokens * D4;
  const idx = new Int32Array(slots);
  const len = new Int32Array(chunks);
  const gidx = D % 4 === 0 ? null : new Int32Array(4 * chunks);
  let k = 0;
  let s = 0;
  for (let h = 0; h < heads; h++) {
    for (let tg = 0; tg < tgs; tg++) {
      const t0 = tg * G;
      const rows = t0 + G <= tokens ? G : tokens - t0;
      for (let dc = 0; dc < D4; dc++, k++) {
        len[k] = rows;
        for (let l = 0; l < 4; l++) {
          const d = 4 * dc + l;
          if (gidx !== null) gidx[4 * k + l] = d < D ? (h * tgs + tg) * D + d : -1;
        }
        for (let r = 0; r < rows; r++) {
          const base = (h * tokens + t0 + r) * D;
          for (let l = 0; l < 4; l++, s++) {
            const d = 4 * dc + l;
            idx[s] = d < D ? base + d : n;
          }
        }
      }
    }
  }
  return (plan = { key, n, groups, chunks, slots, idx, len, gidx });
}

// Byte offsets in the module memory for the current plan; views rebuilt when the plan changes or memory grows.
type Layout = {
  plan: Plan; buffer: ArrayBuffer;
  x: number; oc: number; idx: number; dl: number; len: number;
  zp: number; c: number; sc: number; zr: number; is: number; s64: number; z0: number; s32: number; lst: number;
  X: Float32Array; OC: Uint8Array; SC: Float32Array; ZR: Float32Array;
};
let layout: Layout | null = null;

function prepare(k: Exports, P: Plan): Layout | null {
  const mem = k.memory;
  if (layout !== null && layout.plan === P && layout.buffer === mem.buffer) return layout;
  const vg = 4 * P.chunks;
  const x = 0;
  const oc = align16(x + 4 * (P.n + 4));
  const idx = align16(oc + P.n + 4);
  const dl = align16(idx + 4 * P.slots);
  const len = align16(dl + 4 * P.slots);
  const zp = align16(len + 4 * P.chunks);
  const c = align16(zp + 4 * vg);
  const sc = align16(c + 4 * vg);
  const zr = align16(sc + 4 * vg);
  const is = align16(zr + 4 * vg);
  const s64 = align16(is + 8 * vg);
  const z0 = align16(s64 + 8 * vg);
  const s32 = align16(z0 + 8 * vg);
  // hqq_iterate's list of the rows that need the power, one chunk at a time
  const lst = align16(s32 + 4 * vg);
  let maxLen = 0;
  for (let i = 0; i < P.chunks; i++) maxLen = Math.max(maxLen, P.len[i]);
  if (!ensureBytes(mem, lst + 16 * maxLen)) return null;
  const buffer = mem.buffer;
  // The plan's index tables only need copying when the plan (not just the buffer) changed: grow keeps contents.
  if (layout === null || layout.plan !== P) {
    new Int32Array(buffer, idx, P.slots).set(P.idx);
    new Int32Array(buffer, len, P.chunks).set(P.len);
  }
  layout = {
    plan: P, buffer, x, oc, idx, dl, len, zp, c, sc, zr, is, s64, z0, s32, lst,
    X: new Float32Array(buffer, x, P.n + 4),
    OC: new Uint8Array(buffer, oc, P.n + 4),
    SC: new Float32Array(buffer, sc, vg),
    ZR: new Float32Array(buffer, zr, vg),
  };
  return layout;
}

/** Whether `hqqWasm` can run here now (WASM SIMD available and not switched off with `setWasmEnabled(false)`). */
export function hqqWasmActive(): boolean {
  return wasmActive() && load() !== null;
}

/**
 * HQQ through WASM: `axis` 'token' (groups of G consecutive elements of the flat tensor; n % G = 0) or 'channel'
 * (KIVI: per head, per block of G tokens — the last one possibly shorter —, per channel). Outputs as `hqqToken` /
 * `hqqChannel` (`round` is given as `metaDtype`). Returns the iteration count, or false having written nothing.
 */
export function hqqWasm(
  axis: 'token' | 'channel',
  data: Float32Array,
  heads: number,
  tokens: number,
  D: number,
  G: number,
  bits: number,
  params: HqqParams,
  metaDtype: 'fp16' | 'fp32',
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): number | false {
  const p = params.lpNorm;
  if (!(p >= 0.05 && p <= 1.95)) return false;
  if (!hqqWasmActive()) return false;
  const k = load();
  if (k === null) return false;
  const n = heads * tokens * D;
  if (n === 0 || (axis === 'token' && n % G !== 0)) return false;
  const P = makePlan(axis, heads, tokens, D, G);
  const L = prepare(k, P);
  if (L === null) return false;
  const { X } = L;
  X.set(data.length === n ? data : data.subarray(0, n));
  X[n] = 0; // padding lanes read this (and hqq_final's padding writes land here)
  const qmax = (1 << bits) - 1;
  const { chunks } = P;
  if (k.hqq_init(L.x, L.idx, L.dl, L.len, chunks, qmax, 2 - p, L.zp, L.c, L.is, L.s64, L.z0, L.s32) !== 0) return false;
  // optimize_weights_proximal_legacy's loop, as hqq.ts: β and the stop test in f64 here, the pass in the kernel
  // (which computes the power only on rows where some error exceeds the shrink threshold β^(−1/(2−p)), given here
  // less a margin that covers the power's error: rows below it have shrink exactly 0).
  let beta = params.beta;
  let best = 1e4;
  let it = 0;
  while (it < params.iters) {
    it++;
    const thr = Math.pow(beta, -1 / (2 - p)) * (1 - 1e-5);
    const errSum = k.hqq_iterate(L.dl, L.len, chunks, L.zp, L.c, L.is, qmax, 1 / beta, p - 1, thr, L.s32, L.lst);
    const err = errSum / n;
    beta *= params.kappa;
    if (err < best) best = err;
    else break;
  }
  k.hqq_final(L.dl, L.idx, L.len, chunks, L.zp, L.s64, L.z0, qmax, metaDtype === 'fp32' ? 1 : 0, L.x, L.oc, L.sc, L.zr);
  deq.set(X.subarray(0, n));
  codes.set(L.OC.subarray(0, n));
  const { SC, ZR } = L;
  if (P.gidx === null) {
    scales.set(SC.subarray(0, P.groups));
    zeros.set(ZR.subarray(0, P.groups));
  } else {
    const gi = P.gidx;
    for (let v = 0; v < gi.length; v++) {
      const g = gi[v];
      if (g >= 0) {
        scales[g] = SC[v];
        zeros[g] = ZR[v];
      }
    }
  }
  return it;
}

/**
 * Test hook: the kernel's power a^e on `a` (rounded to f32) — `fast`: the hot loop's version (e = p − 1,
 * |e| ≤ 0.95, no clamp), else the clamped one used for s^(2−p). Null when WASM SIMD is unavailable.
 */
export function hqqPowWasm(a: Float32Array, e: number, fast: boolean): Float32Array | null {
  const k = load();
  if (k === null) return null;
  const m = (a.length + 3) & ~3;
  const bytes = 8 * m + 32;
  if (!ensureBytes(k.memory, bytes)) return null;
  layout = null; // overwrites the scratch layout (the plan's tables are copied again)
  const src = new Float32Array(k.memory.buffer, 0, m);
  src.fill(1);
  src.set(a);
  const dst = 4 * m;
  if (fast) k.hqq_pow_fast(0, dst, m, e);
  else k.hqq_pow(0, dst, m, e);
  return new Float32Array(k.memory.buffer, dst, a.length).slice();
}
