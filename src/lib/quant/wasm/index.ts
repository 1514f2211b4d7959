/**
 * WebAssembly SIMD acceleration of `fakeQuantizeInto` (min-max and absmax methods, token and channel axes, all bit
 * widths, fp16 and fp32 metadata). The JS kernels (`../minmax.ts`, `../absmax.ts`) stay the reference and the
 * fallback; this path returns bit-identical `dequantized`, `codes`, `scales` and `zeros`
 * (tests/unit/lib/quant/wasm.test.ts checks it). Absmax: see `absmaxWasm` and the absmax section of kernel.wat; the
 * rest of this comment is about min-max.
 *
 * Per call: the tensor is copied into a kernel instance's memory; pass 1 (wasm SIMD) computes each group's
 * min/max and whether any element is NaN/±Infinity; `minmax_meta` (wasm, f64x2) computes scale/zero/inverse per
 * group with a transcription of the engine's fp16/fp32 metadata rounding (1/G of the elements; doing it in JS cost
 * as much as both SIMD passes together); pass 2 (wasm SIMD) quantizes and dequantizes into a separate region.
 * Output buffers from `allocateWasmBuffers` (what `allocateFakeQuantOutput` returns when WASM is on) ARE those
 * regions of their own instance's memory, so nothing is copied out; plain buffers get x̂, codes, scales and zeros
 * copied from the shared instance. (Copies in and out were ~40 % of a call: a copy of the tensor runs at ~6 G
 * elements/s here, the whole fake quantization at ~1 G.)
 * Why the outputs are identical to the JS path:
 * - min/max: `f32x4.pmin/pmax` are the JS ternaries `x < mn ? x : mn` / `x > mx ? x : mx`, so the values agree;
 *   only which of ±0 is kept can depend on the visiting order, and that only shows when the minimum is 0 (the stored
 *   zero is ±0), so for those groups JS re-scans for the first zero as its own loop would have kept. A zero range is
 *   taken as +0 (the JS scan subtracts an element from itself).
 * - scale/zero/inverse: the JS expressions in float64 (`(mx − mn) / qmax`, `1 / scale`); the rounding
 *   (`$fp16`/`$fp32` in kernel.wat) is the algorithm of fp16.ts step for step and is tested against
 *   `roundToFp16Saturating`/`roundToFp32Saturating` directly (`roundMetaWasm`).
 * - quantize/dequantize: see kernel.wat — an f32 fast path used only where it provably equals the float64 result
 *   (no lane within 2^-10 of a rounding tie; fp16 scales) and an f64x2 transcription of the JS arithmetic otherwise.
 * - non-finite input: pass 1 reports it and the caller runs the JS path, which throws the usual RangeError (with
 *   the same partial writes).
 *
 * Falls back (returns false) when WebAssembly or its SIMD proposal is unavailable, when disabled with
 * `setWasmEnabled(false)`, or when the tensor does not fit in 32-bit wasm memory.
 */
import { KERNEL_WASM_BASE64 } from './kernel.generated';
import { align16, decodeBase64, ensureBytes } from './memory';

type Exports = {
  minmax_token(src: number, n: number, G: number, minp: number, maxp: number): number;
  minmax_meta(
    minp: number,
    maxp: number,
    groups: number,
    qmax: number,
    is32: number,
    zp: number,
    sp: number,
    i32p: number,
    flp: number,
  ): void;
  round_meta(src: number, dst: number, count: number, is32: number): void;
  minmax_channel(src: number, heads: number, tokens: number, D: number, G: number, minp: number, maxp: number): number;
  quant_token(
    src: number,
    dst: number,
    codes: number,
    n: number,
    G: number,
    flp: number,
    zp: number,
    sp: number,
    i32p: number,
    qmax: number,
    thr: number,
  ): void;
  fq_token(
    src: number,
    dst: number,
    codes: number,
    n: number,
    G: number,
    minp: number,
    maxp: number,
    flp: number,
    zp: number,
    sp: number,
    i32p: number,
    qmax: number,
    thr: number,
    is32: number,
    chunkGroups: number,
  ): number;
  quant_channel(
    src: number,
    dst: number,
    codes: number,
    heads: number,
    tokens: number,
    D: number,
    G: number,
    flp: number,
    zp: number,
    sp: number,
    i32p: number,
    accp: number,
    qmax: number,
    thr: number,
  ): void;
  absmax_channel(src: number, heads: number, tokens: number, D: number, G: number, amp: number): number;
  absmax_meta(amp: number, groups: number, qmax: number, is32: number, zp: number, sp: number, i32p: number, flp: number): void;
  fq_absmax_token(
    src: number,
    dst: number,
    codes: number,
    n: number,
    G: number,
    amp: number,
    flp: number,
    zp: number,
    sp: number,
    i32p: number,
    qmax: number,
    thr: number,
    is32: number,
    chunkGroups: number,
  ): number;
  absmax_quant_channel(
    src: number,
    dst: number,
    codes: number,
    heads: number,
    tokens: number,
    D: number,
    G: number,
    flp: number,
    sp: number,
    i32p: number,
    accp: number,
    qmax: number,
    thr: number,
  ): void;
};
/** One instance of the kernel module and the memory it was given. */
type Kernel = { exports: Exports; memory: WebAssembly.Memory };

