/**
 * Where the simulated cache stops because Transformers' backend would raise. Expected conditions
 * are worked out by hand from the upstream code cited in src/lib/quant/transformers.ts
 * (optimum-quanto `group`, hqq `pack_*bit_u8` / `Quantizer.dequantize`, the layers' constructors).
 */
import { describe, expect, it } from 'vitest';
import { QuantizedCacheSim } from '../../../../src/workers/engine/quantized-cache';
import {
  checkDequantize,
  checkLayerConfig,
  checkQuantize,
  transformersAxis,
  TransformersUnsupported,
} from '../../../../src/workers/engine/transformers-check';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { score } from '../../../../src/workers/engine/score';
import { toErrorMessage } from '../../../../src/workers/engine/errors';
import type { QuantConfig } from '../../../../src/lib/model/kv';
import { createToyRunner } from './toy-runner';

type Layout = 'token' | 'channel' | 'strided' | 'flat-channel';
const c = (bits: number, groupSize: number, axis: Layout, method: 'minmax' | 'hqq'): QuantConfig =>
  ({ bits, groupSize, axis, method }) as unknown as QuantConfig;
const shape = (tokens: number, heads = 2, headDim = 64) => ({ heads, tokens, headDim });
const raises = (f: () => void): TransformersUnsupported | null => {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof TransformersUnsupported) return e;
    throw e;
  }
};

describe('Transformers axis names', () => {
  it.each([
    ['quanto', 'token', 0],
    ['quanto', 'flat-channel', -1],
    ['quanto', 'strided', null],
    ['hqq', 'strided', 0],
    ['hqq', 'token', 1],
    ['hqq', 'channel', null],
  ] as const)('%s %s → axis %s', (backend, axis, expected) => expect(transformersAxis(backend, axis)).toBe(expected));
});

describe('layer constructor checks', () => {
  it('quanto takes nbits 2 and 4 only, hqq 1, 2, 3, 4, 8; KIVI blocks are no backend axis', () => {
    expect(raises(() => checkLayerConfig('quanto', c(4, 64, 'token', 'minmax'), c(4, 64, 'token', 'minmax')))).toBeNull();
    expect(raises(() => checkLayerConfig('quanto', c(8, 64, 'token', 'minmax'), c(8, 64, 'token', 'minmax')))!.raises).toMatch(
      /nbits.*quanto.*but got 8/,
    );
    expect(raises(() => checkLayerConfig('quanto', c(3, 64, 'token', 'minmax'), c(3, 64, 'token', 'minmax')))).not.toBeNull();
    for (const b of [1, 2, 3, 4, 8])
      expect(raises(() => checkLayerConfig('hqq', c(b, 64, 'strided', 'hqq'), c(b, 64, 'strided', 'hqq')))).toBeNull();
    expect(raises(() => checkLayerConfig('quanto', c(2, 32, 'channel', 'minmax'), c(2, 32, 'token', 'minmax')))!.message).toMatch(
      /no channel grouping for keys/,
    );
    expect(raises(() => checkLayerConfig('hqq', c(2, 64, 'token', 'minmax'), c(2, 64, 'token', 'minmax')))).not.toBeNull();
  });
});

