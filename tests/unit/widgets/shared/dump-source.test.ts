import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  blobSource,
  checkDump,
  decodeTensor,
  explainDumpError,
  dumpTensorSet,
  layerLabel,
  layersThatFit,
  openDumpCore,
  padQueries,
  parseLayerList,
  subsetDump,
  type DumpResponse,
} from '../../../../src/widgets/shared/dump-source';
import { readKvDump, SafetensorsError } from '../../../../src/lib/model/safetensors';

const root = resolve(__dirname, '../../../..');
const FIXTURE = resolve(root, 'public/dumps/kvlab-16m-sample.kvlab.safetensors');
const fixture = () => new Uint8Array(readFileSync(FIXTURE));

type Ref = {
  token_ids: number[];
  layers: { index: number; keys_head0_token0: number[]; keys_abs_sum: number; values_abs_sum: number; queries_last_head0: number[] }[];
};
// Written by scripts/kv-dump/make_fixture.py from onnxruntime's outputs on the same token ids (not from this code).
const ref = JSON.parse(readFileSync(resolve(root, 'tests/fixtures/kv-dump/kvlab-16m-sample.ort.json'), 'utf8')) as Ref;

// float16 storage: relative error <= 2^-11; plus 1e-4 for PyTorch vs onnxruntime (scripts/kv-dump/README.md measures ~1e-5).
const near = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -11 + 1e-4);
const absSum = (a: Float32Array) => a.reduce((s, x) => s + Math.abs(x), 0);

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof SafetensorsError ? e.code : `other: ${(e as Error).message}`;
  }
  return 'no error';
}

/** The fixture with its header JSON rewritten by `edit` (tensor bytes unchanged). */
function withHeader(edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Uint8Array {
  const b = fixture();
  const n = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
  edit(h);
  const j = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + j.length + b.length - 8 - n);
  new DataView(out.buffer).setUint32(0, j.length, true);
  out.set(j, 8);
  out.set(b.subarray(8 + n), 8 + j.length);
  return out;
}

describe('dump → TensorSet on the committed fixture (kvlab-16m, 64 tokens, 8 layers, fp16)', () => {
  it('has the shapes, tokens and metadata of the dump', () => {
    const set = dumpTensorSet(fixture(), 'sample.kvlab.safetensors');
    expect(set.source).toBe('dump');
    expect([set.info.layers, set.info.heads, set.info.kvHeads, set.info.headDim]).toEqual([8, 6, 2, 64]);
    expect(set.tokens.length).toBe(64);
    expect(set.tokenIds).toEqual(ref.token_ids);
    expect(set.keys.length).toBe(8);
    expect(set.queries!.length).toBe(8);
    expect(set.queriesFrom).toBe(56);
    expect(set.info.vocab).toBe(0);
    expect(set.lastLogits.length).toBe(0);
    expect(set.dump.model).toBe('kvlab-16m');
    expect(set.dump.dtype).toBe('float16');
    expect(set.dump.layers.map((l) => l.attention)).toEqual(Array(8).fill('full'));
    expect(set.dump.bytes).toBe(statSync(FIXTURE).size);
  });

  it('keys, values and queries match onnxruntime within float16 rounding', () => {
    const set = dumpTensorSet(fixture(), 'x');
    for (const r of ref.layers) {
      const k = set.keys[r.index];
      expect([k.heads, k.tokens, k.headDim]).toEqual([2, 64, 64]);
      r.keys_head0_token0.forEach((v, i) => near(k.data[i], v));
      expect(absSum(k.data) / r.keys_abs_sum).toBeCloseTo(1, 3);
      expect(absSum(set.values[r.index].data) / r.values_abs_sum).toBeCloseTo(1, 3);
      const q = set.queries![r.index];
      expect([q.heads, q.tokens, q.headDim]).toEqual([6, 8, 64]);
      r.queries_last_head0.forEach((v, i) => near(q.data[(q.tokens - 1) * q.headDim + i], v));
    }
  });

  it('widens a layer only when it is read, and keeps it', () => {
    const set = dumpTensorSet(fixture(), 'x');
    expect(Object.getOwnPropertyDescriptor(set.keys, 3)!.get).toBeTypeOf('function');
    const a = set.keys[3];
    expect(Object.getOwnPropertyDescriptor(set.keys, 3)!.get).toBeUndefined();
    expect(set.keys[3]).toBe(a);
    expect(Object.getOwnPropertyDescriptor(set.keys, 4)!.get).toBeTypeOf('function');
    // structured clone (how the quantizer hands tensors to its worker) reads through the getters
    const clone = structuredClone({ keys: set.keys });
    expect(clone.keys[7].data.length).toBe(2 * 64 * 64);
  });

  it('pads dumped queries to token positions for the attention widget', () => {
    const set = dumpTensorSet(fixture(), 'x');
    const q = set.queries![0];
    const p = padQueries(q, 64, 56);
    expect([p.heads, p.tokens]).toEqual([6, 64]);
    // head 2, position 60 = dumped row 4
    const D = 64;
    expect(Array.from(p.data.subarray((2 * 64 + 60) * D, (2 * 64 + 61) * D))).toEqual(
      Array.from(q.data.subarray((2 * 8 + 4) * D, (2 * 8 + 5) * D)),
    );
    expect(p.data[(2 * 64 + 10) * D]).toBe(0);
  });
});

