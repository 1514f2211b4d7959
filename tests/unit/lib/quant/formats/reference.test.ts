/**
 * quantizeFormat against the engines' own code, element for element (bit-exact; NaN only has to be NaN, since
 * NaN payloads are not part of any format's semantics): fixtures written by scripts/reference/formats_reference.py
 * with PyTorch (FP8 casts), gguf-py (q8_0/q4_0/q4_1/q5_0/q5_1, and the iq4_nl decoder), a numpy float32 port of
 * ggml's `quantize_row_iq4_nl_ref`, and vLLM's `ref_nvfp4_quant_dequant`. Both paths — JS reference kernels and
 * WebAssembly SIMD — are checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { quantizeFormat, setWasmEnabled } from '../../../../../src/lib/quant/index';
import type { EngineFormat, FormatScale, KVTensor } from '../../../../../src/lib/quant/index';

const dir = join(__dirname, '../../../../fixtures/formats');
type Case = { name: string; shape: [number, number, number]; outputs: string[] };
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };

function load(c: Case): { t: KVTensor; expected: Map<string, Float32Array> } {
  const buf = readFileSync(join(dir, `${c.name}.bin`));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const [heads, tokens, headDim] = c.shape;
  const n = heads * tokens * headDim;
  expect(all.length).toBe(n * (c.outputs.length + 1));
  const expected = new Map<string, Float32Array>();
  c.outputs.forEach((k, i) => expected.set(k, all.slice(n * (i + 1), n * (i + 2))));
  return { t: { data: all.slice(0, n), heads, tokens, headDim }, expected };
}

/** Indices where a and b differ as float32 bit patterns (any NaN equals any NaN). */
function mismatches(a: Float32Array, b: Float32Array): number[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (ua[i] === ub[i] || (a[i] !== a[i] && b[i] !== b[i])) continue;
    bad.push(i);
  }
  return bad;
}

afterEach(() => setWasmEnabled(true));

describe.each([
  ['js', false],
  ['wasm', true],
] as const)('quantizeFormat (%s path) equals the reference implementations bit for bit', (_path, wasm) => {
  for (const c of manifest.cases) {
    it(`case ${c.name}: ${c.outputs.length} format/scale combinations`, () => {
      const { t, expected } = load(c);
      setWasmEnabled(wasm);
      const report: string[] = [];
      for (const [key, want] of expected) {
        const [format, scale] = key.split(':') as [EngineFormat, FormatScale | undefined];
        const got = quantizeFormat(t, format, scale === undefined ? {} : { scale }).dequantized;
        const bad = mismatches(got, want);
        if (bad.length > 0) {
          const i = bad[0];
          report.push(`${key}: ${bad.length} differ, first [${i}] x=${t.data[i]} got ${got[i]} want ${want[i]}`);
        }
      }
      expect(report).toEqual([]);
    });
  }
});

describe('fixture coverage', () => {
  it('every format and scale mode is in every case', () => {
    for (const c of manifest.cases) {
      for (const f of ['q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'iq4_nl']) expect(c.outputs).toContain(f);
      for (const m of ['unit', 'tensor', 'head', 'dynamic-k', 'dynamic-v']) {
        expect(c.outputs).toContain(`fp8_e4m3:${m}`);
        expect(c.outputs).toContain(`fp8_e5m2:${m}`);
      }
      for (const m of ['unit', 'tensor', 'head']) expect(c.outputs).toContain(`nvfp4:${m}`);
    }
  });
});
