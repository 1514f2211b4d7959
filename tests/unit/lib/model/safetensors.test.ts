import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, readKvDump, SafetensorsError, type SafetensorsErrorCode } from '../../../../src/lib/model/safetensors';

const root = resolve(__dirname, '../../../..');

/** Build a safetensors file by hand: 8-byte LE length, JSON header (optionally space-padded), data. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setUint16(2 * i, x, true));
  return b;
}

function f32le(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return b;
}

function code(fn: () => unknown): SafetensorsErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    if (e instanceof SafetensorsError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('float decoding (hand-computed values)', () => {
  it('F16: normals, subnormals, zeros, infinities and NaN', () => {
    // Bit patterns and their values from IEEE 754 binary16: value = (-1)^s * 2^(e-15) * (1 + m/1024), e = 0: 2^-14 * m/1024.
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125], // 2^-2 * (1 + 341/1024)
      [0x7bff, 65504], // largest finite
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x8001, -(2 ** -24)],
      [0x0000, 0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const f = parseSafetensors(
      build({ t: { dtype: 'F16', shape: [cases.length], data_offsets: [0, 2 * cases.length] } }, u16le(cases.map((c) => c[0]))),
    );
    const out = f.toFloat32('t', { allowNonFinite: true });
    expect(Array.from(out)).toEqual(cases.map((c) => c[1]));
    expect(Object.is(out[8], 0)).toBe(true);
    const neg0 = parseSafetensors(build({ t: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, u16le([0x8000])));
    expect(Object.is(neg0.toFloat32('t')[0], -0)).toBe(true);
    const nan = parseSafetensors(build({ t: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, u16le([0x7e00])));
    expect(Number.isNaN(nan.toFloat32('t', { allowNonFinite: true })[0])).toBe(true);
  });

  it('BF16: the upper 16 bits of the float32 pattern', () => {
    const cases: [number, number][] = [
      [0x3f80, 1], // float32 0x3f800000
      [0xc040, -3], // 0xc0400000
      [0x3eab, 0.333984375], // 0x3eab0000 = 2^-2 * (1 + 0x2b/128)
      [0x7f7f, 3.3895313892515355e38], // largest finite bf16: (2 - 2^-7) * 2^127
      [0x0001, 2 ** -133], // smallest subnormal: float32 0x00010000 = 2^16 * 2^-149
      [0xff80, -Infinity],
    ];
    const f = parseSafetensors(build({ t: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 12] } }, u16le(cases.map((c) => c[0]))));
    expect(Array.from(f.toFloat32('t', { allowNonFinite: true }))).toEqual(cases.map((c) => c[1]));
  });

  it('F32 little-endian, at an unaligned offset', () => {
    // Header of 3 bytes + padding makes the data start at an odd absolute offset: the reader must not assume alignment.
    const vals = [1.5, -0.1, 3.4028234663852886e38];
    const file = build(
      { a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, b: { dtype: 'F32', shape: [3], data_offsets: [1, 13] } },
      new Uint8Array([7, ...f32le(vals)]),
    );
    const f = parseSafetensors(file);
    expect(Array.from(f.toFloat32('b'))).toEqual(vals.map((v) => Math.fround(v)));
    expect(f.names).toEqual(['a', 'b']);
    expect(code(() => f.toFloat32('a'))).toBe('unsupported-dtype');
  });

  it('reads a typed-array view into a larger buffer, and metadata + header padding', () => {
    const inner = build({ __metadata__: { k: 'v' }, t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32le([2]), 5);
    const big = new Uint8Array(inner.length + 10);
    big.set(inner, 10);
    const f = parseSafetensors(big.subarray(10));
    expect(f.metadata).toEqual({ k: 'v' });
    expect(Array.from(f.toFloat32('t'))).toEqual([2]);
  });
});

describe('errors', () => {
  const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, () => unknown, SafetensorsErrorCode][] = [
    ['fewer than 8 bytes', () => parseSafetensors(new Uint8Array(5)), 'not-safetensors'],
    ['header not starting with {', () => parseSafetensors(new TextEncoder().encode('\x05\0\0\0\0\0\0\0hello')), 'not-safetensors'],
    [
      'a PNG file',
      () => parseSafetensors(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])),
      'header-too-large',
    ],
    ['header longer than the file', () => parseSafetensors(build(ok, f32le([1, 2])).subarray(0, 20)), 'truncated'],
    ['data shorter than the offsets', () => parseSafetensors(build(ok, f32le([1, 2])).subarray(0, build(ok).length + 6)), 'truncated'],
    ['header over the limit', () => parseSafetensors(build(ok, f32le([1, 2])), { maxHeaderBytes: 10 }), 'header-too-large'],
    ['file over the limit', () => parseSafetensors(build(ok, f32le([1, 2])), { maxBytes: 20 }), 'file-too-large'],
    ['invalid JSON', () => parseSafetensors(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7b])), 'bad-header'],
    [
      'unknown dtype',
      () => parseSafetensors(build({ t: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16))),
      'unsupported-dtype',
    ],
    [
      'shape vs bytes',
      () => parseSafetensors(build({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))),
      'shape-mismatch',
    ],
    [
      'overlapping tensors',
      () =>
        parseSafetensors(
          build(
            { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
            new Uint8Array(12),
          ),
        ),
      'bad-offsets',
    ],
    [
      'a gap between tensors',
      () =>
        parseSafetensors(
          build(
            { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
            new Uint8Array(12),
          ),
        ),
      'bad-offsets',
    ],
    ['trailing bytes after the last tensor', () => parseSafetensors(build(ok, new Uint8Array(12))), 'bad-offsets'],
    [
      'offsets ending before they begin',
      () => parseSafetensors(build({ t: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4))),
      'bad-offsets',
    ],
    [
      'negative shape',
      () => parseSafetensors(build({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))),
      'bad-header',
    ],
    ['metadata not string → string', () => parseSafetensors(build({ __metadata__: { n: 1 } })), 'bad-header'],
    ['missing tensor', () => parseSafetensors(build(ok, f32le([1, 2]))).info('nope'), 'missing-tensor'],
    ['NaN', () => parseSafetensors(build(ok, f32le([1, NaN]))).toFloat32('t'), 'non-finite'],
    ['Inf', () => parseSafetensors(build(ok, f32le([-Infinity, 1]))).toFloat32('t'), 'non-finite'],
  ];
  it.each(cases)('%s', (_name, fn, expected) => {
    expect(code(fn)).toBe(expected);
  });

  it('the error message says what is wrong', () => {
    expect(() => parseSafetensors(build(ok, f32le([1, 2])).subarray(0, 20))).toThrow(/truncated/);
    expect(() => parseSafetensors(build(ok, f32le([1, NaN]))).toFloat32('t')).toThrow(/"t": element 1 is NaN/);
  });
});

// ---------------------------------------------------------------------------------------------

/** A minimal valid dump: 1 KV head, 2 heads, head_dim 2, 3 tokens, 1 query, one layer (index 1 of 2). */
function miniDump(edit: (meta: Record<string, unknown>, tensors: Record<string, { shape: number[] }>) => void = () => {}) {
  const meta: Record<string, unknown> = {
    schema: 'kvlab-kv-dump',
    version: 1,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 2,
    tokens: { count: 3, ids: [5, 6, 7], strings: ['a', 'b', 'c'] },
    queries: { count: 1, first_position: 2 },
    layers: [{ index: 1, attention: 'sliding', window: 4 }],
  };
  const tensors: Record<string, { shape: number[] }> = {
    'layers.1.keys': { shape: [1, 3, 2] },
    'layers.1.keys_pre_rope': { shape: [1, 3, 2] },
    'layers.1.values': { shape: [1, 3, 2] },
    'layers.1.queries': { shape: [2, 1, 2] },
  };
  edit(meta, tensors);
  const header: Record<string, unknown> = { __metadata__: { kvlab: JSON.stringify(meta) } };
  const values: number[] = [];
  for (const [name, { shape }] of Object.entries(tensors)) {
    const n = shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [values.length * 4, (values.length + n) * 4] };
    for (let i = 0; i < n; i++) values.push(values.length);
  }
  return build(header, f32le(values));
}

