/**
 * The note under the metrics: for a Transformers setting, what Transformers would do with it on this prompt
 * (shared/transformers-check); for a vLLM/SGLang or llama.cpp format, the engine's command-line flags instead.
 * Kept apart from the element so the flag spellings and the verdict panel have one home.
 */
import { el } from '../shared/controls';
import { checkInTransformers, type WidgetGeometry } from '../shared/transformers-check';
import { showTransformersCheck } from '../shared/transformers-check-view';
import { ENGINE_FORMAT_NOTES, engineFormatInfo } from '../../lib/quant/index';
import type { QuantOutcome } from './model';
import type { QuantizerState } from './state';
import { describeKv } from './view';

/** New tokens assumed when checking the settings against Transformers (`generate(max_new_tokens=256)`). */
const TRANSFORMERS_NEW_TOKENS = 256;

/** The engine's command-line flags for the chosen format (ENGINE_FORMATS' spellings). */
export function engineFlags(s: Pick<QuantizerState, 'engine' | 'dtype' | 'fp8scale' | 'kfmt' | 'vfmt' | 'hadamard'>): string {
  if (s.engine === 'vllm') {
    const info = engineFormatInfo(s.dtype);
    const flags = info.engines.map((e) => `${e.engine}: ${e.flag}`).join('; ');
    const scale =
      s.dtype === 'nvfp4'
        ? ''
        : s.fp8scale === 'dynamic'
          ? ' Dynamic scales: vLLM --calculate-kv-scales (calc_kv_scales, amax/200 for K and amax/100 for V on the first forward pass).'
          : s.fp8scale === 'unit'
            ? ' Scale 1.0: what vLLM uses when the checkpoint carries no k_scale/v_scale.'
            : ' Per-tensor or per-head scales come from a calibrated checkpoint (k_scale/v_scale).';
    return `Engine flags for this format — ${flags}.${scale}`;
  }
  const rot =
    s.hadamard === 'on'
      ? ' llama.cpp rotates a quantized K and V with a Hadamard matrix on its own (LLAMA_ATTN_ROT_DISABLE=1 turns it off).'
      : ' Rotation off: LLAMA_ATTN_ROT_DISABLE=1.';
  return `llama.cpp flags: -ctk ${s.kfmt} -ctv ${s.vfmt}${s.vfmt !== 'f16' ? ' -fa on' : ''}.${s.kfmt !== 'f16' || s.vfmt !== 'f16' ? rot : ''}`;
}

/**
 * Notes for the widget's note list: a setting the quantizer refused (its message, once, and what is shown
 * instead), and for llama.cpp with a quantized V cache, that it needs flash attention.
 */
export function engineNotes(s: Pick<QuantizerState, 'engine' | 'vfmt'>, k: QuantOutcome, v: QuantOutcome): string[] {
  const errors = [...new Set([k.error, v.error].filter((x): x is string => !!x))];
  const notes = errors.map((m) => `${m}. Showing ${describeKv(k.error ? k.used : v.used)} instead.`);
  if (s.engine === 'llamacpp' && s.vfmt !== 'f16') notes.push(`${ENGINE_FORMAT_NOTES.llamaCppQuantizedV}.`);
  return notes;
}

export class EngineCheck {
  /** What Transformers would do with these settings on this prompt (or why they are not a Transformers setting). */
  readonly root = el('div', { className: 'tf-check' });

  /** `promptTokens` is the prompt's length; Transformers generates TRANSFORMERS_NEW_TOKENS after it. */
  show(s: QuantizerState, model: WidgetGeometry, promptTokens: number): void {
    if (s.engine === 'transformers')
      showTransformersCheck(this.root, checkInTransformers(s, model, promptTokens, TRANSFORMERS_NEW_TOKENS - 1));
    else {
      // an engine format: its command-line flags instead of the Transformers verdict
      this.root.hidden = false;
      this.root.dataset.check = 'engine';
      delete this.root.dataset.verdict;
      this.root.replaceChildren(el('p', { className: 'note', textContent: engineFlags(s) }));
    }
  }
}
