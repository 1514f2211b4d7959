/**
 * WebAssembly SIMD path of HQQ's zero-point optimizer (hqq 0.2.8.post1 / mobiusml/hqq e0b1d00,
 * `hqq/core/optimize.py` `optimize_weights_proximal_legacy` after `hqq/core/quantize.py` `Quantizer.quantize`),
 * bit-identical to the float32 JS path `../hqq.ts` `hqqGroups` on every layout (tests/unit/lib/quant/hqq-wasm.test.ts).
 * Returns the number of optimizer steps that ran, or false — having written nothing — when WASM/SIMD is
 * unavailable, switched off with `setWasmEnabled(false)`, the data holds NaN/±Infinity (the caller's JS path then
 * throws its RangeError), or the tensor does not fit in 32-bit wasm memory.
 *
 * Per call: the tensor is copied into the module memory; `hqq_init` gathers it into a lane-major order (one v128 =
 * the same member index of 4 groups of equal length, groups taken in group order from grouping.ts `gatherPlan`)
 * and computes each group's s and z; JS runs the optimizer loop — one `hqq_iterate` call per step and the early-stop
 * test on the float32 mean error, as hqq.ts — and `hqq_final` writes meta, codes and x̂ back in the original order.
 */
import { HQQ_WASM_BASE64 } from './hqq.generated';
import { wasmActive, wasmSimdSupported } from './index';
import { align16, decodeBase64, ensureBytes } from './memory';
import type { HqqParams } from '../types';
import type { Axis } from '../enums';
import { gatherPlan } from '../grouping';
import { shrinkThreshold } from '../hqq';

