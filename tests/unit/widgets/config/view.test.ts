import { describe, expect, it } from 'vitest';
import { configCodec, type ConfigState } from '../../../../src/widgets/config/state';
import {
  axisValue,
  installLine,
  isValid,
  memoryEstimate,
  snippet,
  validate,
  verdictOf,
  versionNote,
} from '../../../../src/widgets/config/view';

const state = (patch: Partial<ConfigState>): ConfigState => ({ ...configCodec.defaults, ...patch });
type Layout = ConfigState['kaxis'];

describe.each([
  ['quanto', 1, false],
  ['quanto', 2, true],
  ['quanto', 3, false],
  ['quanto', 4, true],
  ['quanto', 8, false],
  ['hqq', 1, true],
  ['hqq', 2, true],
  ['hqq', 3, false], // accepted by the constructor, but per-token 3 bits crashes at the first decode step
  ['hqq', 4, true],
  ['hqq', 8, true],
] as const)('backend %s, nbits=%i, per token, Llama-2-7B: runs %s', (backend, bits, ok) => {
  it('validates like Transformers', () => {
    const issues = validate(state({ backend, bits }));
    expect(isValid(issues)).toBe(ok);
    if (!ok && backend === 'quanto') expect(issues.find((i) => i.level === 'error')!.text).toMatch(/2 or 4/);
    if (!ok && backend === 'hqq') expect(verdictOf(state({ backend, bits }))!.failure).toMatchObject({ stage: 'decode', step: 1 });
  });
});

describe.each([
  ['quanto', 'token', 0],
  ['quanto', 'flat-channel', -1],
  ['hqq', 'token', 1],
  ['hqq', 'strided', 0],
] as const)('axis for %s %s', (backend, axis, expected) => {
  it(`is ${expected}, and both code forms use it`, () => {
    expect(axisValue(backend, axis)).toBe(expected);
    const s = state({ backend, kaxis: axis as Layout, vaxis: axis as Layout, ptokens: 1024 });
    const code = snippet(s);
    expect(code).toContain(`"axis_key": ${expected},`);
    expect(code).toContain(`"axis_value": ${expected},`);
    expect(code).toContain(`"backend": "${backend}",`);
    const obj = snippet({ ...s, form: 'cache' });
    expect(obj).toContain(`axis_key=${expected},`);
    expect(obj).toContain(`backend="${backend}",`);
  });
});

describe('layouts a backend cannot produce', () => {
  it.each([
    ['quanto', 'strided', /hqq/],
    ['hqq', 'flat-channel', /quanto/],
    ['quanto', 'channel', /not available in Transformers/],
    ['hqq', 'channel', /not available in Transformers/],
  ] as const)('%s + %s is refused with the reason', (backend, layout, reason) => {
    const s = state({ backend, kaxis: layout as Layout });
    expect(axisValue(backend, layout)).toBeNull();
    const issues = validate(s);
    expect(isValid(issues)).toBe(false);
    expect(issues[0].text).toMatch(reason);
    expect(verdictOf(s)).toBeNull();
  });
});

describe('the check follows the model preset and the prompt length (SmolLM2-135M: 3 KV heads × 64)', () => {
  const smol = (patch: Partial<ConfigState>) =>
    state({ model: 'smollm2-135m', backend: 'hqq', kaxis: 'token', vaxis: 'token', group: 64, ...patch });
  it('hqq 4 bits per token: a 5-token prompt fails at the prefill, 6 runs (15 vs 18 groups, packed in halves)', () => {
    expect(isValid(validate(smol({ bits: 4, ptokens: 5 })))).toBe(false);
    expect(verdictOf(smol({ bits: 4, ptokens: 5 }))!.failure).toMatchObject({ stage: 'prefill', tokens: 5 });
    expect(isValid(validate(smol({ bits: 4, ptokens: 6 })))).toBe(true);
  });
  it('quanto per channel over rows needs 3 × prompt to be a multiple of G', () => {
    const q = (ptokens: number) =>
      isValid(validate(state({ model: 'smollm2-135m', kaxis: 'flat-channel' as Layout, group: 64, ptokens, newtokens: 1 })));
    expect(q(64)).toBe(true);
    expect(q(65)).toBe(false);
  });
  it('the failing code still carries a warning comment', () => {
    expect(snippet(smol({ bits: 4, ptokens: 5 })).split('\n')[1]).toMatch(/would fail/);
    expect(snippet(smol({ bits: 4, ptokens: 6 }))).not.toMatch(/would fail/);
  });
});

