/**
 * A synthetic KV-cache dump shaped like Llama-3-8B's for 2,048 tokens (32 layers, 32 query heads, 8 KV heads,
 * head_dim 128, last 8 queries, fp16): the layout scripts/kv-dump/dump_kv.py writes, random finite values.
 * ~405 MB; written once to the OS temp folder. Used by bench/dump-open.ts and bench/browser/dump-open.bench.ts.
 */
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const L = 32,
  H = 32,
  KVH = 8,
  D = 128,
  T = 2048,
  Q = 8;

/** Writes the dump to `file` unless it exists. */
export function makeSyntheticDump(file: string): void {
  if (existsSync(file)) return;
  const meta = {
    schema: 'kvlab-kv-dump',
    version: 1,
    model: { id: 'synthetic/llama-3-8b-shape', revision: null, model_type: 'llama', architectures: ['LlamaForCausalLM'] },
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: KVH,
    head_dim: D,
    hidden_size: H * D,
    max_position_embeddings: 8192,
    rope: { rope_type: 'default', rope_theta: 500000 },
    k_norm: false,
    layer_types: Array(L).fill('full'),
    layers: Array.from({ length: L }, (_, i) => ({ index: i, attention: 'full', window: null, transformers_cached_tokens: T })),
    tokens: { count: T, ids: Array.from({ length: T }, (_, i) => i % 1000), strings: Array.from({ length: T }, (_, i) => ` t${i}`) },
    queries: { count: Q, first_position: T - Q },
    dtype: 'float16',
    source_dtype: 'bfloat16',
  };
  const header: Record<string, unknown> = { __metadata__: { kvlab: JSON.stringify(meta) } };
  let off = 0;
  const sizes: number[] = [];
  for (let l = 0; l < L; l++) {
    for (const [name, shape] of [
      ['keys', [KVH, T, D]],
      ['keys_pre_rope', [KVH, T, D]],
      ['values', [KVH, T, D]],
      ['queries', [H, Q, D]],
    ] as const) {
      const n = shape.reduce((a, b) => a * b, 1) * 2;
      header[`layers.${l}.${name}`] = { dtype: 'F16', shape, data_offsets: [off, off + n] };
      sizes.push(n);
      off += n;
    }
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeUInt32LE(Buffer.byteLength(json), 0);
  writeSync(fd, len);
  writeSync(fd, json);
  // 1 MiB of random finite fp16 (|x| in about [2^-5, 2^3)), written over and over.
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 2)
    block.writeUInt16LE(
      ((Math.random() < 0.5 ? 1 : 0) << 15) | ((10 + Math.floor(Math.random() * 8)) << 10) | Math.floor(Math.random() * 1024),
      i,
    );
  for (let left = off; left > 0; left -= block.length) writeSync(fd, left >= block.length ? block : block.subarray(0, left));
  closeSync(fd);
}

export const syntheticDumpPath = () => join(tmpdir(), `kvlab-synth-8b-${T}.kvlab.safetensors`);
