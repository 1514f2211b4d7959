/**
 * Fake quantization (quantize, then dequantize) of one KV tensor: what transformers' `QuantizedLayer` does to the
 * cache between `_quantize` and `_dequantize` (`cache_utils.py`), with the quanto (`minmax`), HQQ (`hqq`) or a
 * symmetric (`absmax`) quantizer on any grouping layout of grouping.ts: `token` (quanto axis 0 / HQQ axis 1),
 * `strided` (HQQ axis 0), `flat-channel` (quanto axis −1) or KIVI's per-head `channel` groups.
 *
 * `fakeQuantize` allocates its outputs; `fakeQuantizeInto` writes into caller-owned buffers and allocates nothing
 * after warm-up, for widgets that re-quantize on every slider move.
 */
import { absmaxChannel, absmaxToken } from './absmax';
import { metaRounder } from './fp16';
import { gatherPlan, groupCount, resolveConfig, validateTensor } from './grouping';
import { hqqGathered } from './hqq';
import { minmaxChannel, minmaxToken } from './minmax';
import { optionError } from './errors';
import { scratchF32, scratchU8 } from './scratch';
import { findNonFinite, nonFiniteError } from './minmax';
import { absmaxWasm, allocateWasmBuffers, minmaxWasm } from './wasm/index';
import { hqqWasm } from './wasm/hqq';
import type { FakeQuantBuffers, FakeQuantResult, KVTensor, QuantConfig } from './types';

/**
 * Allocates output buffers of the right sizes for `t` and `cfg` (reuse them with `fakeQuantizeInto`). With the WASM
 * path on they live in WebAssembly memory (see wasm/index.ts: the kernel then writes them directly instead of
 * copying its results out); they are ordinary typed arrays to read, but cannot be transferred (only copied) to
 * another thread.
 */
export function allocateFakeQuantOutput(t: KVTensor, cfg: QuantConfig): FakeQuantBuffers {
  validateTensor(t);
  resolveConfig(t, cfg);
  const n = t.heads * t.tokens * t.headDim;
  const g = groupCount(t, cfg);
  return allocateWasmBuffers(n, g) ?? allocatePlain(n, g);
}

function allocatePlain(n: number, g: number): FakeQuantBuffers {
  return {
    dequantized: new Float32Array(n),
    codes: new Uint8Array(n),
    scales: new Float32Array(g),
    zeros: new Float32Array(g),
  };
}

function checkBuffer(name: string, buf: unknown, ctor: { name: string }, need: number): void {
  if (
    buf === null ||
    typeof buf !== 'object' ||
    (buf as { constructor?: unknown }).constructor !== ctor ||
    (buf as { length: number }).length < need
  ) {
    const got =
      buf !== null && typeof buf === 'object'
        ? `${(buf as { constructor?: { name?: string } }).constructor?.name ?? 'object'}(${(buf as { length?: number }).length ?? '?'})`
        : String(buf);
    throw optionError(name, got, `a ${ctor.name} of length ≥ ${need}`);
  }
}

/**
 * Quantizes and dequantizes `t` into `out` (first `n` / `groups` entries are written). `out.dequantized` may be
 * `t.data` itself (in place): every kernel reads an element before writing its output. Returns `out` plus the group
 * count. Throws RangeError for an impossible config, mis-sized buffers or non-finite data.
 */
