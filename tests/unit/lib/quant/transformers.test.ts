import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  axisFor,
  decodeStepsFor,
  flushSteps,
  inferredLayerTypes,
  layoutFor,
  settingsForLayouts,
  quantizeEvents,
  transformersVerdict,
  type TransformersCacheConfig,
  type TransformersModelGeometry,
} from '../../../../src/lib/quant/index';

/** SmolLM2-135M: 3 KV heads of 64 dims (its config.json); batch 1. */
const SMOL: TransformersModelGeometry = { batch: 1, kvHeads: 3, headDim: 64 };
const LLAMA2: TransformersModelGeometry = { batch: 1, kvHeads: 32, headDim: 128 };
const cfg = (patch: Partial<TransformersCacheConfig>): TransformersCacheConfig => ({
  backend: 'quanto',
  nbits: 4,
  axisKey: 0,
  axisValue: 0,
  qGroupSize: 64,
  residualLength: 128,
  ...patch,
});
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('fixture: real hqq 0.2.8.post1 Quantizer and optimum-quanto group() driven by the QuantizedLayer.update rule', () => {
  // Written by scripts/reference/transformers_cache_reference.py (real libraries, torch CPU).
  const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/transformers-cache/cases.json', import.meta.url), 'utf8')) as {
    cases: {
      input: TransformersCacheConfig & TransformersModelGeometry & { promptTokens: number; decodeSteps: number };
      failure: null | { stage: string; step: number; tokens: number; tensor: string; error: string };
    }[];
  };
  it('has cases that fail at the prefill, at a decode step and at a flush, and cases that run', () => {
    const stages = new Set(fixture.cases.map((c) => c.failure?.stage ?? 'runs'));
    expect([...stages].sort()).toEqual(['decode', 'flush', 'prefill', 'runs']);
  });
  it.each(fixture.cases.map((c, i) => [i, c] as const))('case %i: same step, tensor and exception text', (_i, { input, failure }) => {
    const { promptTokens, decodeSteps, batch, kvHeads, headDim, ...config } = input;
    const v = transformersVerdict(config, { batch, kvHeads, headDim }, { promptTokens, decodeSteps });
    if (failure === null) {
      expect(v.failure).toBeNull();
      expect(v.runs).toBe(true);
    } else {
      expect(v.runs).toBe(false);
      expect(v.failure).toMatchObject({
        stage: failure.stage,
        step: failure.step,
        tokens: failure.tokens,
        tensor: failure.tensor,
        error: failure.error,
      });
    }
  });
});

