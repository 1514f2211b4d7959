/**
 * WebAssembly SIMD path of the engine cache formats (../formats/): FP8 e4m3/e5m2, NVFP4, llama.cpp q8_0, q4_0,
 * q5_0, q4_1, q5_1 — bit-identical to the JS reference kernels (formats.wat says why; tests/unit/lib/quant/formats/
 * checks both paths against the reference fixtures and against each other). iq4_nl stays JS-only (its per-element
 * binary search and sequential float32 sums gain little from 4 lanes).
 *
 * Per call (`stageFormats`): the tensor is copied into the module's memory (padded with 4 zeros) and checked for
 * NaN/±Infinity there; the caller takes its scales' max |x| from the staged copy (`absMax`), then `run` processes
 * each head (FP8/NVFP4: its own scale) or the whole tensor (llama.cpp blocks) into a second region and copies x̂ out.
 * `stageFormats` returns null — nothing written — when WASM SIMD is unavailable or switched off with
 * `setWasmEnabled(false)`, the format has no kernel, or the tensor does not fit in 32-bit wasm memory.
 */
import { FORMATS_WASM_BASE64 } from './formats.generated';
import { wasmActive } from './index';
import { align16, decodeBase64, ensureBytes } from './memory';
import type { EngineFormat } from '../formats/index';

type Exports = {
  memory: WebAssembly.Memory;
  absmax(src: number, count: number): number;
  finite(src: number, count: number): number;
  fp8(src: number, dst: number, count: number, scale: number, kind: number): void;
  nvfp4(src: number, dst: number, blocks: number, gs: number, meta: number): void;
  q8_0(src: number, dst: number, blocks: number, meta: number): void;
  qx_0(src: number, dst: number, blocks: number, half: number, meta: number): void;
  qx_1(src: number, dst: number, blocks: number, top: number, meta: number): void;
};

let kernel: Exports | null | undefined; // undefined: not tried yet; null: unavailable

function load(): Exports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  try {
    // Synchronous compile: the module is ~2 KB.
    kernel = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(FORMATS_WASM_BASE64)), {}).exports as unknown as Exports;
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Whether the formats' WASM path can run here now. */
export function formatsWasmActive(): boolean {
  return wasmActive() && load() !== null;
}

const HAS_KERNEL = new Set<EngineFormat>(['fp8_e4m3', 'fp8_e5m2', 'nvfp4', 'q8_0', 'q4_0', 'q5_0', 'q4_1', 'q5_1']);

/** Formats with a WebAssembly kernel (the others always run in JS). */
export function formatHasWasmKernel(format: EngineFormat): boolean {
  return HAS_KERNEL.has(format);
}

/** A tensor copied into the module memory. */
export type StagedTensor = {
  /** No NaN/±Infinity in the tensor. */
  finite: boolean;
  /** max |x| over elements [from, to) (SIMD over whole vectors, the ≤ 3 left in JS). */
  absMax(from: number, to: number): number;
  /**
   * x̂ of `format` into `out`. `scales`: FP8 — each head's scale; NVFP4 — each head's global scale; null for the
   * llama.cpp formats (blocks of 32 along the flat tensor, headDim a multiple of 32).
   */
  run(format: EngineFormat, heads: number, perHead: number, scales: Float32Array | null, out: Float32Array): void;
};

/** Stages `data` for `format`'s kernel, or null (see the module comment). */
export function stageFormats(format: EngineFormat, data: Float32Array): StagedTensor | null {
  if (!HAS_KERNEL.has(format) || !wasmActive()) return null;
  const k = load();
  if (k === null) return null;
  const n = data.length;
  const x = 0;
  const y = align16(4 * (n + 4));
  const meta = align16(y + 4 * (n + 4)); // block kernels' per-chunk scalars: up to 5 arrays of 64 f32 (+ one vector)
  if (!ensureBytes(k.memory, meta + 1296)) return null;
  const X = new Float32Array(k.memory.buffer, x, n + 4);
  X.set(data);
  X.fill(0, n);
  const finite = k.finite(x, (n + 3) & ~3) === 1;
  return {
    finite,
    absMax(from: number, to: number): number {
      const whole = (to - from) & ~3;
      let m = whole > 0 ? k.absmax(x + 4 * from, whole) : 0;
      for (let i = from + whole; i < to; i++) {
        const a = Math.abs(X[i]);
        if (a > m) m = a;
      }
      return m;
    },
    run(fmt: EngineFormat, heads: number, perHead: number, scales: Float32Array | null, out: Float32Array): void {
      switch (fmt) {
        case 'fp8_e4m3':
        case 'fp8_e5m2': {
          const kind = fmt === 'fp8_e4m3' ? 0 : 1;
          // Heads in order: a head's last vector may spill into the next head's outputs, which that head rewrites.
          for (let h = 0; h < heads; h++) k.fp8(x + 4 * h * perHead, y + 4 * h * perHead, perHead, scales![h], kind);
          break;
        }
        case 'nvfp4':
          for (let h = 0; h < heads; h++) k.nvfp4(x + 4 * h * perHead, y + 4 * h * perHead, perHead / 16, scales![h], meta);
          break;
        case 'q8_0':
          k.q8_0(x, y, n / 32, meta);
          break;
        case 'q4_0':
          k.qx_0(x, y, n / 32, 8, meta);
          break;
        case 'q5_0':
          k.qx_0(x, y, n / 32, 16, meta);
          break;
        case 'q4_1':
          k.qx_1(x, y, n / 32, 15, meta);
          break;
        case 'q5_1':
          k.qx_1(x, y, n / 32, 31, meta);
          break;
        default:
          throw new RangeError(`no WebAssembly kernel for ${fmt}`);
      }
      out.set(new Float32Array(k.memory.buffer, y, n));
    },
  };
}