export function fakeQuantizeInto(t: KVTensor, cfg: QuantConfig, out: FakeQuantBuffers): FakeQuantResult {
  validateTensor(t);
  const c = resolveConfig(t, cfg);
  const { heads, tokens, headDim } = t;
  const n = heads * tokens * headDim;
  const groups = groupCount(t, c);
  if (out === null || typeof out !== 'object') throw optionError('out', out, 'an object { dequantized, codes, scales, zeros }');
  checkBuffer('out.dequantized', out.dequantized, Float32Array, n);
  checkBuffer('out.codes', out.codes, Uint8Array, n);
  checkBuffer('out.scales', out.scales, Float32Array, groups);
  checkBuffer('out.zeros', out.zeros, Float32Array, groups);
  const round = metaRounder(c.metaDtype);
  const { dequantized: deq, codes, scales, zeros } = out;
  const G = c.groupSize;
  const data = t.data;
  if (c.method === 'hqq') {
    // WASM SIMD HQQ (wasm/hqq.ts), bit-identical to the float32 JS path; false → the JS path (which throws the
    // RangeError for non-finite data). Both gather any layout into contiguous groups (grouping.ts gatherPlan).
    if (hqqWasm(c.axis, data, heads, tokens, headDim, G, c.bits, c.hqq, c.metaDtype, codes, deq, scales, zeros) === false) {
      const P = gatherPlan(c.axis, t, G);
      hqqGathered(data, P.idx, P.off, P.groups, c.bits, c.hqq, round, codes, deq, scales, zeros, c.axis === 'token');
    }
  } else if (c.axis === 'strided' || c.axis === 'flat-channel') {
    // Gather each group into a contiguous run (group order, member order), run the token-axis kernel (WASM when
    // available, bit-identical to JS), scatter back. Max/min/absmax are order-independent, so this is quanto's
    // MaxOptimizer on its grouped shape (optimum-quanto `tensor/grouped.py` `group()` + reduction over dim 0).
    checkFinite(data, n);
    const P = gatherPlan(c.axis, t, G);
    const idx = P.idx;
    const w = scratchF32(4, n);
    const dq = scratchF32(5, n);
    const cq = scratchU8(n);
    for (let k = 0; k < n; k++) w[k] = data[idx[k]];
    const kernelWasm = c.method === 'minmax' ? minmaxWasm : absmaxWasm;
    if (!kernelWasm('token', w, 1, 1, n, G, c.bits, c.metaDtype, cq, dq, scales, zeros)) {
      if (c.method === 'minmax') minmaxToken(w, n, G, c.bits, round, cq, dq, scales, zeros);
      else absmaxToken(w, n, G, c.bits, round, cq, dq, scales, zeros);
    }
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      codes[i] = cq[k];
      deq[i] = dq[k];
    }
  } else if (c.method === 'minmax') {
    // WASM SIMD path (bit-identical, see wasm/index.ts); false when unavailable/disabled or on non-finite data,
    // in which case the JS kernels below run (and throw the RangeError for non-finite data).
    if (minmaxWasm(c.axis, data, heads, tokens, headDim, G, c.bits, c.metaDtype, codes, deq, scales, zeros)) {
      // done
    } else if (c.axis === 'token') minmaxToken(data, n, G, c.bits, round, codes, deq, scales, zeros);
    else minmaxChannel(data, heads, tokens, headDim, G, c.bits, round, codes, deq, scales, zeros);
  } else {
    // WASM SIMD path, bit-identical like min-max's (wasm/index.ts); false → the JS kernels (which throw on non-finite data)
    if (absmaxWasm(c.axis, data, heads, tokens, headDim, G, c.bits, c.metaDtype, codes, deq, scales, zeros)) {
      // done
    } else if (c.axis === 'token') absmaxToken(data, n, G, c.bits, round, codes, deq, scales, zeros);
    else absmaxChannel(data, heads, tokens, headDim, G, c.bits, round, codes, deq, scales, zeros);
  }
  return { dequantized: deq, codes, scales, zeros, groups };
}

/** Throws the RangeError for the first NaN/±Infinity of `data` (indices in `data`, not in a gathered copy). */
function checkFinite(data: Float32Array, n: number): void {
  let bad = 0;
  for (let i = 0; i < n; i++) bad += data[i] - data[i];
  if (bad !== 0 || bad !== bad) {
    const k = findNonFinite(data, 0, n);
    throw nonFiniteError(k, data[k]);
  }
}

/**
 * Quantizes then dequantizes `t` with `cfg` into freshly allocated plain arrays (one-shot use: a WASM-backed
 * allocation would cost an instance per call).
 */
export function fakeQuantize(t: KVTensor, cfg: QuantConfig): FakeQuantResult {
  validateTensor(t);
  resolveConfig(t, cfg);
  return fakeQuantizeInto(t, cfg, allocatePlain(t.heads * t.tokens * t.headDim, groupCount(t, cfg)));
}
