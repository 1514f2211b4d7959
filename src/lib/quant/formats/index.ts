/**
 * The cache formats inference engines ship, as fake quantization (quantize → dequantize) of one KV tensor with the
 * engines' own arithmetic: FP8 (vLLM/PyTorch, ./fp8.ts), NVFP4 (vLLM's emulation, ./nvfp4.ts) and llama.cpp's
 * block formats (ggml's reference quantizers, ./ggml.ts). Results are bit-identical to those references
 * (tests/unit/lib/quant/formats/ compares against fixtures written by scripts/reference/formats_reference.py with
 * PyTorch, gguf-py and vLLM's emulation code). The WebAssembly SIMD path (../wasm/formats.ts: every format but
 * iq4_nl) gives the same bits.
 */
import { validateTensor } from '../grouping';
import type { KVTensor } from '../types';
import { stageFormats } from '../wasm/formats';
import { fp8Range, fp8Scales, absMax } from './fp8';
import type { FormatScale } from './fp8';
import { iq4_nl, q8_0, qx_0, qx_1 } from './ggml';
import { nvfp4GlobalScale, nvfp4Range } from './nvfp4';

export type { FormatScale } from './fp8';

/**
 * Each format with the facts a menu needs: `bitsPerElement` as stored (block metadata included, per-tensor scales
 * not), `blockSize` (elements sharing a stored scale, null = per-tensor/per-head scale), `scales` (the
 * `opts.scale` modes it takes, first = default), `engines` with the exact flag spelling that selects it.
 * Flag sources: vLLM `CacheDType` in vllm/config/cache.py (commit 002f10e: "fp8", "fp8_e4m3", "fp8_e5m2", "nvfp4"
 * among others) for `--kv-cache-dtype`; llama.cpp `-ctk/--cache-type-k` and `-ctv/--cache-type-v`
 * (common/arg.cpp, types f16 … q5_1, iq4_nl); SGLang `--kv-cache-dtype` fp8_e4m3 | fp8_e5m2 (its `fp4_e2m1` is an
 * MXFP4-style cache, not NVFP4, so it is not listed); TensorRT-LLM `KvCacheConfig(dtype='fp8')` as its LLM-API docs
 * spell it (not checked against its source here).
 */
export const ENGINE_FORMATS = [
  {
    id: 'fp8_e4m3',
    label: 'FP8 E4M3',
    bitsPerElement: 8,
    blockSize: null,
    scales: ['unit', 'tensor', 'head', 'dynamic-k', 'dynamic-v'],
    engines: [
      { engine: 'vLLM', flag: '--kv-cache-dtype fp8' },
      { engine: 'vLLM', flag: '--kv-cache-dtype fp8_e4m3' },
      { engine: 'SGLang', flag: '--kv-cache-dtype fp8_e4m3' },
      { engine: 'TensorRT-LLM', flag: "KvCacheConfig(dtype='fp8')" },
    ],
  },
  {
    id: 'fp8_e5m2',
    label: 'FP8 E5M2',
    bitsPerElement: 8,
    blockSize: null,
    scales: ['unit', 'tensor', 'head', 'dynamic-k', 'dynamic-v'],
    engines: [
      { engine: 'vLLM', flag: '--kv-cache-dtype fp8_e5m2' },
      { engine: 'SGLang', flag: '--kv-cache-dtype fp8_e5m2' },
    ],
  },
  {
    id: 'nvfp4',
    label: 'NVFP4',
    bitsPerElement: 4.5,
    blockSize: 16,
    scales: ['tensor', 'head', 'unit'], // scope of the global scale gs
    engines: [{ engine: 'vLLM', flag: '--kv-cache-dtype nvfp4' }],
  },
  {
    id: 'q8_0',
    label: 'Q8_0',
    bitsPerElement: 8.5,
    blockSize: 32,
    scales: [],
    engines: [{ engine: 'llama.cpp', flag: '-ctk q8_0 -ctv q8_0' }],
  },
  {
    id: 'q4_0',
    label: 'Q4_0',
    bitsPerElement: 4.5,
    blockSize: 32,
    scales: [],
    engines: [{ engine: 'llama.cpp', flag: '-ctk q4_0 -ctv q4_0' }],
  },
  {
    id: 'q4_1',
    label: 'Q4_1',
    bitsPerElement: 5,
    blockSize: 32,
    scales: [],
    engines: [{ engine: 'llama.cpp', flag: '-ctk q4_1 -ctv q4_1' }],
  },
  {
    id: 'q5_0',
    label: 'Q5_0',
    bitsPerElement: 5.5,
    blockSize: 32,
    scales: [],
    engines: [{ engine: 'llama.cpp', flag: '-ctk q5_0 -ctv q5_0' }],
  },
  {
    id: 'q5_1',
    label: 'Q5_1',
    bitsPerElement: 6,
    blockSize: 32,
    scales: [],
    engines: [{ engine: 'llama.cpp', flag: '-ctk q5_1 -ctv q5_1' }],
  },
  {
    id: 'iq4_nl',
    label: 'IQ4_NL',
    bitsPerElement: 4.5,
    blockSize: 32,
    scales: [],
    engines: [{ engine: 'llama.cpp', flag: '-ctk iq4_nl -ctv iq4_nl' }],
  },
] as const;