describe('HQQ per-token (axis 1) packing on SmolLM2-135M shapes, G=64', () => {
  // Rows of the code tensor = B·H·T·D/G = 3T; pack_{4,2,1}bit_u8 need rows divisible by 8/b (brute force over T).
  const fails = (bits: number, T: number) =>
    !transformersVerdict(cfg({ backend: 'hqq', nbits: bits, axisKey: 1, axisValue: 1 }), SMOL, { promptTokens: T, decodeSteps: 1 }).runs;
  it('2 bits fails at T=5, 6, 9 and runs at T=4, 8; 4 bits fails at T=5, 9 and runs at T=4, 6, 8', () => {
    expect([4, 5, 6, 8, 9].filter((T) => fails(2, T))).toEqual([5, 6, 9]);
    expect([4, 5, 6, 8, 9].filter((T) => fails(4, T))).toEqual([5, 9]);
  });
  it.each([1, 2, 4])('%i bits: fails exactly when 3T is not a multiple of 8/b, T = 1…200', (bits) => {
    for (const T of range(1, 200)) expect(fails(bits, T), `T=${T}`).toBe(((1 * 3 * T * 64) / 64) % (8 / bits) !== 0);
  });
  it('8 bits never fails on packing', () => {
    expect(range(1, 200).some((T) => fails(8, T))).toBe(false);
  });
  it('4 bits at T=5 raises at the prefill with the slice sizes floor(15/2)=7 and 15−7=8', () => {
    const v = transformersVerdict(cfg({ backend: 'hqq', nbits: 4, axisKey: 1, axisValue: 1 }), SMOL, { promptTokens: 5, decodeSteps: 10 });
    expect(v.failure).toMatchObject({ stage: 'prefill', step: 0, tokens: 5, tensor: 'keys' });
    expect(v.failure!.error).toBe(
      'RuntimeError: The size of tensor a (7) must match the size of tensor b (8) at non-singleton dimension 0',
    );
    expect(v.failure!.source).toMatchObject({ repo: 'mobiusml/hqq', file: 'hqq/core/bitpack.py', func: 'BitPack.pack_4bit_u8' });
  });
  it('1 bit drops the remainder rows silently at the prefill and fails at the first decode step', () => {
    const v = transformersVerdict(cfg({ backend: 'hqq', nbits: 1, axisKey: 1, axisValue: 1 }), SMOL, { promptTokens: 5, decodeSteps: 3 });
    // 15 rows → 8 slices of 1 row → 8 rows unpacked against 15 zero points.
    expect(v.failure).toMatchObject({
      stage: 'decode',
      step: 1,
      tokens: 5,
      error: 'RuntimeError: The size of tensor a (8) must match the size of tensor b (15) at non-singleton dimension 0',
    });
  });
  it('Llama-2-7B shapes (32 heads × 128) always pack: rows = 64T', () => {
    for (const bits of [1, 2, 4])
      for (const T of range(1, 50))
        expect(
          transformersVerdict(cfg({ backend: 'hqq', nbits: bits, axisKey: 1, axisValue: 1 }), LLAMA2, { promptTokens: T, decodeSteps: 300 })
            .runs,
        ).toBe(true);
  });
});

describe('HQQ 3 bits', () => {
  it('axis 1 crashes at the first decode step on a 4-D cache (2-D row trim keeps B·H//G = 0 rows)', () => {
    const v = transformersVerdict(cfg({ backend: 'hqq', nbits: 3, axisKey: 1, axisValue: 1 }), LLAMA2, {
      promptTokens: 100,
      decodeSteps: 5,
    });
    const groups = (32 * 100 * 128) / 64;
    expect(v.failure).toMatchObject({ stage: 'decode', step: 1, tokens: 100, tensor: 'keys' });
    expect(v.failure!.error).toBe(
      `RuntimeError: The size of tensor a (0) must match the size of tensor b (${groups}) at non-singleton dimension 0`,
    );
    expect(v.failure!.source.func).toBe('Quantizer.dequantize');
  });
  it('axis 1 with no decode step runs (the prefill only quantizes)', () => {
    expect(
      transformersVerdict(cfg({ backend: 'hqq', nbits: 3, axisKey: 1, axisValue: 1 }), LLAMA2, { promptTokens: 100, decodeSteps: 0 }).runs,
    ).toBe(true);
  });
  it('axis 0 (strided) runs through many flushes', () => {
    const v = transformersVerdict(cfg({ backend: 'hqq', nbits: 3, axisKey: 0, axisValue: 0, residualLength: 4 }), SMOL, {
      promptTokens: 7,
      decodeSteps: 100,
    });
    expect(v.runs).toBe(true);
    expect(v.keyLayout).toBe('strided');
  });
  it('axis 1 with B·H = G keeps one row, which broadcasts: runs, with a warning that values are wrong', () => {
    const v = transformersVerdict(
      cfg({ backend: 'hqq', nbits: 3, axisKey: 1, axisValue: 1, qGroupSize: 64, residualLength: 2 }),
      { batch: 4, kvHeads: 16, headDim: 16 },
      { promptTokens: 3, decodeSteps: 4 },
    );
    expect(v.runs).toBe(true);
    expect(v.notes[0].level).toBe('warning');
    expect(v.notes[0].text).toMatch(/wrong/);
  });
});