describe('quantize-time checks on [1, heads, tokens, headDim]', () => {
  it('quanto axis 0 needs G | heads·tokens·headDim; axis -1 needs G | heads·tokens (and G ≤ it)', () => {
    expect(raises(() => checkQuantize('quanto', shape(1), c(2, 64, 'token', 'minmax')))).toBeNull(); // 128 % 64
    expect(raises(() => checkQuantize('quanto', shape(1), c(2, 256, 'token', 'minmax')))!.raises).toBe(
      'ValueError: Group size (256) must be a divisor of (128)',
    );
    expect(raises(() => checkQuantize('quanto', shape(1), c(2, 32, 'flat-channel', 'minmax')))!.raises).toBe(
      'ValueError: Group size (32) must be a divisor of (2)',
    );
    expect(raises(() => checkQuantize('quanto', shape(16), c(2, 32, 'flat-channel', 'minmax')))).toBeNull(); // 2·16 = 32
    expect(raises(() => checkQuantize('quanto', shape(129), c(4, 32, 'flat-channel', 'minmax')))!.raises).toBe(
      'ValueError: Group size (32) must be a divisor of (258)',
    );
  });
  it('hqq packing: rows of the grouped matrix must split into 8/b slices', () => {
    // axis 1: rows = 2·T·64/64 = 2T → 2 bits need T even, 1 bit T ≡ 0 mod 4, 4 bits always.
    expect(raises(() => checkQuantize('hqq', shape(1), c(2, 64, 'token', 'hqq')))!.atTokens).toBe(1);
    expect(raises(() => checkQuantize('hqq', shape(2), c(2, 64, 'token', 'hqq')))).toBeNull();
    expect(raises(() => checkQuantize('hqq', shape(129), c(2, 64, 'token', 'hqq')))!.atTokens).toBe(129);
    expect(raises(() => checkQuantize('hqq', shape(1), c(4, 64, 'token', 'hqq')))).toBeNull();
    // 1 bit, 2 tokens: pack_1bit_u8 silently keeps 0 of the 4 rows, so the failure comes at the next dequantize.
    expect(raises(() => checkQuantize('hqq', shape(2), c(1, 64, 'token', 'hqq')))).toBeNull();
    expect(raises(() => checkDequantize('hqq', shape(2), c(1, 64, 'token', 'hqq')))!.atTokens).toBe(2);
    expect(raises(() => checkQuantize('hqq', shape(4), c(1, 64, 'token', 'hqq')))).toBeNull();
    // axis 0: rows = G = 64, a multiple of 8: every token count packs.
    for (const T of [1, 3, 129])
      for (const b of [1, 2, 4]) expect(raises(() => checkQuantize('hqq', shape(T), c(b, 64, 'strided', 'hqq')))).toBeNull();
    // hqq asserts numel % G == 0.
    expect(raises(() => checkQuantize('hqq', shape(1), c(4, 256, 'strided', 'hqq')))!.raises).toMatch(/^AssertionError/);
  });
  it('hqq 3 bits fail at the first dequantization only at axis 1', () => {
    expect(raises(() => checkDequantize('hqq', shape(1), c(3, 64, 'token', 'hqq')))).not.toBeNull();
    expect(raises(() => checkDequantize('hqq', shape(1), c(3, 64, 'strided', 'hqq')))).toBeNull();
    expect(raises(() => checkDequantize('hqq', shape(1), c(2, 64, 'token', 'hqq')))).toBeNull();
  });
});

describe('the simulation stops where Transformers does', () => {
  it('at the flush whose cache length breaks quanto axis -1 grouping', () => {
    // heads 2, G 4: B·H·T % 4 → T even. Prefill 2 (ok); R 3 flushes at decode step 3 → 5 tokens → 10 % 4 ≠ 0.
    const cfg = c(2, 4, 'flat-channel', 'minmax');
    const sim = new QuantizedCacheSim(1, { key: cfg, value: cfg, residualLength: 3, quantize: (t) => t.data.slice(), backend: 'quanto' });
    const kv = (T: number) => ({ data: new Float32Array(2 * T * 8), heads: 2, tokens: T, headDim: 8 });
    sim.prefill([kv(2)], [kv(2)]);
    sim.update([kv(1)], [kv(1)]);
    sim.update([kv(1)], [kv(1)]);
    const e = raises(() => sim.update([kv(1)], [kv(1)]));
    expect(e?.atTokens).toBe(5);
    expect(e?.raises).toBe('ValueError: Group size (4) must be a divisor of (10)');
  });
  it('score reports a failure row (no number) and keeps scoring the other configurations', async () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const good = c(4, 8, 'token', 'hqq');
    const bad = c(2, 8, 'token', 'hqq'); // toy: heads 2, headDim 8, G 8 → rows 2T: 1-token prefill fails
    const r = await score(
      createToyRunner(),
      {
        text,
        configs: [
          { kind: 'exact' },
          { kind: 'quantized', key: bad, value: bad, residualLength: 4, backend: 'hqq' },
          { kind: 'quantized', key: good, value: good, residualLength: 4, backend: 'hqq' },
        ],
      },
      { quantize },
    );
    expect(r.results[1].failure).toMatchObject({ backend: 'hqq', atTokens: 1 });
    expect(Number.isNaN(r.results[1].perplexity)).toBe(true);
    expect(r.results[2].failure).toBeNull();
    expect(r.results[2].perplexity).toBeGreaterThan(1);
  });
  it('a failing generate request answers a reader-facing error', () => {
    const msg = toErrorMessage('g', new TransformersUnsupported('quanto', 'why', 'ValueError: x', 1));
    expect(msg).toMatchObject({ type: 'error', code: 'transformers-unsupported', detail: 'ValueError: x' });
    expect(msg.message).toContain('why');
  });
});
