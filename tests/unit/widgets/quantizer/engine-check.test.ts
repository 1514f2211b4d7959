/**
 * The engine note (engine-check.ts): flag spellings as the engines take them (vLLM/SGLang `--kv-cache-dtype`,
 * vLLM `--calculate-kv-scales`; llama.cpp `-ctk`/`-ctv`, with `-fa on` since a quantized V cache needs flash
 * attention, llama.cpp common/arg.cpp), and the note-list text for refused settings.
 */
import { describe, expect, it } from 'vitest';
import { engineFlags, engineNotes } from '../../../../src/widgets/quantizer/engine-check';
import type { QuantOutcome } from '../../../../src/widgets/quantizer/model';

const base = { engine: 'vllm', dtype: 'fp8_e4m3', fp8scale: 'unit', kfmt: 'f16', vfmt: 'f16', hadamard: 'on' } as const;

describe('engineFlags', () => {
  it('vLLM FP8 E4M3 with dynamic scales names the dtype flag and --calculate-kv-scales', () => {
    const text = engineFlags({ ...base, fp8scale: 'dynamic' });
    expect(text).toContain('vLLM: --kv-cache-dtype fp8_e4m3');
    expect(text).toContain('SGLang: --kv-cache-dtype fp8_e4m3');
    expect(text).toContain('--calculate-kv-scales');
  });
  it('vLLM NVFP4 has no scale sentence', () =>
    expect(engineFlags({ ...base, dtype: 'nvfp4' })).toBe('Engine flags for this format — vLLM: --kv-cache-dtype nvfp4.'));
  it('llama.cpp with a quantized V adds -fa on and the rotation sentence', () => {
    const text = engineFlags({ ...base, engine: 'llamacpp', kfmt: 'q8_0', vfmt: 'q4_0' });
    expect(text.startsWith('llama.cpp flags: -ctk q8_0 -ctv q4_0 -fa on. ')).toBe(true);
    expect(text).toContain('Hadamard');
  });
  it('llama.cpp with only K quantized: no -fa, rotation off spelled as the environment variable', () =>
    expect(engineFlags({ ...base, engine: 'llamacpp', kfmt: 'q8_0', hadamard: 'off' })).toBe(
      'llama.cpp flags: -ctk q8_0 -ctv f16. Rotation off: LLAMA_ATTN_ROT_DISABLE=1.',
    ));
  it('llama.cpp f16 for both: just the flags', () =>
    expect(engineFlags({ ...base, engine: 'llamacpp' })).toBe('llama.cpp flags: -ctk f16 -ctv f16.'));
});

describe('engineNotes', () => {
  const used = { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' } as unknown as QuantOutcome['used'];
  const ok: QuantOutcome = { dequantized: new Float32Array(0), used };
  const refused: QuantOutcome = { dequantized: new Float32Array(0), used, error: 'absmax needs at least 2 bits' };
  it('one note per distinct message, naming what is shown instead', () =>
    expect(engineNotes({ engine: 'transformers', vfmt: 'f16' }, refused, refused)).toEqual([
      'absmax needs at least 2 bits. Showing 4-bit minmax, per-token groups of 64 elements instead.',
    ]));
  it('nothing refused, no llama.cpp V: no notes', () => expect(engineNotes({ engine: 'transformers', vfmt: 'q4_0' }, ok, ok)).toEqual([]));
  it('llama.cpp with a quantized V: the flash-attention note', () => {
    const notes = engineNotes({ engine: 'llamacpp', vfmt: 'q4_0' }, ok, ok);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('-fa on');
  });
});