describe('readKvDump', () => {
  it('returns lazy [heads, tokens, headDim] tensors', () => {
    const d = readKvDump(miniDump());
    expect(d.tokens).toEqual(['a', 'b', 'c']);
    expect(d.layers.map((l) => [l.index, l.attention, l.window])).toEqual([[1, 'sliding', 4]]);
    const k = d.layers[0].keys();
    expect({ heads: k.heads, tokens: k.tokens, headDim: k.headDim }).toEqual({ heads: 1, tokens: 3, headDim: 2 });
    expect(Array.from(k.data)).toEqual([0, 1, 2, 3, 4, 5]); // first tensor in the file
    expect(Array.from(d.layers[0].values().data)).toEqual([12, 13, 14, 15, 16, 17]);
    const q = d.layers[0].queries();
    expect(q && [q.heads, q.tokens, q.headDim]).toEqual([2, 1, 2]);
    expect(d.layers[0].keys()).toBe(k); // decoded once
  });

  it('refuses files that are not dumps or do not match their metadata', () => {
    expect(code(() => readKvDump(build({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32le([1]))))).toBe('bad-schema');
    expect(code(() => readKvDump(miniDump((m) => (m.schema = 'other'))))).toBe('bad-schema');
    expect(code(() => readKvDump(miniDump((m) => (m.version = 2))))).toBe('bad-schema');
    expect(code(() => readKvDump(miniDump((m) => (m.layers = [{ index: 1, attention: 'mla', window: null }]))))).toBe('bad-schema');
    expect(code(() => readKvDump(miniDump((m) => (m.layers = [{ index: 2, attention: 'full', window: null }]))))).toBe('bad-schema');
    expect(code(() => readKvDump(miniDump((m) => (m.tokens = { count: 4, ids: [], strings: ['a', 'b', 'c'] }))))).toBe('bad-schema');
    expect(code(() => readKvDump(miniDump((_m, t) => delete t['layers.1.values'])))).toBe('missing-tensor');
    expect(code(() => readKvDump(miniDump((_m, t) => (t['layers.1.keys'] = { shape: [1, 2, 3] }))))).toBe('shape-mismatch');
    expect(code(() => readKvDump(miniDump((_m, t) => (t['layers.1.queries'] = { shape: [1, 1, 2] }))))).toBe('shape-mismatch');
  });
});

describe('the committed fixture (kvlab-16m, dumped by scripts/kv-dump/dump_kv.py)', () => {
  type Ref = {
    token_ids: number[];
    layers: { index: number; keys_head0_token0: number[]; keys_abs_sum: number; values_abs_sum: number; queries_last_head0: number[] }[];
  };
  const load = () => ({
    d: readKvDump(readFileSync(resolve(root, 'public/dumps/kvlab-16m-sample.kvlab.safetensors'))),
    // Written by scripts/kv-dump/make_fixture.py from onnxruntime's outputs on the same token ids (not from this reader).
    ref: JSON.parse(readFileSync(resolve(root, 'tests/fixtures/kv-dump/kvlab-16m-sample.ort.json'), 'utf8')) as Ref,
  });

  it('has the model shape and tokens', () => {
    const { d, ref } = load();
    expect(d.meta.model.model_type).toBe('llama');
    expect([d.meta.num_hidden_layers, d.meta.num_attention_heads, d.meta.num_key_value_heads, d.meta.head_dim]).toEqual([8, 6, 2, 64]);
    expect(d.meta.tokens.ids).toEqual(ref.token_ids);
    expect(d.tokens.length).toBe(64);
    expect(d.layers.map((l) => l.attention)).toEqual(Array(8).fill('full'));
    expect(d.layers.map((l) => l.transformers_cached_tokens)).toEqual(Array(8).fill(64));
    expect(d.meta.dtype).toBe('float16');
    expect(d.file.info('layers.0.keys').dtype).toBe('F16');
  });

  it('keys, values and queries match onnxruntime (within float16 storage rounding)', () => {
    const { d, ref } = load();
    for (const r of ref.layers) {
      const l = d.layers.find((x) => x.index === r.index)!;
      const k = l.keys();
      expect([k.heads, k.tokens, k.headDim]).toEqual([2, 64, 64]);
      // float16 storage: relative error <= 2^-11; plus 1e-4 for PyTorch vs onnxruntime (onnx_to_hf.py measures ~1e-5).
      const near = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -11 + 1e-4);
      r.keys_head0_token0.forEach((v, i) => near(k.data[i], v));
      const sum = (a: Float32Array) => a.reduce((s, x) => s + Math.abs(x), 0);
      expect(sum(k.data) / r.keys_abs_sum).toBeCloseTo(1, 3);
      expect(sum(l.values().data) / r.values_abs_sum).toBeCloseTo(1, 3);
      const q = l.queries()!;
      const last = (q.tokens - 1) * q.headDim; // head 0, last position
      r.queries_last_head0.forEach((v, i) => near(q.data[last + i], v));
    }
  });
});