/**
 * Fast-path threshold of kernel.wat for codes 0..qmax: a group with some |v − round(v)| ≥ 0.5 − (qmax + 1)·2^-22
 * is recomputed exactly (the f32 error of v is below (qmax + 0.5)·3.01·2^-24; see kernel.wat).
 */
const thrFast = (qmax: number): number => 0.5 - (qmax + 1) * 2 ** -22;
// absmax uses the same threshold with its qmax = 2^(b−1) − 1: its f32 v = x·f32(inv) has one rounding fewer (no
// subtraction), error below qmax·2.0001·2^-24 where it matters (see the absmax section of kernel.wat).
/** Makes every group take the exact f64x2 path (fp32 metadata: q·scale is not exact in f32). */
const THR_EXACT = -1;

/** Smallest module using a v128 instruction: `(func (result v128) v128.const i32x4 0 0 0 0)`. */
const SIMD_PROBE: Uint8Array<ArrayBuffer> = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 11,
]);

let enabled = true;
let module: WebAssembly.Module | null | undefined; // undefined: not tried yet; null: unavailable
let shared: Kernel | null = null; // the instance for plain (non-wasm) buffers; its memory grows on demand

/** True when this environment has WebAssembly with fixed-width SIMD. */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function compile(): WebAssembly.Module | null {
  if (module !== undefined) return module;
  module = null;
  if (!wasmSimdSupported()) return null;
  try {
    // Synchronous compile is fine for a module this small (a few KB), also on the main thread.
    module = new WebAssembly.Module(decodeBase64(KERNEL_WASM_BASE64));
  } catch {
    module = null;
  }
  return module;
}

/** A fresh instance of the kernel working in `memory`. */
function instantiate(mod: WebAssembly.Module, memory: WebAssembly.Memory): Kernel {
  const exports = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as Exports;
  return { exports, memory };
}

function load(): Kernel | null {
  if (shared !== null) return shared;
  const mod = compile();
  if (mod === null) return null;
  try {
    shared = instantiate(mod, new WebAssembly.Memory({ initial: 1 }));
  } catch {
    module = null;
    return null;
  }
  return shared;
}

/** Turns the WASM path on (default) or off (every call then runs the JS reference path). */
export function setWasmEnabled(on: boolean): void {
  enabled = on;
}

/** Whether `fakeQuantizeInto` will use WASM for min-max and absmax: enabled and available here. */
export function wasmActive(): boolean {
  return enabled && load() !== null;
}

// Regions of a kernel memory for n elements and `groups` groups: x (the input), y (x̂), c (codes), per-group
// min/max, zero, scale, f32 inverse scale, clamp-free flag, and quant_channel's per-column scratch (one f32 per
// channel, up to MAX_D). Views are rebuilt when (n, groups) change or memory grows.
type Layout = {
  n: number;
  groups: number;
  buffer: ArrayBuffer;
  x: number;
  y: number;
  c: number;
  mn: number;
  mx: number;
  z: number;
  s: number;
  i32: number;
  fl: number;
  acc: number;
  end: number;
  X: Float32Array;
  Y: Float32Array;
  C: Uint8Array;
  MN: Float32Array;
  MX: Float32Array;
  Z: Float32Array;
  S: Float32Array;
};

