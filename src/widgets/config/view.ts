/**
 * Pure functions of <kv-config>: check a `cache_config` against what each Transformers backend
 * accepts, write the Python snippet, and estimate memory with kvCacheBytes. No DOM.
 *
 * Allowed values (transformers `cache_utils.py` QuantizedCache / the old QuantizedCacheConfig docstring):
 * quanto nbits 2 or 4, axis 0 or −1; HQQ nbits 1, 2, 3, 4 or 8, axis 0 or 1. Axis meaning for a
 * [batch, heads, tokens, head_dim] cache: quanto 0 and HQQ 1 group runs of head_dim (per token);
 * quanto −1 groups each channel along tokens (per channel); HQQ 0 groups strided elements (channel-like).
 */
import { kvCacheBytes, type KvCacheBytes, type MemoryBits } from '../../lib/quant/index';
import { CONFIG_MODELS, type ConfigState } from './state';

export type Backend = ConfigState['backend'];
export type Axis = ConfigState['kaxis'];

export const ALLOWED_BITS: Record<Backend, readonly number[]> = { quanto: [2, 4], hqq: [1, 2, 3, 4, 8] };

/** The integer Transformers expects for axis_key / axis_value. */
export function axisValue(backend: Backend, axis: Axis): number {
  if (backend === 'quanto') return axis === 'token' ? 0 : -1;
  return axis === 'token' ? 1 : 0;
}

export interface Issue {
  level: 'error' | 'warning' | 'info';
  text: string;
}

export function modelOf(s: Pick<ConfigState, 'model'>) {
  return CONFIG_MODELS.find((p) => p.id === s.model) ?? CONFIG_MODELS[0];
}

/** Hub checkpoints for the presets (the snippet's model_id). */
export const CHECKPOINTS: Record<string, string> = {
  'llama-2-7b': 'meta-llama/Llama-2-7b-chat-hf',
  'llama-3-8b': 'meta-llama/Meta-Llama-3-8B-Instruct',
  'llama-3.1-70b': 'meta-llama/Llama-3.1-70B-Instruct',
  'mistral-7b': 'mistralai/Mistral-7B-Instruct-v0.3',
  'qwen2.5-7b': 'Qwen/Qwen2.5-7B-Instruct',
  'smollm2-135m': 'HuggingFaceTB/SmolLM2-135M-Instruct',
};

/** Everything wrong or noteworthy about a configuration; an 'error' means Transformers would refuse it. */
export function validate(s: ConfigState): Issue[] {
  const issues: Issue[] = [];
  const m = modelOf(s);
  if (!ALLOWED_BITS[s.backend].includes(s.bits)) {
    issues.push({
      level: 'error',
      text:
        `quanto stores the cache only as qint2 or qint4, so nbits=${s.bits} is rejected. ` +
        `Choose 2 or 4 bits, or switch to the HQQ backend, which accepts 1, 2, 3, 4 and 8 bits.`,
    });
  }
  if (s.backend === 'hqq' && s.bits === 3) issues.push({ level: 'info', text: 'HQQ packs 3-bit codes ten to a 32-bit word, so 3 bits cost 3.2 bits of storage per number.' });
  if (s.backend === 'hqq' && s.bits === 1) issues.push({ level: 'warning', text: 'One bit leaves two levels per group: expect the model to degrade badly.' });
  for (const [name, axis] of [['axis_key', s.kaxis], ['axis_value', s.vaxis]] as const) {
    if (axis === 'token' && s.group > m.headDim) {
      issues.push({ level: 'warning', text: `${name}: a group of ${s.group} is larger than ${m.label}'s head dimension (${m.headDim}), so each group spans ${s.group / m.headDim} tokens. Use a group size that divides ${m.headDim}.` });
    }
    if (axis === 'token' && m.headDim % s.group !== 0 && s.group < m.headDim) {
      issues.push({ level: 'error', text: `${name}: q_group_size ${s.group} does not divide the head dimension ${m.headDim}.` });
    }
    if (axis === 'channel' && s.backend === 'quanto') {
      issues.push({ level: 'warning', text: `${name}=-1 groups each channel over ${s.group} tokens; quanto raises a ValueError when batch × heads × tokens is not a multiple of ${s.group}, so prompts of arbitrary length can fail.` });
    }
  }
  const recommended = s.backend === 'quanto' ? 0 : 1;
  if (axisValue(s.backend, s.kaxis) !== recommended || axisValue(s.backend, s.vaxis) !== recommended) {
    issues.push({ level: 'info', text: `The Transformers documentation recommends axis_key = axis_value = ${recommended} for ${s.backend}.` });
  }
  if (s.residual < 2) {
    issues.push({ level: 'info', text: `residual_length=${s.residual} behaves like 2: the cache flushes its full-precision tokens into the quantized part every second step.` });
  }
  return issues;
}

