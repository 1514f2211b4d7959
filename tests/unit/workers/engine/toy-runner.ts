/**
 * A tiny deterministic "model" in plain JavaScript implementing `ModelRunner`, so the session,
 * cache and handler logic can be tested without ONNX. Per layer, each token's key/value/query
 * depend on (token, position, layer); logits are a fixed projection of the attention outputs over
 * the *given* past plus the new tokens (causal), so a changed past changes the logits.
 */
import type { KVTensor } from '../../../../src/lib/model/kv';
import type { ModelInfo } from '../../../../src/lib/model/protocol';
import type { ForwardInput, ForwardOutput, ModelRunner } from '../../../../src/workers/engine/runner';

export const toyInfo: ModelInfo = {
  model: 'kvlab-16m',
  layers: 3,
  heads: 4,
  kvHeads: 2,
  headDim: 8,
  vocab: 32,
  maxPositions: 64,
  exportsQueries: true,
  dtype: 'float32',
};

const hash = (...xs: number[]) => {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ (x & 0xffff), 16777619) ^ (x >>> 16);
  return ((h >>> 0) % 10007) / 10007 - 0.5;
};

export function createToyRunner(info: ModelInfo = toyInfo, calls: { n: number[] } = { n: [] }): ModelRunner & { calls: { n: number[] } } {
  const { layers, heads, kvHeads, headDim, vocab } = info;
  const vec = (tag: number, tok: number, pos: number, layer: number, head: number) =>
    Float32Array.from({ length: headDim }, (_, d) => 2 * hash(tag, tok, pos, layer, head, d) + 0.3 * Math.sin(pos + d));
  return {
    info,
    calls,
    eosTokenIds: [],
    encode: (text) => Array.from(text.trim() ? text : '', (c) => c.charCodeAt(0) % vocab),
    decode: (ids) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join(''),
    tokenStrings: (ids) => ids.map((i) => String.fromCharCode(97 + (i % 26))),
    async forward({ inputIds, past }: ForwardInput): Promise<ForwardOutput> {
      calls.n.push(inputIds.length);
      const n = inputIds.length;
      const p0 = past ? past.keys[0].tokens : 0;
      const total = p0 + n;
      const keys: KVTensor[] = [];
      const values: KVTensor[] = [];
      const queries: KVTensor[] = [];
      const hidden = Array.from({ length: n }, () => new Float64Array(headDim));
      for (let l = 0; l < layers; l++) {
        const mk = (tag: number, prev: KVTensor | undefined, h: number): Float32Array => {
          const out = new Float32Array(h * total * headDim);
          for (let hh = 0; hh < h; hh++) {
            if (prev) out.set(prev.data.subarray(hh * p0 * headDim, (hh + 1) * p0 * headDim), hh * total * headDim);
            for (let i = 0; i < n; i++) out.set(vec(tag, inputIds[i], p0 + i, l, hh), (hh * total + p0 + i) * headDim);
          }
          return out;
        };
        const K = { data: mk(1, past?.keys[l], kvHeads), heads: kvHeads, tokens: total, headDim };
        const V = { data: mk(2, past?.values[l], kvHeads), heads: kvHeads, tokens: total, headDim };
        const qd = new Float32Array(heads * n * headDim);
        for (let h = 0; h < heads; h++) for (let i = 0; i < n; i++) qd.set(vec(3, inputIds[i], p0 + i, l, h), (h * n + i) * headDim);
        keys.push(K);
        values.push(V);
        queries.push({ data: qd, heads, tokens: n, headDim });
        const group = heads / kvHeads;
        for (let h = 0; h < heads; h++) {
          const kh = Math.floor(h / group);
          for (let i = 0; i < n; i++) {
            const q = qd.subarray((h * n + i) * headDim, (h * n + i + 1) * headDim);
            const last = p0 + i;
            const scores = new Float64Array(last + 1);
            let max = -Infinity;
            for (let t = 0; t <= last; t++) {
              let s = 0;
              for (let d = 0; d < headDim; d++) s += q[d] * K.data[(kh * total + t) * headDim + d];
              scores[t] = s / Math.sqrt(headDim);
              max = Math.max(max, scores[t]);
            }
            let z = 0;
            for (let t = 0; t <= last; t++) z += scores[t] = Math.exp(scores[t] - max);
            for (let t = 0; t <= last; t++)
              for (let d = 0; d < headDim; d++) hidden[i][d] += (scores[t] / z) * V.data[(kh * total + t) * headDim + d];
          }
        }
      }
      const logits = new Float32Array(n * vocab);
      for (let i = 0; i < n; i++)
        for (let v = 0; v < vocab; v++) {
          let s = 0;
          for (let d = 0; d < headDim; d++) s += hidden[i][d] * 3 * hash(9, v, d);
          logits[i * vocab + v] = s;
        }
      return { logits, n, keys, values, queries };
    },
    async dispose() {},
  };
}