describe('group divisibility', () => {
  it('quanto axis −1: the prefill fails exactly when B·H·P is not a multiple of G (P = 1…150)', () => {
    for (const P of range(1, 150)) {
      const v = transformersVerdict(cfg({ axisKey: -1, axisValue: 0, qGroupSize: 16 }), SMOL, { promptTokens: P, decodeSteps: 0 });
      expect(v.runs, `P=${P}`).toBe((3 * P) % 16 === 0);
      if (!v.runs) expect(v.failure!.error).toBe(`ValueError: Group size (16) must be a divisor of (${3 * P})`);
    }
  });
  it('quanto axis −1: a prompt that fits still fails at the first flush whose length does not', () => {
    // P = 16 fits (48 = 3·16); R = 4 flushes at step 4 with 20 tokens: 60 rows.
    const v = transformersVerdict(cfg({ axisKey: -1, axisValue: 0, qGroupSize: 16, residualLength: 4 }), SMOL, {
      promptTokens: 16,
      decodeSteps: 9,
    });
    expect(v.failure).toMatchObject({
      stage: 'flush',
      step: 4,
      tokens: 20,
      tensor: 'keys',
      error: 'ValueError: Group size (16) must be a divisor of (60)',
    });
    expect(v.failure!.source).toMatchObject({
      repo: 'huggingface/optimum-quanto',
      file: 'optimum/quanto/tensor/grouped.py',
      func: 'group',
    });
  });
  it('quanto axis 0 needs H·T·D % G == 0 (G=128 on 3×64: odd T fails)', () => {
    for (const P of range(1, 40))
      expect(transformersVerdict(cfg({ qGroupSize: 128 }), SMOL, { promptTokens: P, decodeSteps: 0 }).runs).toBe((3 * P * 64) % 128 === 0);
  });
  it('HQQ needs numel % G == 0, for either axis', () => {
    for (const axis of [0, 1]) {
      const v = transformersVerdict(cfg({ backend: 'hqq', nbits: 8, axisKey: axis, axisValue: axis, qGroupSize: 128 }), SMOL, {
        promptTokens: 3,
        decodeSteps: 0,
      });
      expect(v.failure!.error).toBe(
        'AssertionError: group_size should be divisble by the total tensor dimensions. shape: torch.Size([1, 3, 3, 64]), group_size: 128',
      );
    }
  });
  it('values fail when only axis_value is the problem', () => {
    const v = transformersVerdict(cfg({ axisKey: 0, axisValue: -1, qGroupSize: 64 }), SMOL, { promptTokens: 10, decodeSteps: 0 });
    expect(v.failure).toMatchObject({ stage: 'prefill', tensor: 'values', error: 'ValueError: Group size (64) must be a divisor of (30)' });
  });
});