describe('decodeTensor (hand-computed values)', () => {
  it('F16, BF16 and F32, aligned and not', () => {
    // binary16 0x3c00 = 1, 0xc000 = -2, 0x3555 = 2^-2 (1 + 341/1024); bfloat16 0x3f80 = 1, 0xc040 = -3
    const f16 = new Uint8Array([0, 0x00, 0x3c, 0x00, 0xc0, 0x55, 0x35]);
    expect(Array.from(decodeTensor(f16, 1, 6, 'F16'))).toEqual([1, -2, 0.333251953125]);
    const even = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]);
    expect(Array.from(decodeTensor(even, 0, 4, 'F16'))).toEqual([1, -2]);
    expect(Array.from(decodeTensor(new Uint8Array([0x80, 0x3f, 0x40, 0xc0]), 0, 4, 'BF16'))).toEqual([1, -3]);
    const f32 = new Uint8Array(9);
    new DataView(f32.buffer).setFloat32(1, 1.5, true);
    new DataView(f32.buffer).setFloat32(5, -0.25, true);
    expect(Array.from(decodeTensor(f32, 1, 8, 'F32'))).toEqual([1.5, -0.25]);
  });
});

describe('bad files: an error naming what is wrong', () => {
  it('not safetensors, truncated, missing tensor, shape mismatch, unsupported dtype, NaN/Inf', () => {
    // An HTML page: its first 8 bytes read as a header length of ~7e18, far past any limit.
    const html = new TextEncoder().encode('<!doctype html><html></html>');
    expect(errorCode(() => checkDump(html))).toBe('header-too-large');
    let htmlMsg = '';
    try {
      checkDump(html);
    } catch (e) {
      htmlMsg = explainDumpError(e);
    }
    expect(htmlMsg).toMatch(/^This is not a safetensors file/);
    expect(errorCode(() => checkDump(new Uint8Array([1, 2, 3])))).toBe('not-safetensors');
    const b = fixture();
    expect(errorCode(() => checkDump(b.slice(0, 200_000)))).toBe('truncated');
    expect(
      errorCode(() =>
        checkDump(
          withHeader((h) => {
            // rename: the file still tiles, but layers.3.values is gone
            h['layers.3.valuez'] = h['layers.3.values'];
            delete h['layers.3.values'];
          }),
        ),
      ),
    ).toBe('missing-tensor');
    expect(errorCode(() => checkDump(withHeader((h) => (h['layers.2.keys'].shape = [2, 32, 128]))))).toBe('shape-mismatch');
    expect(errorCode(() => checkDump(withHeader((h) => (h['layers.2.keys'].dtype = 'I16'))))).toBe('unsupported-dtype');
    // An fp16 Inf (0x7c00) written into layer 5's values
    const bad = fixture();
    const d = readKvDump(bad);
    const at = d.file.info('layers.5.values').byteOffset + 2 * 1000;
    bad[at] = 0x00;
    bad[at + 1] = 0x7c;
    let msg = '';
    try {
      checkDump(bad);
    } catch (e) {
      msg = (e as Error).message;
      expect((e as SafetensorsError).code).toBe('non-finite');
    }
    expect(msg).toContain('layers.5.values');
    expect(msg).toContain('element 1000');
  });
});

