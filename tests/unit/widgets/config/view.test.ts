import { describe, expect, it } from 'vitest';
import { configCodec, type ConfigState } from '../../../../src/widgets/config/state';
import { axisValue, isValid, memoryEstimate, snippet, validate } from '../../../../src/widgets/config/view';

const state = (patch: Partial<ConfigState>): ConfigState => ({ ...configCodec.defaults, ...patch });

describe.each([
  ['quanto', 1, false],
  ['quanto', 2, true],
  ['quanto', 3, false],
  ['quanto', 4, true],
  ['quanto', 8, false],
  ['hqq', 1, true],
  ['hqq', 2, true],
  ['hqq', 3, true],
  ['hqq', 4, true],
  ['hqq', 8, true],
] as const)('backend %s accepts nbits=%i: %s', (backend, bits, ok) => {
  it('validates like Transformers', () => {
    const issues = validate(state({ backend, bits }));
    expect(isValid(issues)).toBe(ok);
    if (!ok) expect(issues.find((i) => i.level === 'error')!.text).toMatch(/2 or 4/);
  });
});

describe.each([
  ['quanto', 'token', 0],
  ['quanto', 'channel', -1],
  ['hqq', 'token', 1],
  ['hqq', 'channel', 0],
] as const)('axis for %s %s', (backend, axis, expected) => {
  it(`is ${expected}, and the snippet uses it`, () => {
    expect(axisValue(backend, axis)).toBe(expected);
    const code = snippet(state({ backend, kaxis: axis, vaxis: axis }));
    expect(code).toContain(`"axis_key": ${expected},`);
    expect(code).toContain(`"axis_value": ${expected},`);
    expect(code).toContain(`"backend": "${backend}",`);
  });
});

describe('snippet and notes', () => {
  it('writes every cache_config field', () => {
    const code = snippet(state({ bits: 2, group: 32, residual: 64, model: 'mistral-7b' }));
    expect(code).toContain('cache_implementation="quantized"');
    expect(code).toContain('"nbits": 2,');
    expect(code).toContain('"q_group_size": 32,');
    expect(code).toContain('"residual_length": 64,');
    expect(code).toContain('mistralai/Mistral-7B-Instruct-v0.3');
  });
  it('notes a residual below 2, a group wider than the head, and non-recommended axes', () => {
    expect(validate(state({ residual: 1 })).some((i) => /behaves like 2/.test(i.text))).toBe(true);
    expect(validate(state({ model: 'smollm2-135m', group: 128 })).some((i) => i.level === 'warning' && /spans 2 tokens/.test(i.text))).toBe(true);
    expect(validate(state({ kaxis: 'channel' })).some((i) => /recommends axis_key = axis_value = 0/.test(i.text))).toBe(true);
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
