/**
 * Messages between <kv-quantizer> (through `sweep-client.ts`) and its worker (`sweep.worker.ts`): a
 * discriminated union on `type`, like the model worker's protocol. Requests carry the prompt's id
 * (`id`) and, for whole-cache runs, a sequence number (`seq`) that every answer repeats, so a stale
 * answer is recognised and dropped.
 */
import type { KVTensor, QuantConfig } from '../../lib/quant/index';
import type { KvQuant, Metrics, TensorKind } from './model';

export interface PrefetchItem {
  key: string;
  layer: number;
  kind: TensorKind;
  cfg: QuantConfig;
}

export type SweepRequest =
  | { type: 'tensors'; id: string; keys: KVTensor[]; values: KVTensor[] }
  | { type: 'run'; seq: number; id: string; kcfg: KvQuant | null; vcfg: KvQuant | null }
  | { type: 'prefetch'; id: string; items: PrefetchItem[] };

export type SweepResponse =
  | { type: 'progress'; seq: number; done: number; total: number }
  | { type: 'result'; seq: number; metrics: Metrics & { errors: string[] } }
  | { type: 'error'; seq: number; message: string }
  | { type: 'quantized'; id: string; key: string; dequantized: Float32Array; used: KvQuant; error?: string };

/** Whether a message received by the worker is a request it knows (anything else is answered with an error). */
export function isSweepRequest(m: unknown): m is SweepRequest {
  if (!m || typeof m !== 'object') return false;
  const t = (m as { type?: unknown }).type;
  return t === 'tensors' || t === 'run' || t === 'prefetch';
}