type Exports = {
  memory: WebAssembly.Memory;
  hqq_init(X: number, IDX: number, DL: number, LEN: number, chunks: number, qmax: number, S: number, Z: number): number;
  hqq_iterate(
    DL: number,
    LEN: number,
    chunks: number,
    S: number,
    Z: number,
    qmax: number,
    invBeta: number,
    pm1: number,
    thr: number,
  ): number;
  hqq_final(
    DL: number,
    IDX: number,
    LEN: number,
    chunks: number,
    S: number,
    Z: number,
    qmax: number,
    is32: number,
    OUT: number,
    OUTC: number,
    SC: number,
    ZR: number,
  ): void;
  hqq_pow(src: number, dst: number, count: number, e: number): void;
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
 * The lane-major gather order for one shape and layout: chunks of up to 4 consecutive groups of equal length;
 * `idx[slot]` = element index of lane-major slot (n for padding, which reads a zero and writes to a dummy element);
 * `len[k]` = rows of chunk k; `gidx[v]` = real group of virtual group v (= 4·chunk + lane; −1 for padding), null
 * when it is the identity.
 */
type Plan = {
  key: string;
  n: number;
  groups: number;
  chunks: number;
  slots: number;
  idx: Int32Array;
  len: Int32Array;
  gidx: Int32Array | null;
};
let plan: Plan | null = null;

function makePlan(axis: Axis, heads: number, tokens: number, D: number, G: number): Plan {
  const key = `${axis}:${heads}:${tokens}:${D}:${G}`;
  if (plan !== null && plan.key === key) return plan;
  const n = heads * tokens * D;
  const gp = gatherPlan(axis, { heads, tokens, headDim: D }, G);
  const { groups, off } = gp;
  const gat = gp.idx;
  // chunk boundaries: start a new chunk after 4 groups or when the group length changes
  const cStart: number[] = [];
  const cCount: number[] = [];
  for (let g = 0; g < groups;) {
    const l = off[g + 1] - off[g];
    let c = 1;
    while (c < 4 && g + c < groups && off[g + c + 1] - off[g + c] === l) c++;
    cStart.push(g);
    cCount.push(c);
    g += c;
  }
  const chunks = cStart.length;
  const len = new Int32Array(chunks);
  let slots = 0;
  let padded = false;
  for (let k = 0; k < chunks; k++) {
    len[k] = off[cStart[k] + 1] - off[cStart[k]];
    slots += 4 * len[k];
    if (cCount[k] !== 4) padded = true;
  }
  const idx = new Int32Array(slots);
  const gidx = padded ? new Int32Array(4 * chunks).fill(-1) : null;
  for (let k = 0, s = 0; k < chunks; k++) {
    const g0 = cStart[k];
    const c = cCount[k];
    if (gidx !== null) for (let l = 0; l < c; l++) gidx[4 * k + l] = g0 + l;
    for (let j = 0; j < len[k]; j++) {
      for (let l = 0; l < 4; l++, s++) idx[s] = l < c ? gat[off[g0 + l] + j] : n;
    }
  }
  return (plan = { key, n, groups, chunks, slots, idx, len, gidx });
}

// Byte offsets in the module memory for the current plan; views rebuilt when the plan changes or memory grows.
type Layout = {
  plan: Plan;
  buffer: ArrayBuffer;
  x: number;
  oc: number;
  idx: number;
  dl: number;
  len: number;
  s: number;
  z: number;
  sc: number;
  zr: number;
  X: Float32Array;
  OC: Uint8Array;
  SC: Float32Array;
  ZR: Float32Array;
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
  const s = align16(len + 4 * P.chunks);
  const z = align16(s + 4 * vg);
  const sc = align16(z + 4 * vg);
  const zr = align16(sc + 4 * vg);
  if (!ensureBytes(mem, zr + 4 * vg)) return null;
  const buffer = mem.buffer;
  // The plan's index tables only need copying when the plan (not just the buffer) changed: grow keeps contents.
  if (layout === null || layout.plan !== P) {
    new Int32Array(buffer, idx, P.slots).set(P.idx);
    new Int32Array(buffer, len, P.chunks).set(P.len);
  }
  layout = {
    plan: P,
    buffer,
    x,
    oc,
    idx,
    dl,
    len,
    s,
    z,
    sc,
    zr,
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
 * HQQ through WASM on any layout (grouping.ts; the size checks of `resolveConfig` must have passed). Outputs as
 * `../hqq.ts` `hqqGathered` (`round` is given as `metaDtype`). Returns the step count, or false having written
 * nothing.
 */
export function hqqWasm(
  axis: Axis,
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
  if (!(p > 0 && p < 1)) return false;
  if (!hqqWasmActive()) return false;
  const k = load();
  if (k === null) return false;
  const n = heads * tokens * D;
  if (n === 0) return false;
  const P = makePlan(axis, heads, tokens, D, G);
  const L = prepare(k, P);
  if (L === null) return false;
  const { X } = L;
  X.set(data.length === n ? data : data.subarray(0, n));
  X[n] = 0; // padding lanes read this (and hqq_final's padding writes land here)
  const qmax = (1 << bits) - 1;
  const { chunks } = P;
  if (k.hqq_init(L.x, L.idx, L.dl, L.len, chunks, qmax, L.s, L.z) !== 0) return false;
  // optimize_weights_proximal_legacy's loop, exactly as hqq.ts: β constant, best = +∞, float32 mean error.
  const invBeta = Math.fround(1 / params.beta);
  const thr = shrinkThreshold(invBeta, p);
  let best = Infinity;
  let it = 0;
  while (it < params.iters) {
    it++;
    const err = Math.fround(k.hqq_iterate(L.dl, L.len, chunks, L.s, L.z, qmax, invBeta, p - 1, thr) / n);
    if (err < best) best = err;
    else break;
  }
  k.hqq_final(L.dl, L.idx, L.len, chunks, L.s, L.z, qmax, metaDtype === 'fp32' ? 1 : 0, L.x, L.oc, L.sc, L.zr);
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

/** Test hook: the kernel's f32(a^e) (`$pow64`) on `a` (rounded to f32); null when WASM SIMD is unavailable. */
export function hqqPowWasm(a: Float32Array, e: number): Float32Array | null {
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
  k.hqq_pow(0, dst, m, e);
  return new Float32Array(k.memory.buffer, dst, a.length).slice();
}
