/**
 * Which engine controls the quantizer shows (controls.ts engineControlVisibility): the chosen engine's own
 * controls only, and no FP8 scale for NVFP4 (vLLM's nvfp4 KV cache carries its own block scales, so there is no
 * k_scale/v_scale choice to make).
 */
import { describe, expect, it } from 'vitest';
import { engineControlVisibility } from '../../../../src/widgets/quantizer/controls';

const shown = (engine: 'transformers' | 'vllm' | 'llamacpp', dtype: 'fp8_e4m3' | 'fp8_e5m2' | 'nvfp4' = 'fp8_e4m3') =>
  [...engineControlVisibility({ engine, dtype })]
    .filter(([, on]) => on)
    .map(([n]) => n)
    .sort();

describe('engineControlVisibility', () => {
  it('covers every engine control once', () => {
    expect([...engineControlVisibility({ engine: 'transformers', dtype: 'fp8_e4m3' }).keys()].sort()).toEqual(
      ['bits', 'dtype', 'fp8scale', 'group', 'hadamard', 'kaxis', 'kfmt', 'method', 'preset', 'residual', 'vaxis', 'vfmt'].sort(),
    );
  });
  it('Transformers: the QuantizedCache settings only', () =>
    expect(shown('transformers')).toEqual(['bits', 'group', 'kaxis', 'method', 'preset', 'residual', 'vaxis']));
  it('vLLM with FP8: dtype and scale', () => expect(shown('vllm', 'fp8_e5m2')).toEqual(['dtype', 'fp8scale']));
  it('vLLM with NVFP4: dtype only', () => expect(shown('vllm', 'nvfp4')).toEqual(['dtype']));
  it('llama.cpp: -ctk, -ctv and the rotation', () => expect(shown('llamacpp', 'nvfp4')).toEqual(['hadamard', 'kfmt', 'vfmt']));
});
