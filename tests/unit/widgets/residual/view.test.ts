import { describe, expect, it } from 'vitest';
import { kvCacheBytes, requantizationDrift } from '../../../../src/lib/quant/index';
import {
  detailCells,
  DRIFT_PREFILL,
  driftRows,
  driftSummary,
  stridedGroupPoints,
  flushLog,
  memoryCount,
  stepModel,
  stripRuns,
  summaryText,
  tokenStates,
  type TokenState,
} from '../../../../src/widgets/residual/view';

/**
 * Independent step-by-step simulation of transformers' QuantizedLayer.update (transformers `cache_utils.py` `QuantizedLayer.update`):
 * prefill quantizes everything, the residual starts as a 1-D empty tensor; a decode step flushes only when
 * the residual is 4-D (non-empty) and len + 1 >= R, re-quantizing [dequant | residual | new].
 */
function simulateTransformers(prefill: number, steps: number, R: number) {
  let quantized = prefill;
  let residual: number[] = [];
  let residualIs4d = false;
  let flushes = 0;
  let flushedLast = false;
  for (let n = 1; n <= steps; n++) {
    const newToken = prefill + n - 1;
    if (residualIs4d && residual.length + 1 >= R) {
      quantized += residual.length + 1;
      residual = [];
      residualIs4d = false; // torch.tensor([]) is 1-D
      flushes++;
      flushedLast = true;
    } else {
      residual.push(newToken);
      residualIs4d = true;
      flushedLast = false;
    }
  }
  const total = prefill + steps;
  const states: TokenState[] = [];
  for (let i = 0; i < total; i++) states.push(i < quantized ? 'quantized' : i === total - 1 && steps > 0 ? 'new' : 'residual');
  return { quantized, residual: residual.length, flushes, flushedLast, states };
}

/** Independent simulation of KIVI's streaming cache (models/llama_kivi.py). */
function simulateKivi(prefill: number, steps: number, R: number) {
  let kq = prefill % R === 0 ? prefill : prefill < R ? 0 : prefill - (prefill % R);
  let kr = prefill - kq;
  let vq = prefill <= R ? 0 : prefill - R;
  let vr = prefill - vq;
  let flushes = 0;
  for (let n = 1; n <= steps; n++) {
    kr++;
    if (kr === R) {
      kq += R;
      kr = 0;
      flushes++;
    }
    vr++;
    if (vr > R) {
      vq++;
      vr--;
    }
  }
  return { kq, kr, vq, vr, flushes };
}

describe.each([
  [512, 200, 128],
  [1096, 200, 128],
  [10, 0, 128],
  [10, 1, 128],
  [10, 2, 2],
  [5, 9, 0],
  [5, 9, 1],
  [5, 10, 2],
  [64, 300, 32],
  [1, 257, 128],
  [3, 7, 3],
])('transformers prefill %i, %i steps, R = %i', (prefill, steps, R) => {
  it('matches the step-by-step simulation token by token', () => {
    const sim = simulateTransformers(prefill, steps, R);
    const m = stepModel({ scheme: 'transformers', prefill, step: steps, residual: R });
    expect(m.strips[0].quantized).toBe(sim.quantized);
    expect(m.strips[0].residual).toBe(sim.residual);
    expect(m.flushes).toBe(sim.flushes);
    expect(m.flushedLastStep).toBe(sim.flushedLast);
    expect(m.flushSteps.length).toBe(sim.flushes);
    // A flushed new token is quantized, otherwise it is the "new" cell.
    const expected = sim.states.map((s, i) => (s === 'new' && i < sim.quantized ? 'quantized' : s));
    expect(tokenStates(m, m.strips[0])).toEqual(expected);
    const cells = detailCells(m);
    for (const c of cells) expect(c.state).toBe(expected[c.token]);
    expect(cells[cells.length - 1].token).toBe(prefill + steps - 1);
  });
});

describe.each([
  [512, 200, 128],
  [100, 50, 128],
  [130, 0, 128],
  [128, 128, 128],
  [7, 20, 4],
  [5, 9, 1],
])('KIVI prefill %i, %i steps, R = %i', (prefill, steps, R) => {
  it('matches the streaming simulation', () => {
    const sim = simulateKivi(prefill, steps, R);
    const m = stepModel({ scheme: 'kivi', prefill, step: steps, residual: R });
    expect(m.strips.map((s) => [s.strip, s.quantized, s.residual])).toEqual([
      ['keys', sim.kq, sim.kr],
      ['values', sim.vq, sim.vr],
    ]);
    expect(m.flushes).toBe(sim.flushes);
    expect(m.flushSteps.length).toBe(sim.flushes);
    for (const c of m.strips) {
      const runs = stripRuns(m, c);
      expect(runs.reduce((n, r) => n + r.end - r.start, 0)).toBe(prefill + steps);
    }
  });
});