/** Largest head dimension the channel-axis kernel takes (its per-column scratch); larger ones use the JS path. */
const MAX_D = 4096;

/** Byte offsets of the regions (per-group ones with room for 4 more entries: minmax_meta works on quads). */
function offsets(n: number, groups: number) {
  const g = groups + 4;
  const x = 0;
  const y = align16(x + 4 * n);
  const c = align16(y + 4 * n);
  const mn = align16(c + n);
  const mx = align16(mn + 4 * g);
  const z = align16(mx + 4 * g);
  const s = align16(z + 4 * g);
  const i32 = align16(s + 4 * g);
  const fl = align16(i32 + 4 * g);
  const acc = align16(fl + 4 * g);
  return { x, y, c, mn, mx, z, s, i32, fl, acc, end: acc + 4 * MAX_D };
}

function views(n: number, groups: number, buffer: ArrayBuffer): Layout {
  const o = offsets(n, groups);
  return {
    n,
    groups,
    buffer,
    ...o,
    X: new Float32Array(buffer, o.x, n),
    Y: new Float32Array(buffer, o.y, n),
    C: new Uint8Array(buffer, o.c, n),
    MN: new Float32Array(buffer, o.mn, groups),
    MX: new Float32Array(buffer, o.mx, groups),
    Z: new Float32Array(buffer, o.z, groups),
    S: new Float32Array(buffer, o.s, groups),
  };
}

let layout: Layout | null = null; // of the shared instance
const kept = new Float32Array(6); // scales/zeros entries minmax_meta's last quad overwrites past `groups`

function prepareShared(k: Kernel, n: number, groups: number): Layout | null {
  const mem = k.memory;
  if (layout !== null && layout.n === n && layout.groups === groups && layout.buffer === mem.buffer) return layout;
  if (!ensureBytes(mem, offsets(n, groups).end)) return null;
  layout = views(n, groups, mem.buffer);
  return layout;
}

/**
 * Buffers that live in a kernel instance's own memory (allocated at its final size, never grown, so the views
 * never detach): `fakeQuantizeInto` then writes x̂, codes, scales and zeros in place instead of copying them out.
 * Keyed by the `dequantized` array; the other three must be the same views.
 */
type Owned = { k: Kernel; L: Layout };
const owned = new WeakMap<Float32Array, Owned>();

/**
 * Output buffers for `n` elements and `groups` groups backed by a dedicated WebAssembly memory (ordinary typed
 * arrays to every reader; they cannot be transferred to another thread, only copied). Null when WASM is
 * unavailable or disabled, or the size does not fit; the caller then allocates plain arrays.
 */
export function allocateWasmBuffers(
  n: number,
  groups: number,
): {
  dequantized: Float32Array;
  codes: Uint8Array;
  scales: Float32Array;
  zeros: Float32Array;
} | null {
  if (!enabled) return null;
  const mod = compile();
  if (mod === null) return null;
  const { end } = offsets(n, groups);
  if (end > 2 ** 31) return null;
  let k: Kernel;
  try {
    const pages = Math.max(1, Math.ceil(end / 65536));
    k = instantiate(mod, new WebAssembly.Memory({ initial: pages, maximum: pages }));
  } catch {
    return null;
  }
  const L = views(n, groups, k.memory.buffer);
  owned.set(L.Y, { k, L });
  return { dequantized: L.Y, codes: L.C, scales: L.S, zeros: L.Z };
}

/** True when `deq` came from `allocateWasmBuffers` (test hook). */
export function isWasmBacked(deq: Float32Array): boolean {
  return owned.has(deq);
}

/**
 * Min-max fake quantization through WASM. Same arguments and outputs as `minmaxToken` (axis 'token', `heads = 1,
 * tokens = n / D` irrelevant) / `minmaxChannel`. Returns false when the WASM path is off or unavailable (having
 * written nothing) or the data holds a non-finite value: the caller then runs the JS kernel, which throws. (With
 * wasm-backed buffers the token axis may by then have written the groups of earlier chunks: the same values the
 * JS kernel writes for them before it throws.)
 */