export function isValid(issues: readonly Issue[]): boolean {
  return !issues.some((i) => i.level === 'error');
}

/** The ready-to-run Python, as plain text (rendered in <pre><code>). */
export function snippet(s: ConfigState): string {
  const id = CHECKPOINTS[s.model] ?? CHECKPOINTS['llama-2-7b'];
  const install = s.backend === 'quanto' ? 'pip install transformers "optimum-quanto>=0.2.5"' : 'pip install transformers hqq';
  return [
    `# ${install}`,
    'import torch',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    '',
    `model_id = "${id}"`,
    'tokenizer = AutoTokenizer.from_pretrained(model_id)',
    'model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype=torch.float16, device_map="auto")',
    '',
    'inputs = tokenizer("I like rock music because", return_tensors="pt").to(model.device)',
    'out = model.generate(',
    '    **inputs,',
    '    max_new_tokens=256,',
    '    cache_implementation="quantized",',
    '    cache_config={',
    `        "backend": "${s.backend}",`,
    `        "nbits": ${s.bits},`,
    `        "axis_key": ${axisValue(s.backend, s.kaxis)},`,
    `        "axis_value": ${axisValue(s.backend, s.vaxis)},`,
    `        "q_group_size": ${s.group},`,
    `        "residual_length": ${s.residual},`,
    '    },',
    ')',
    'print(tokenizer.decode(out[0], skip_special_tokens=True))',
  ].join('\n');
}

export interface MemoryEstimate {
  keys: KvCacheBytes;
  values: KvCacheBytes;
  /** Keys and values together (each kvCacheBytes call counts both, so each contributes half). */
  total: number;
  fp16: number;
  ratio: number;
}

/** Cache memory for one sequence of `tokens` tokens, keys grouped along kaxis and values along vaxis. */
export function memoryEstimate(s: ConfigState): MemoryEstimate {
  const m = modelOf(s);
  const common = { layers: m.layers, kvHeads: m.kvHeads, headDim: m.headDim, tokens: s.tokens, bits: s.bits as MemoryBits, groupSize: s.group, residualTokens: Math.min(s.residual, s.tokens) };
  const keys = kvCacheBytes({ ...common, axis: s.kaxis });
  const values = kvCacheBytes({ ...common, axis: s.vaxis });
  const total = keys.total / 2 + values.total / 2;
  return { keys, values, total, fp16: keys.fp16Total, ratio: keys.fp16Total / total };
}

export function fmtGB(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function summaryText(s: ConfigState, est: MemoryEstimate, issues: readonly Issue[]): string {
  const m = modelOf(s);
  const head = isValid(issues) ? 'This configuration is accepted by Transformers.' : 'Transformers would reject this configuration (see the notes above).';
  return `${head} For ${m.label} with ${s.tokens.toLocaleString('en-US')} tokens, the cache takes about ${fmtGB(est.total)} instead of ${fmtGB(est.fp16)} in fp16 (${est.ratio.toFixed(2)}× smaller), counting scales, zero points and the ${Math.min(s.residual, s.tokens)} full-precision residual tokens per layer.`;
}
