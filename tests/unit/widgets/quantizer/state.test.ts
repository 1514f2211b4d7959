import { describe, expect, it } from 'vitest';
import { PRESETS, presetOf, quantizerCodec } from '../../../../src/widgets/quantizer/state';

describe('quantizerCodec', () => {
  it('declares its parameters and Transformers-default values', () => {
    expect(quantizerCodec.names).toEqual([
      'model',
      'prompt',
      'layer',
      'head',
      'tensor',
      'engine',
      'dtype',
      'fp8scale',
      'kfmt',
      'vfmt',
      'hadamard',
      'bits',
      'group',
      'kaxis',
      'vaxis',
      'method',
      'residual',
      'controls',
      'theme',
    ]);
    expect(quantizerCodec.defaults).toMatchObject({
      bits: 4,
      group: 64,
      kaxis: 'token',
      vaxis: 'token',
      method: 'minmax',
      residual: 128,
      tensor: 'k',
    });
    // engine parameters: Transformers by default; vLLM's default dtype alias `fp8` is e4m3; llama.cpp rotates quantized caches by default
    expect(quantizerCodec.defaults).toMatchObject({
      engine: 'transformers',
      dtype: 'fp8_e4m3',
      fp8scale: 'unit',
      kfmt: 'q8_0',
      vfmt: 'q8_0',
      hadamard: 'on',
    });
    for (const n of ['engine', 'dtype', 'fp8scale', 'kfmt', 'vfmt', 'hadamard']) expect(quantizerCodec.controlNames).toContain(n);
    expect(quantizerCodec.controlNames).toContain('preset');
  });

  describe.each([
    ['defaults', {}],
    ['KIVI-2', { bits: 2, group: 32, kaxis: 'channel' as const }],
    ['fp16', { bits: 16 }],
    ['hqq 3-bit values shown', { bits: 3, method: 'hqq' as const, tensor: 'v' as const }],
    ['absmax 8-bit, residual 0', { bits: 8, method: 'absmax' as const, residual: 0 }],
    ['layer/head/prompt', { layer: 2, head: 1, prompt: 'I like rock music because' }],
    ['controls', { controls: ['bits', 'preset'] }],
    ['vLLM FP8 E5M2, dynamic scales', { engine: 'vllm' as const, dtype: 'fp8_e5m2' as const, fp8scale: 'dynamic' as const }],
    ['vLLM NVFP4', { engine: 'vllm' as const, dtype: 'nvfp4' as const }],
    [
      'llama.cpp -ctk q4_0 -ctv f16, no rotation',
      { engine: 'llamacpp' as const, kfmt: 'q4_0' as const, vfmt: 'f16' as const, hadamard: 'off' as const },
    ],
    ['llama.cpp iq4_nl / q5_1', { engine: 'llamacpp' as const, kfmt: 'iq4_nl' as const, vfmt: 'q5_1' as const }],
  ])('round trip: %s', (_n, patch) => {
    it.each(['', 'q.'])('prefix %j', (prefix) => {
      const state = { ...quantizerCodec.defaults, ...patch };
      const back = quantizerCodec.parse(quantizerCodec.serialize(state, prefix), prefix);
      expect(back.notes).toEqual([]);
      expect(back.state).toEqual(state);
    });
  });

  describe.each([
    ['bits=5', 'bits', 4],
    ['bits=0', 'bits', 4],
    ['bits=', 'bits', 4],
    ['group=48', 'group', 64],
    ['kaxis=row', 'kaxis', 'token'],
    ['vaxis=1', 'vaxis', 'token'],
    ['method=gptq', 'method', 'minmax'],
    ['tensor=q', 'tensor', 'k'],
    ['residual=2000', 'residual', 128],
    ['residual=-1', 'residual', 128],
    ['engine=tgi', 'engine', 'transformers'],
    ['engine=', 'engine', 'transformers'],
    ['dtype=fp4_e2m1', 'dtype', 'fp8_e4m3'],
    ['fp8scale=channel', 'fp8scale', 'unit'],
    ['kfmt=q3_k', 'kfmt', 'q8_0'],
    ['vfmt=bf16', 'vfmt', 'q8_0'],
    ['hadamard=1', 'hadamard', 'on'],
  ])('invalid %s', (q, key, fallback) => {
    it('falls back with one note', () => {
      const r = quantizerCodec.parse(new URLSearchParams(q));
      expect((r.state as Record<string, unknown>)[key]).toEqual(fallback);
      expect(r.notes).toHaveLength(1);
    });
  });

  it('attribute-style sources parse the same way', () => {
    const attrs: Record<string, string> = { bits: '2', group: '32', engine: 'LlamaCpp', kfmt: 'Q4_0' };
    const r = quantizerCodec.parse({ get: (n) => attrs[n] ?? null });
    expect(r.state).toMatchObject({ bits: 2, group: 32, engine: 'llamacpp', kfmt: 'q4_0' });
  });
});

describe.each(PRESETS.map((p) => [p.id, p.settings] as const))('preset %s', (id, settings) => {
  it('is recognised from its settings', () => expect(presetOf(settings)).toBe(id));
});

describe('presetOf', () => {
  it.each([
    [{ bits: 4, group: 64, kaxis: 'token', vaxis: 'token', method: 'minmax', residual: 64 }, 'custom'],
    [{ bits: 16, group: 32, kaxis: 'channel', vaxis: 'token', method: 'hqq', residual: 0 }, 'fp16'],
    [{ bits: 2, group: 32, kaxis: 'channel', vaxis: 'token', method: 'minmax', residual: 128 }, 'kivi2'],
  ] as const)('%o → %s', (s, id) => expect(presetOf(s)).toBe(id));
});