export type EngineFormat = (typeof ENGINE_FORMATS)[number]['id'];
export type EngineFormatInfo = (typeof ENGINE_FORMATS)[number];
export type QuantizeFormatOptions = {
  scale?: FormatScale;
  /** Reuse this buffer (length heads·tokens·headDim) for `dequantized` instead of allocating one. */
  out?: Float32Array;
};
export type QuantizeFormatResult = { dequantized: Float32Array; bitsPerElement: number };

/** Notes for menus: llama.cpp needs flash attention for a quantized V cache (`-fa on`). */
export const ENGINE_FORMAT_NOTES = {
  llamaCppQuantizedV: 'llama.cpp quantizes the V cache only with flash attention on (-fa on)',
} as const;

const byId = new Map<string, EngineFormatInfo>(ENGINE_FORMATS.map((f) => [f.id, f]));

/** Facts of one format (throws RangeError for an unknown id). */
export function engineFormatInfo(format: EngineFormat): EngineFormatInfo {
  const f = byId.get(format);
  if (f === undefined) throw new RangeError(`format: expected one of ${ENGINE_FORMATS.map((x) => x.id).join(', ')}, got ${String(format)}`);
  return f;
}

/**
 * Fake-quantizes `t` (`[heads, tokens, headDim]`) in `format` as the engine that ships it would store it and read
 * it back. `opts.scale` picks the FP8 scale ('unit' default, as vLLM without calibration) or the NVFP4 global
 * scale scope ('tensor' default, 'head', 'unit'); block formats ignore it. Throws RangeError for a malformed
 * tensor, non-finite data, a scale mode the format does not have, or a headDim that is not a multiple of the
 * block size (32 for llama.cpp formats, 16 for NVFP4).
 */
export function quantizeFormat(t: KVTensor, format: EngineFormat, opts: QuantizeFormatOptions = {}): QuantizeFormatResult {
  validateTensor(t);
  const info = engineFormatInfo(format);
  const { data, heads, tokens, headDim } = t;
  const n = data.length;
  if (info.blockSize !== null && headDim % info.blockSize !== 0) {
    throw new RangeError(`headDim ${headDim} is not a multiple of ${format}'s block size ${info.blockSize}`);
  }
  const scales: readonly string[] = info.scales;
  const mode: FormatScale = opts.scale ?? (format === 'nvfp4' ? 'tensor' : 'unit');
  if (scales.length > 0 && !scales.includes(mode)) {
    throw new RangeError(`scale: ${format} takes one of ${scales.join(', ')}, got ${String(mode)}`);
  }
  const out = opts.out ?? new Float32Array(n);
  if (!(out instanceof Float32Array) || out.length !== n) {
    throw new RangeError(`out: expected a Float32Array of length ${n}`);
  }
  // WASM: the staged copy is checked for NaN/±Inf in the kernel; otherwise (or when it found one) the JS scan,
  // which throws naming the first bad element.
  const staged = stageFormats(format, data);
  if (staged === null || !staged.finite) {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v - v !== 0) throw new RangeError(`tensor.data[${i}] is ${v}: formats need finite values`);
    }
  }
  const amaxOf = (from: number, to: number): number => (staged !== null ? staged.absMax(from, to) : absMax(data, from, to));
  const perHead = tokens * headDim;
  switch (format) {
    case 'fp8_e4m3':
    case 'fp8_e5m2': {
      const kind = format === 'fp8_e4m3' ? 'e4m3' : 'e5m2';
      const s = fp8Scales(amaxOf, heads, perHead, kind, mode);
      if (staged !== null) staged.run(format, heads, perHead, s, out);
      else for (let h = 0; h < heads; h++) fp8Range(data, out, h * perHead, (h + 1) * perHead, s[h], kind);
      break;
    }
    case 'nvfp4': {
      const gs = new Float32Array(heads);
      if (mode === 'head') for (let h = 0; h < heads; h++) gs[h] = nvfp4GlobalScale(amaxOf(h * perHead, (h + 1) * perHead));
      else gs.fill(mode === 'unit' ? 1 : nvfp4GlobalScale(amaxOf(0, n)));
      if (staged !== null) staged.run(format, heads, perHead, gs, out);
      else for (let h = 0; h < heads; h++) nvfp4Range(data, out, h * perHead, (h + 1) * perHead, gs[h]);
      break;
    }
    default:
      if (staged !== null) staged.run(format, heads, perHead, null, out);
      else ggmlRange(format, data, out, 0, n);
  }
  return { dequantized: out, bitsPerElement: info.bitsPerElement };
}

/** The JS path of one llama.cpp format over data[from, to). */
export function ggmlRange(format: EngineFormat, data: Float32Array, out: Float32Array, from: number, to: number): void {
  switch (format) {
    case 'q8_0':
      return q8_0(data, out, from, to);
    case 'q4_0':
      return qx_0(data, out, from, to, 4);
    case 'q5_0':
      return qx_0(data, out, from, to, 5);
    case 'q4_1':
      return qx_1(data, out, from, to, 4);
    case 'q5_1':
      return qx_1(data, out, from, to, 5);
    case 'iq4_nl':
      return iq4_nl(data, out, from, to);
    default:
      throw new RangeError(`not a llama.cpp format: ${format}`);
  }
}