it('the first decode step always appends (R = 0 and R = 1 behave like 2)', () => {
  for (const R of [0, 1, 2]) {
    const m = stepModel({ scheme: 'transformers', prefill: 4, step: 1, residual: R });
    expect(m.strips[0].residual).toBe(1);
    expect(m.flushes).toBe(0);
    expect(stepModel({ scheme: 'transformers', prefill: 4, step: 2, residual: R }).flushes).toBe(1);
  }
});

it('the flush log names the step and the residual size', () => {
  const m = stepModel({ scheme: 'transformers', prefill: 512, step: 200, residual: 128 });
  expect(flushLog(m)).toEqual([
    'step 128: the residual (127 tokens) and the new token were re-quantized with the whole cache (640 tokens).',
  ]);
});

it('memory equals kvCacheBytes for the architecture; KIVI is half of keys + half of values', () => {
  const m = stepModel({ scheme: 'transformers', prefill: 512, step: 200, residual: 128 });
  const mem = memoryCount(m, { model: 'kvlab-16m', bits: 4, group: 64 });
  // Independent count: 8 layers × 2 (K,V) × 2 heads × 64 dims; 640 quantized tokens at 0.5 B + 4 B per 64, 72 fp16 tokens.
  const perTok = 8 * 2 * 2 * 64;
  expect(mem.bytes).toBe(perTok * 640 * 0.5 + ((perTok * 640) / 64) * 4 + perTok * 72 * 2);
  expect(mem.fp16Bytes).toBe(perTok * 712 * 2);
  const k = stepModel({ scheme: 'kivi', prefill: 512, step: 200, residual: 128 });
  const km = memoryCount(k, { model: 'llama-3-8b', bits: 2, group: 32 });
  const arch = { layers: 32, kvHeads: 8, headDim: 128, tokens: 712, bits: 2 as const, groupSize: 32 };
  const expected =
    kvCacheBytes({ ...arch, residualTokens: k.strips[0].residual, axis: 'channel' }).total / 2 +
    kvCacheBytes({ ...arch, residualTokens: k.strips[1].residual }).total / 2;
  expect(km.bytes).toBe(expected);
  expect(summaryText(m, mem)).toMatch(/^After 200 decode steps with R = 128: 640 tokens quantized, 72 in full precision, 1 flush; memory /);
});

describe('drift panel rows', () => {
  // A [2, 320, 64] tensor of deterministic values with an outlier channel, standing in for real keys.
  const heads = 2,
    tokens = 320,
    headDim = 64;
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * (i % headDim === 5 ? 6 : 1);
  const keys = { data, heads, tokens, headDim };
  it('one row per flush that fits, each scheme from requantizationDrift with the widget’s bits, group and R', () => {
    const rows = driftRows(keys, { bits: 2, group: 64, residual: 64 });
    expect(rows.map((r) => r.flush)).toEqual([0, 1, 2, 3, 4]); // (320 − 64) / 64 = 4 flushes
    expect(rows.map((r) => r.tokens)).toEqual([64, 128, 192, 256, 320]);
    const o = { prefill: DRIFT_PREFILL, period: 64, flushes: 4 };
    const hqq = requantizationDrift(keys, { bits: 2, groupSize: 64, axis: 'strided', method: 'hqq', metaDtype: 'fp32' }, o);
    expect(rows.map((r) => r.hqq)).toEqual(hqq.map((p) => p.transformers));
    expect(driftSummary(rows)).toMatch(/after 4 flushes: quanto per token [\d.]+ % → [\d.]+ %; HQQ strided/);
  });
  it('R longer than the example leaves one row and says so', () => {
    const rows = driftRows(keys, { bits: 4, group: 64, residual: 1024 });
    expect(rows).toHaveLength(1);
    expect(driftSummary(rows)).toMatch(/too long/);
  });
});

describe('HQQ axis-0 group picture', () => {
  it('group 0 is every (N/G)-th element of the flattened [heads, tokens, headDim] cache, before and after a flush', () => {
    const pts = stridedGroupPoints(2, 64, 64, 128, 64);
    const before = pts.filter((p) => p.when.startsWith('prompt'));
    const after = pts.filter((p) => p.when.startsWith('after'));
    expect(before).toHaveLength(64);
    // N = 2·64·64 = 8192, stride 128: element 128·i → head ⌊128i/4096⌋, token ⌊128i/64⌋ mod 64, channel 0.
    expect(before.slice(0, 3).map((p) => [p.head, p.token, p.channel])).toEqual([
      [0, 0, 0],
      [0, 2, 0],
      [0, 4, 0],
    ]);
    expect(before[32]).toMatchObject({ head: 1, token: 0, channel: 0 });
    // N = 2·128·64 = 16384, stride 256: every 4th token of each head.
    expect(after.slice(0, 3).map((p) => p.token)).toEqual([0, 4, 8]);
    expect(new Set(after.map((p) => p.channel))).toEqual(new Set([0]));
  });
});
