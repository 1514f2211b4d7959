/**
 * Messages between <kv-tradeoff> and its sweep workers (`sweep.worker.ts`): a discriminated union on
 * `type`, every message carrying the sweep's `id` so answers of a superseded sweep are dropped.
 */
import type { FormatPoint, SweepInput, SweepPoint } from './sweep';

export type SweepRequest = { type: 'sweep'; id: number; input: SweepInput; attention: boolean; part: number; parts: number };
export type SweepResponse =
  | { type: 'points'; id: number; points: SweepPoint[]; done: number; total: number; phase: 'fast' | 'hqq' }
  | { type: 'fastDone'; id: number }
  /** The serving-engine formats (worker part 0 only, after its fast configurations). */
  | { type: 'formats'; id: number; points: FormatPoint[] }
  | { type: 'done'; id: number; fastMs: number; hqqMs: number; total: number }
  | { type: 'error'; id: number; message: string };

/** Whether a message received by a worker is a sweep request (anything else is answered with an error). */
export function isSweepRequest(m: unknown): m is SweepRequest {
  if (!m || typeof m !== 'object') return false;
  const r = m as Partial<SweepRequest>;
  return r.type === 'sweep' && typeof r.id === 'number' && typeof r.part === 'number' && typeof r.parts === 'number' && !!r.input;
}