export function minmaxWasm(
  axis: 'token' | 'channel',
  data: Float32Array,
  heads: number,
  tokens: number,
  D: number,
  G: number,
  bits: number,
  metaDtype: 'fp16' | 'fp32',
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): boolean {
  if (!enabled || (axis === 'channel' && D > MAX_D)) return false;
  const n = heads * tokens * D;
  const tgs = Math.ceil(tokens / G);
  const groups = axis === 'token' ? n / G : heads * tgs * D;
  const w = begin(data, n, groups, deq, codes, scales, zeros);
  if (w === null) return false;
  const { k, L } = w;
  const e = k.exports;
  const { X, MN } = L;
  const qmax = (1 << bits) - 1;
  const thr = metaDtype === 'fp16' ? thrFast(qmax) : THR_EXACT;
  const is32 = metaDtype === 'fp32' ? 1 : 0;
  if (axis === 'token') {
    // Chunks of whole groups (a multiple of 4 groups, ~4,096 elements) keep pass 2's input in L1.
    const chunkGroups = Math.max(4, (Math.floor(4096 / G) + 3) & ~3);
    if (e.fq_token(L.x, L.y, L.c, n, G, L.mn, L.mx, L.fl, L.z, L.s, L.i32, qmax, thr, is32, chunkGroups) !== 0) return false;
  } else {
    const flags = e.minmax_channel(L.x, heads, tokens, D, G, L.mn, L.mx);
    if ((flags & 1) !== 0) return false;
    if ((flags & 2) !== 0) {
      for (let g = 0; g < groups; g++) if (MN[g] === 0) MN[g] = firstZeroChannel(X, g, G, D, tokens, tgs);
    }
    e.minmax_meta(L.mn, L.mx, groups, qmax, is32, L.z, L.s, L.i32, L.fl);
    e.quant_channel(L.x, L.y, L.c, heads, tokens, D, G, L.fl, L.z, L.s, L.i32, L.acc, qmax, thr);
  }
  finish(w, n, groups, deq, codes, scales, zeros);
  return true;
}

/** Where a call computes: the instance and layout, whether the caller's buffers are that memory, spilled entries. */
type Work = { k: Kernel; L: Layout; direct: boolean; spill: number };

/**
 * Picks the instance for a call (the buffers' own, for buffers from allocateWasmBuffers: no copy out; else the
 * shared one), copies x in, and saves the caller's scales/zeros entries that the metadata's last quad (which
 * writes up to 3 entries past `groups`) would overwrite. Null when the shared instance is unavailable or too small.
 */
function begin(
  data: Float32Array,
  n: number,
  groups: number,
  deq: Float32Array,
  codes: Uint8Array,
  scales: Float32Array,
  zeros: Float32Array,
): Work | null {
  const own = owned.get(deq);
  const direct =
    own !== undefined && own.L.C === codes && own.L.S === scales && own.L.Z === zeros && n <= own.L.n && groups <= own.L.groups
      ? own
      : null;
  let k: Kernel;
  let L: Layout;
  if (direct !== null) {
    k = direct.k;
    L = direct.L;
  } else {
    const sk = load();
    if (sk === null) return null;
    const sl = prepareShared(sk, n, groups);
    if (sl === null) return null;
    k = sk;
    L = sl;
  }
  L.X.set(data.length === n ? data : data.subarray(0, n));
  const spill = direct !== null && groups < L.groups ? Math.min(3, L.groups - groups) : 0;
  for (let i = 0; i < spill; i++) {
    kept[i] = L.S[groups + i];
    kept[3 + i] = L.Z[groups + i];
  }
  return { k, L, direct: direct !== null, spill };
}

/** Restores the spilled entries; copies the results out to plain buffers. */
function finish(w: Work, n: number, groups: number, deq: Float32Array, codes: Uint8Array, scales: Float32Array, zeros: Float32Array): void {
  const { L, spill } = w;
  for (let i = 0; i < spill; i++) {
    L.S[groups + i] = kept[i];
    L.Z[groups + i] = kept[3 + i];
  }
  if (!w.direct) {
    deq.set(n === L.n ? L.Y : L.Y.subarray(0, n));
    codes.set(n === L.n ? L.C : L.C.subarray(0, n));
    scales.set(groups === L.groups ? L.S : L.S.subarray(0, groups));
    zeros.set(groups === L.groups ? L.Z : L.Z.subarray(0, groups));
  }
}