describe('constructor checks (QuantizedCache / QuantoQuantizedLayer / HQQQuantizedLayer __init__)', () => {
  it.each([
    ['quanto', 1, false],
    ['quanto', 2, true],
    ['quanto', 3, false],
    ['quanto', 4, true],
    ['quanto', 8, false],
    ['hqq', 1, true],
    ['hqq', 2, true],
    ['hqq', 3, true],
    ['hqq', 4, true],
    ['hqq', 5, false],
    ['hqq', 8, true],
  ] as const)('%s nbits=%i accepted: %s', (backend, nbits, ok) => {
    const axis = backend === 'quanto' ? 0 : 1;
    const v = transformersVerdict(cfg({ backend, nbits, axisKey: axis, axisValue: axis }), LLAMA2, { promptTokens: 64, decodeSteps: 0 });
    expect(v.runs).toBe(ok);
    if (!ok) {
      const list = backend === 'quanto' ? '[`2`, `4`]' : '[`1`, `2`, `3`, `4`, `8`]';
      expect(v.failure!.error).toBe(
        `ValueError: \`nbits\` for \`${backend === 'quanto' ? 'quanto' : 'HQQ'}\` backend has to be one of ${list} but got ${nbits}`,
      );
      expect(v.failure!.stage).toBe('construct');
    }
  });
  it('axes: quanto takes 0 and −1, HQQ 0 and 1', () => {
    const ok = (backend: string, a: number) =>
      transformersVerdict(cfg({ backend, nbits: 4, axisKey: a, axisValue: a }), LLAMA2, { promptTokens: 64, decodeSteps: 0 }).errors.filter(
        (e) => e.stage === 'construct',
      ).length === 0;
    expect([-1, 0, 1].filter((a) => ok('quanto', a))).toEqual([-1, 0]);
    expect([-1, 0, 1].filter((a) => ok('hqq', a))).toEqual([0, 1]);
    const v = transformersVerdict(cfg({ backend: 'quanto', axisKey: 1, axisValue: 1 }), LLAMA2, { promptTokens: 64, decodeSteps: 0 });
    expect(v.errors.map((e) => e.error)).toEqual([
      'ValueError: `axis_key` for `quanto` backend has to be one of [`0`, `-1`] but got 1',
      'ValueError: `axis_value` for `quanto` backend has to be one of [`0`, `-1`] but got 1',
    ]);
  });
  it('"HQQ" in capitals is an unknown backend', () => {
    const v = transformersVerdict(cfg({ backend: 'HQQ', axisKey: 1, axisValue: 1 }), LLAMA2, { promptTokens: 8, decodeSteps: 0 });
    expect(v.failure!.error).toBe('ValueError: Unknown quantization backend `HQQ`');
    expect(v.failure!.cause).toMatch(/lowercase/);
    expect(v.keyLayout).toBeNull();
  });
  it('the backend check comes first, then layer types, then nbits', () => {
    const v = transformersVerdict(
      cfg({ backend: 'quanto', nbits: 3 }),
      { ...LLAMA2, slidingWindow: 4096 },
      { promptTokens: 8, decodeSteps: 0 },
    );
    expect(v.errors.map((e) => e.error.slice(0, 40))).toEqual([
      'ValueError: `QuantizedCache` is only sup',
      'ValueError: `nbits` for `quanto` backend',
    ]);
  });
});

