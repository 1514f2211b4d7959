import { describe, expect, it } from 'vitest';
import { residualSplit } from '../../../../src/lib/quant/index';
import type { KVTensor, QuantConfig } from '../../../../src/lib/model/kv';
import { QuantizedLayerSim, flushesAt, residualSchedule } from '../../../../src/workers/engine/quantized-cache';

const cfg: QuantConfig = { bits: 4, groupSize: 4, axis: 'token', method: 'minmax' };
/** Marks quantized data (adds 1000) so tests can tell which tokens went through the quantizer. */
const mark = (t: KVTensor) => t.data.map((x) => (x >= 1000 ? x : x + 1000));
const tok = (v: number, heads = 2, headDim = 4): KVTensor => ({
  data: new Float32Array(heads * headDim).fill(v),
  heads,
  tokens: 1,
  headDim,
});
const seq = (n: number, heads = 2, headDim = 4): KVTensor => ({
  data: Float32Array.from({ length: heads * n * headDim }, (_, i) => Math.floor((i % (n * headDim)) / headDim)),
  heads,
  tokens: n,
  headDim,
});

describe('flush schedule follows QuantizedLayer.update', () => {
  it('never flushes with an empty residual; flushes when residual + 1 ≥ R', () => {
    expect(flushesAt(0, 0)).toBe(false);
    expect(flushesAt(1, 0)).toBe(true);
    expect(flushesAt(3, 5)).toBe(false);
    expect(flushesAt(4, 5)).toBe(true);
  });
  it.each([0, 1, 2, 3, 5, 8, 128])('matches residualSplit for R = %i over 300 steps', (R) => {
    for (const decoded of [0, 1, 2, 7, 127, 128, 129, 300]) {
      const ours = residualSchedule(decoded, R);
      const theirs = residualSplit({ prefill: 10, decoded, residualLength: R });
      expect(ours.flushSteps.length).toBe(theirs.flushes);
      expect(ours.residual).toBe(theirs.residual);
    }
  });
  it('the layer sim agrees step by step with residualSplit', () => {
    for (const R of [0, 1, 2, 4, 7]) {
      const sim = new QuantizedLayerSim({ key: cfg, value: cfg, residualLength: R, quantize: mark });
      sim.prefill(seq(5), seq(5));
      for (let step = 1; step <= 40; step++) {
        sim.update(tok(step), tok(step));
        const s = residualSplit({ prefill: 5, decoded: step, residualLength: R });
        expect(sim.flushes).toBe(s.flushes);
        expect(sim.residualTokens).toBe(s.residual);
        expect(sim.quantizedKeys!.tokens).toBe(s.quantized);
        expect(sim.tokensUntilFlush()).toBe(s.stepsUntilFlush);
      }
    }
  });
});

describe('QuantizedLayerSim', () => {
  it('quantizes the whole prefill and keeps the residual exact until a flush', () => {
    const sim = new QuantizedLayerSim({ key: cfg, value: cfg, residualLength: 3, quantize: mark });
    sim.prefill(seq(2), seq(2));
    expect([...sim.past().keys.data].every((x) => x >= 1000)).toBe(true);
    sim.update(tok(7), tok(7));
    sim.update(tok(8), tok(8));
    const past = sim.past().keys;
    expect(past.tokens).toBe(4);
    // head 0: 2 quantized tokens then the exact residual 7, 8
    expect([...past.data.subarray(8, 16)]).toEqual([7, 7, 7, 7, 8, 8, 8, 8]);
    sim.update(tok(9), tok(9)); // residual 2 + 1 ≥ 3 → flush everything
    expect(sim.flushes).toBe(1);
    expect(sim.residualTokens).toBe(0);
    expect(sim.past().keys.tokens).toBe(5);
    expect([...sim.past().keys.data].every((x) => x >= 1000)).toBe(true);
  });
  it('accepts a chunk ending at the flush and rejects one crossing it', () => {
    const sim = new QuantizedLayerSim({ key: cfg, value: cfg, residualLength: 4, quantize: mark });
    sim.prefill(seq(3), seq(3));
    expect(sim.tokensUntilFlush()).toBe(4);
    sim.update(seq(4), seq(4));
    expect(sim.flushes).toBe(1);
    expect(() => sim.update(seq(5), seq(5))).toThrow(RangeError);
  });
  it('rejects a negative residual length', () => {
    expect(() => new QuantizedLayerSim({ key: cfg, value: cfg, residualLength: -1, quantize: mark })).toThrow(RangeError);
  });
});