/**
 * Absmax (symmetric) fake quantization through WASM, bit-identical to `absmaxToken` / `absmaxChannel` (same
 * arguments as `minmaxWasm`; bits ≥ 2). Pass 1 takes max|x| per group on the bit patterns of |x| (which also flags
 * NaN/±Infinity), `absmax_meta` the scale R(max|x| / qmax), f32(1/scale) and a clamp-free flag per group, pass 2
 * the f32 fast path with the tie check and exact float64 redos (see the absmax section of kernel.wat). Returns
 * false when the WASM path is off or unavailable, or the data holds a non-finite value (the caller's JS kernel then
 * throws; with wasm-backed buffers the token axis may have written earlier chunks' groups, with the values the JS
 * kernel writes for them before it throws).
 */
export function absmaxWasm(
  axis: 'token' | 'channel',
  data: Float32Array,
  heads: number,
  tokens: number,
  D: number,
  G: number,
  bits: number,
  metaDtype: 'fp16' | 'fp32',
  codes: Uint8Array,
  deq: Float32Array,
  scales: Float32Array,
  zeros: Float32Array,
): boolean {
  if (!enabled || bits < 2 || (axis === 'channel' && D > MAX_D)) return false;
  const n = heads * tokens * D;
  const groups = axis === 'token' ? n / G : heads * Math.ceil(tokens / G) * D;
  const w = begin(data, n, groups, deq, codes, scales, zeros);
  if (w === null) return false;
  const { k, L } = w;
  const e = k.exports;
  const qmax = (1 << (bits - 1)) - 1;
  const thr = metaDtype === 'fp16' ? thrFast(qmax) : THR_EXACT;
  const is32 = metaDtype === 'fp32' ? 1 : 0;
  if (axis === 'token') {
    const chunkGroups = Math.max(4, (Math.floor(4096 / G) + 3) & ~3);
    if (e.fq_absmax_token(L.x, L.y, L.c, n, G, L.mx, L.fl, L.z, L.s, L.i32, qmax, thr, is32, chunkGroups) !== 0) return false;
  } else {
    if (e.absmax_channel(L.x, heads, tokens, D, G, L.mx) !== 0) return false;
    e.absmax_meta(L.mx, groups, qmax, is32, L.z, L.s, L.i32, L.fl);
    e.absmax_quant_channel(L.x, L.y, L.c, heads, tokens, D, G, L.fl, L.s, L.i32, L.acc, qmax, thr);
  }
  finish(w, n, groups, deq, codes, scales, zeros);
  return true;
}

/**
 * Channel axis: the ±0 the JS scan keeps as the minimum of group g when that minimum is 0 — the first element equal
 * to 0 in the group's channel, token by token. (The token axis does this in wasm: zeroSigns in kernel.wat.)
 */
function firstZeroChannel(X: Float32Array, g: number, G: number, D: number, tokens: number, tgs: number): number {
  const d = g % D;
  const blk = (g - d) / D; // h · tgs + tg
  const tg = blk % tgs;
  const h = (blk - tg) / tgs;
  const t0 = tg * G;
  const t1 = Math.min(t0 + G, tokens);
  for (let t = t0; t < t1; t++) {
    const x = X[(h * tokens + t) * D + d];
    if (x === 0) return x;
  }
  return 0;
}

/**
 * Test hook: the kernel's metadata rounding (`fp16`: roundToFp16Saturating, `fp32`: roundToFp32Saturating) applied
 * to `values`; null when the WASM path is unavailable.
 */
export function roundMetaWasm(values: Float64Array, metaDtype: 'fp16' | 'fp32'): Float64Array | null {
  const k = load();
  if (k === null) return null;
  const bytes = 16 * values.length + 16;
  if (!ensureBytes(k.memory, bytes)) return null;
  layout = null; // this overwrites the scratch layout
  const src = new Float64Array(k.memory.buffer, 0, values.length);
  src.set(values);
  const dstOff = 8 * values.length + 8;
  k.exports.round_meta(0, dstOff, values.length, metaDtype === 'fp32' ? 1 : 0);
  return new Float64Array(k.memory.buffer, dstOff, values.length).slice();
}