describe('snippet', () => {
  it('generate form: every cache_config field, lowercase backend, dtype=, a copy of the dict, the install line', () => {
    const code = snippet(state({ bits: 2, group: 32, residual: 64, model: 'mistral-7b', newtokens: 100 }));
    expect(code).toContain('cache_implementation="quantized"');
    expect(code).toContain('"nbits": 2,');
    expect(code).toContain('"q_group_size": 32,');
    expect(code).toContain('"residual_length": 64,');
    expect(code).toContain('max_new_tokens=100,');
    expect(code).toContain('mistralai/Mistral-7B-Instruct-v0.3');
    expect(code).toContain('dtype=torch.float16');
    expect(code).not.toContain('torch_dtype');
    expect(code).toContain('cache_config=dict(cache_config)');
    expect(code).toMatch(/pops "backend"/);
    expect(code.split('\n')[0]).toBe('# pip install "transformers>=4.56" "optimum-quanto>=0.2.5" accelerate');
  });
  it('QuantizedCache form: imports it, passes config=model.config and past_key_values=cache', () => {
    const code = snippet(state({ form: 'cache', backend: 'hqq', kaxis: 'token', vaxis: 'token', bits: 8 }));
    expect(code).toContain('from transformers import AutoModelForCausalLM, AutoTokenizer, QuantizedCache');
    expect(code).toContain('backend="hqq",');
    expect(code).toContain('config=model.config,');
    expect(code).toContain('past_key_values=cache');
    expect(code).not.toContain('cache_implementation');
    expect(code.split('\n')[0]).toBe('# pip install "transformers>=4.56" "hqq>=0.2.1" accelerate');
  });
  it('install line covers every import: transformers, the backend, accelerate for device_map="auto"', () => {
    for (const b of ['quanto', 'hqq'] as const) {
      const code = snippet(state({ backend: b, kaxis: 'token', vaxis: 'token' }));
      expect(code).toContain('device_map="auto"');
      expect(installLine(b)).toMatch(/accelerate/);
      expect(installLine(b)).toContain(b === 'quanto' ? 'optimum-quanto' : 'hqq');
    }
  });
  it('version notes: dict form 4.42+ for quanto, 4.56+ for lowercase hqq and for QuantizedCache(backend=…)', () => {
    expect(versionNote({ form: 'generate', backend: 'quanto' })).toMatch(/4\.42/);
    expect(versionNote({ form: 'generate', backend: 'hqq' })).toMatch(/4\.56.*"HQQ"/);
    expect(versionNote({ form: 'cache', backend: 'quanto' })).toMatch(
      /QuantizedCache\(backend=…, config=…\) appeared in Transformers 4\.56/,
    );
  });
});

describe('notes', () => {
  it('residual below 2, a group wider than the head, non-recommended axes, 1-bit', () => {
    expect(validate(state({ residual: 1 })).some((i) => /behaves like 2/.test(i.text))).toBe(true);
    expect(
      validate(state({ model: 'smollm2-135m', group: 128, ptokens: 1000, newtokens: 2 })).some((i) => /spans 2 tokens/.test(i.text)),
    ).toBe(true);
    expect(
      validate(state({ backend: 'hqq', kaxis: 'strided' as Layout, vaxis: 'token' })).some((i) => /recommend axis_key=1/.test(i.text)),
    ).toBe(true);
    expect(
      validate(state({ backend: 'hqq', bits: 1, kaxis: 'token', vaxis: 'token' })).some(
        (i) => i.level === 'warning' && /docs list only/.test(i.text),
      ),
    ).toBe(true);
    expect(validate(state({}))).toEqual([]);
  });
});

describe('memory estimate', () => {
  it('fp16 baseline is the blog case: Llama-2-7B, 10,000 tokens = 5,242,880,000 bytes', () => {
    expect(memoryEstimate(state({})).fp16).toBe(5_242_880_000);
  });
  it('int4 G64 per-token without residual: 4.5 bits per element (hand computation)', () => {
    const e = memoryEstimate(state({ residual: 0, bits: 4, group: 64 }));
    const elements = 2 * 32 * 32 * 128 * 10_000;
    expect(e.total).toBe((elements * 4) / 8 + (elements / 64) * 2 * 2);
    expect(e.ratio).toBeCloseTo(16 / 4.5, 10);
  });
  it('adds the residual tokens in fp16', () => {
    const a = memoryEstimate(state({ residual: 0 }));
    const b = memoryEstimate(state({ residual: 128 }));
    const perToken16 = 2 * 32 * 32 * 128 * 2;
    const perToken4 = 2 * 32 * 32 * 128 * (4.5 / 8);
    expect(b.total - a.total).toBeCloseTo(128 * (perToken16 - perToken4), 0);
  });
});