describe('full-attention-only check (PR #47160)', () => {
  const msg = (types: string) =>
    `ValueError: \`QuantizedCache\` is only supported for models with only full attention layers. We found the following invalid layer types: {${types}}`;
  const run = (m: Partial<TransformersModelGeometry>) =>
    transformersVerdict(cfg({}), { ...LLAMA2, ...m }, { promptTokens: 8, decodeSteps: 0 });
  it('Mistral v0.1 (sliding_window 4096, no layer_types): every layer is sliding', () => {
    expect(run({ slidingWindow: 4096 }).failure!.error).toBe(msg("'sliding_attention'"));
  });
  it('Gemma 2 style layer_types (alternating sliding/full)', () => {
    expect(run({ layerTypes: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'] }).failure!.error).toBe(
      msg("'sliding_attention'"),
    );
  });
  it('Llama 4 attention_chunk_size and hybrid linear attention', () => {
    expect(run({ attentionChunkSize: 8192 }).failure!.error).toBe(msg("'chunked_attention'"));
    expect(run({ layerTypes: ['linear_attention', 'linear_attention', 'full_attention'] }).failure!.error).toBe(msg("'linear_attention'"));
  });
  it('layer_types wins over sliding_window (Qwen2 with use_sliding_window=false lists full_attention)', () => {
    expect(run({ layerTypes: ['full_attention', 'full_attention'], slidingWindow: 131072 }).runs).toBe(true);
    expect(inferredLayerTypes({ ...LLAMA2, slidingWindow: 1 }, 2)).toEqual(['sliding_attention', 'sliding_attention']);
  });
});

describe('flush schedule of QuantizedLayer.update', () => {
  /** Independent simulation: residual starts as the 1-D empty tensor; a step flushes when it is 4-D and len + 1 ≥ R. */
  function simulate(R: number, steps: number): number[] {
    let residual: number | null = null; // null = torch.tensor([]) (dim 1)
    const out: number[] = [];
    for (let k = 1; k <= steps; k++) {
      if (residual !== null && residual + 1 >= R) {
        out.push(k);
        residual = null;
      } else residual = (residual ?? 0) + 1;
    }
    return out;
  }
  it.each([0, 1, 2, 3, 4, 7, 16, 128])('R=%i matches the step-by-step rule over 300 steps', (R) => {
    expect(flushSteps(R, 300)).toEqual(simulate(R, 300));
  });
  it('R=128 first flushes at step 128 with prompt + 128 tokens', () => {
    expect(quantizeEvents({ promptTokens: 10, decodeSteps: 300 }, 128)).toEqual([
      { stage: 'prefill', step: 0, tokens: 10 },
      { stage: 'flush', step: 128, tokens: 138 },
      { stage: 'flush', step: 256, tokens: 266 },
    ]);
  });
  it('generate(max_new_tokens=n) makes n − 1 decode updates', () => {
    expect([0, 1, 2, 256].map(decodeStepsFor)).toEqual([0, 0, 1, 255]);
  });
});

describe('layouts', () => {
  it('quanto 0 / HQQ 1 are per token, HQQ 0 strided, quanto −1 per channel over rows; KIVI channels nowhere', () => {
    expect([layoutFor('quanto', 0), layoutFor('quanto', -1), layoutFor('quanto', 1)]).toEqual(['token', 'flat-channel', null]);
    expect([layoutFor('hqq', 1), layoutFor('hqq', 0), layoutFor('hqq', -1)]).toEqual(['token', 'strided', null]);
    expect([axisFor('quanto', 'token'), axisFor('hqq', 'token'), axisFor('hqq', 'strided'), axisFor('quanto', 'flat-channel')]).toEqual([
      0, 1, 0, -1,
    ]);
    expect([axisFor('quanto', 'channel'), axisFor('hqq', 'channel'), axisFor('quanto', 'strided')]).toEqual([null, null, null]);
  });
  it('settingsForLayouts: per token both backends, strided only hqq, flat-channel only quanto, mixed pairs, KIVI none', () => {
    expect(settingsForLayouts('token', 'token')).toEqual([
      { backend: 'quanto', axisKey: 0, axisValue: 0 },
      { backend: 'hqq', axisKey: 1, axisValue: 1 },
    ]);
    expect(settingsForLayouts('strided', 'token')).toEqual([{ backend: 'hqq', axisKey: 0, axisValue: 1 }]);
    expect(settingsForLayouts('flat-channel', 'token')).toEqual([{ backend: 'quanto', axisKey: -1, axisValue: 0 }]);
    expect(settingsForLayouts('strided', 'flat-channel')).toEqual([]);
    expect(settingsForLayouts('channel', 'token')).toEqual([]);
  });
  it('the verdict reports the layout of keys and values separately', () => {
    const v = transformersVerdict(cfg({ backend: 'hqq', axisKey: 0, axisValue: 1 }), LLAMA2, { promptTokens: 64, decodeSteps: 0 });
    expect([v.keyLayout, v.valueLayout]).toEqual(['strided', 'token']);
  });
});

describe('notes', () => {
  it('HQQ 1 and 3 bits are accepted but not in the docs; residual below 2 flushes every second step', () => {
    const text = (c: Partial<TransformersCacheConfig>) =>
      transformersVerdict(cfg(c), LLAMA2, { promptTokens: 64, decodeSteps: 10 })
        .notes.map((n) => n.text)
        .join('\n');
    expect(text({ backend: 'hqq', nbits: 1, axisKey: 0, axisValue: 0 })).toMatch(/docs list only int2, int4 and int8/);
    expect(text({ backend: 'hqq', nbits: 4, axisKey: 1, axisValue: 1 })).not.toMatch(/docs list only/);
    expect(text({ residualLength: 1 })).toMatch(/behaves like 2/);
    expect(text({})).toMatch(/prompt is quantized at the first update/);
  });
  it('rejects nonsense geometry instead of guessing', () => {
    expect(() => transformersVerdict(cfg({ qGroupSize: 0 }), LLAMA2, { promptTokens: 1, decodeSteps: 0 })).toThrow(RangeError);
    expect(() => transformersVerdict(cfg({}), LLAMA2, { promptTokens: 0, decodeSteps: 0 })).toThrow(RangeError);
  });
});