describe('opening (the worker logic, run here directly)', () => {
  const run = async (req: Parameters<typeof openDumpCore>[0]) => {
    const out: DumpResponse[] = [];
    await openDumpCore(req, (m) => out.push(m));
    return out;
  };

  it('a good file: metadata first, then the checked buffer', async () => {
    const out = await run({ type: 'open', id: 1, file: new Blob([fixture()]), name: 'a.safetensors' });
    const types = out.map((m) => m.type).filter((t) => t !== 'progress');
    expect(types).toEqual(['meta', 'done']);
    const meta = out.find((m) => m.type === 'meta')!;
    if (meta.type === 'meta') expect([meta.summary.tokens, meta.summary.layers.length, meta.summary.kvHeads]).toEqual([64, 8, 2]);
  });

  it('a truncated file: an error with code truncated', async () => {
    const out = await run({ type: 'open', id: 2, file: new Blob([fixture().slice(0, 300_000)]), name: 'cut.safetensors' });
    const last = out[out.length - 1];
    expect(last.type).toBe('error');
    if (last.type === 'error') expect(last.code).toBe('truncated');
  });

  it('over the limit: the header summary, then a subset of layers that reads only those', async () => {
    const file = new Blob([fixture()]);
    const big = await run({ type: 'open', id: 3, file, name: 'big', maxBytes: 200_000 });
    const tl = big[big.length - 1];
    expect(tl.type).toBe('too-large');
    if (tl.type !== 'too-large') return;
    expect(tl.summary.layers.length).toBe(8);
    // each layer: keys + pre-RoPE keys + values (2·64·64 fp16 each) + queries (6·8·64 fp16)
    const perLayer = 3 * 2 * 64 * 64 * 2 + 6 * 8 * 64 * 2;
    expect(tl.summary.layers[0].bytes).toBe(perLayer);
    const fit = layersThatFit(tl.summary, 200_000);
    expect(fit).toEqual([0, 1, 2].slice(0, Math.floor((200_000 - 65_536) / perLayer)));
    const sub = await run({ type: 'open', id: 4, file, name: 'big', maxBytes: 200_000, layers: [2, 5] });
    const done = sub[sub.length - 1];
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    const set = dumpTensorSet(done.buffer, 'big', 200_000);
    expect(set.dump.layers.map((l) => l.index)).toEqual([2, 5]);
    expect(set.info.layers).toBe(2);
    const whole = dumpTensorSet(fixture(), 'x');
    expect(Array.from(set.keys[1].data)).toEqual(Array.from(whole.keys[5].data));
    expect(Array.from(set.queries![0].data)).toEqual(Array.from(whole.queries![2].data));
    expect(layerLabel(set, 1)).toBe('layer 5');
  });

  it('subsetDump writes a valid dump', async () => {
    const buf = await subsetDump(blobSource(new Blob([fixture()]), 'f'), [0, 7]);
    const d = checkDump(buf);
    expect(d.layers.map((l) => l.index)).toEqual([0, 7]);
    expect(d.meta.tokens.count).toBe(64);
  });
});

describe('helpers', () => {
  it('parseLayerList', () => {
    expect(parseLayerList('0, 4-6,2')).toEqual([0, 2, 4, 5, 6]);
    expect(() => parseLayerList('a')).toThrow(/not a layer/);
  });
  it('layerLabel marks sliding-window layers from the metadata', () => {
    const dump = {
      layers: [
        { index: 0, attention: 'sliding' as const, window: 4096, bytes: 0 },
        { index: 1, attention: 'full' as const, window: null, bytes: 0 },
      ],
    };
    expect(layerLabel({ dump } as never, 0)).toBe('layer 0 (sliding window 4096)');
    expect(layerLabel({ dump } as never, 1)).toBe('layer 1');
    expect(layerLabel(undefined, 3)).toBe('layer 3');
  });
});
