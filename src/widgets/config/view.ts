/**
 * Pure functions of <kv-config>: check a configuration with `transformersVerdict` (src/lib/quant/transformers.ts,
 * the single model of what Transformers 5.x accepts and where it crashes), write the Python snippet in either
 * current form, and estimate memory with kvCacheBytes. No DOM.
 *
 * The URL stores grouping layouts (kaxis/vaxis), not axis numbers: the same layout is axis 0 for quanto and axis 1
 * for hqq (per token); `strided` exists only in hqq (axis 0), `flat-channel` only in quanto (axis −1), and KIVI's
 * per-head `channel` groups in neither.
 */
import {
  axisFor,
  kvCacheBytes,
  transformersVerdict,
  type KvCacheBytes,
  type MemoryBits,
  type TransformersBackend,
  type TransformersLayout,
  type TransformersVerdict,
} from '../../lib/quant/index';
import { CATALOGUE } from '../../lib/model/catalogue';
import { CONFIG_MODELS, type ConfigState } from './state';

export type Backend = ConfigState['backend'];
export type Axis = ConfigState['kaxis'];

export const ALLOWED_BITS: Record<Backend, readonly number[]> = { quanto: [2, 4], hqq: [1, 2, 3, 4, 8] };

/** The integer Transformers expects for axis_key / axis_value, or null when the backend cannot group that way. */
export function axisValue(backend: Backend, axis: string): number | null {
  return axisFor(backend, axis as TransformersLayout);
}

export interface Issue {
  level: 'error' | 'warning' | 'info';
  text: string;
}

export function modelOf(s: Pick<ConfigState, 'model'>) {
  return CONFIG_MODELS.find((p) => p.id === s.model) ?? CONFIG_MODELS[0];
}

/** Hub checkpoint of the preset (the snippet's model_id), from the model catalogue. */
export function checkpointOf(s: Pick<ConfigState, 'model'>): string {
  const m = modelOf(s);
  return CATALOGUE.find((e) => e.id === m.id)?.hubId ?? 'meta-llama/Llama-2-7b-chat-hf';
}

function slidingWindowOf(s: Pick<ConfigState, 'model'>): number | null {
  const e = CATALOGUE.find((c) => c.id === modelOf(s).id);
  return e ? e.architecture.slidingWindow : null;
}

/** Why a layout has no axis number for this backend (null when it has one). */
export function layoutRefusal(backend: Backend, layout: string, arg: 'axis_key' | 'axis_value'): string | null {
  if (axisValue(backend, layout) !== null) return null;
  if (layout === 'channel')
    return `${arg}: KIVI’s per-head channel groups are not available in Transformers. The nearest setting is quanto axis −1 (each channel over rows of the flattened heads and tokens).`;
  if (layout === 'strided')
    return `${arg}: strided groups are HQQ’s axis 0; quanto has no such axis. Switch Backend to hqq, or pick per token.`;
  if (layout === 'flat-channel')
    return `${arg}: per-channel groups over rows are quanto’s axis −1; HQQ has no such axis. Switch Backend to quanto, or pick per token.`;
  return `${arg}: the layout "${layout}" has no Transformers axis.`;
}

/** The verdict for the state, or null when a grouping has no axis number for the backend (see layoutRefusal). */
export function verdictOf(s: ConfigState): TransformersVerdict | null {
  const axisKey = axisValue(s.backend, s.kaxis);
  const axisVal = axisValue(s.backend, s.vaxis);
  if (axisKey === null || axisVal === null) return null;
  const m = modelOf(s);
  return transformersVerdict(
    { backend: s.backend, nbits: s.bits, axisKey, axisValue: axisVal, qGroupSize: s.group, residualLength: s.residual },
    { batch: 1, kvHeads: m.kvHeads, headDim: m.headDim, slidingWindow: slidingWindowOf(s) },
    { promptTokens: s.ptokens, decodeSteps: Math.max(0, s.newtokens - 1) },
  );
}

/** Everything wrong or noteworthy about a configuration; an 'error' means Transformers would refuse it or crash. */
export function validate(s: ConfigState): Issue[] {
  const refusals = [layoutRefusal(s.backend, s.kaxis, 'axis_key'), layoutRefusal(s.backend, s.vaxis, 'axis_value')].filter(
    (t): t is string => t !== null,
  );
  const issues: Issue[] = refusals.map((text) => ({ level: 'error', text }));
  const v = verdictOf(s);
  if (!v) {
    if (!ALLOWED_BITS[s.backend].includes(s.bits))
      issues.push({ level: 'error', text: `quanto stores the cache only as qint2 or qint4: choose 2 or 4 bits, or the hqq backend.` });
    return issues;
  }
  for (const e of v.errors) issues.push({ level: 'error', text: e.cause });
  if (s.backend === 'hqq' && s.bits === 1)
    issues.push({ level: 'warning', text: 'One bit leaves two levels per group: expect the model to degrade badly.' });
  for (const n of v.notes) {
    // The prompt/flush notes are general facts the chapter explains; keep the list about this configuration.
    if (/prompt is quantized at the first update|re-quantizes the whole cache/.test(n.text)) continue;
    issues.push({ level: n.level, text: n.text });
  }
  return issues;
}

export function isValid(issues: readonly Issue[]): boolean {
  return !issues.some((i) => i.level === 'error');
}

/** `pip install` line for everything the snippet imports or needs (accelerate for device_map="auto"). */
export function installLine(backend: Backend): string {
  return `pip install "transformers>=4.56" ${backend === 'quanto' ? '"optimum-quanto>=0.2.5"' : '"hqq>=0.2.1"'} accelerate`;
}

/** Which Transformers versions the chosen form needs (plain text). */
export function versionNote(s: Pick<ConfigState, 'form' | 'backend'>): string {
  const common = 'dtype= (instead of torch_dtype=) needs Transformers 4.56 or later; checked against 5.18.';
  if (s.form === 'cache')
    return `QuantizedCache(backend=…, config=…) appeared in Transformers 4.56 (QuantoQuantizedCache / HQQQuantizedCache are deprecated). ${common}`;
  return s.backend === 'hqq'
    ? `cache_config with the lowercase "hqq" backend needs Transformers 4.56 or later (4.42–4.55 expected "HQQ"). ${common}`
    : `cache_implementation="quantized" with a cache_config dict works since Transformers 4.42. ${common}`;
}

/** The ready-to-run Python, as plain text (rendered in <pre><code>). Layouts without an axis number are written as None. */
export function snippet(s: ConfigState): string {
  const id = checkpointOf(s);
  const ak = axisValue(s.backend, s.kaxis);
  const av = axisValue(s.backend, s.vaxis);
  const v = verdictOf(s);
  const head = [`# ${installLine(s.backend)}`];
  if (!v || !v.runs) head.push('# Transformers would fail on this configuration (see the note above the code): fix it before running.');
  const common = [
    'import torch',
    `from transformers import AutoModelForCausalLM, AutoTokenizer${s.form === 'cache' ? ', QuantizedCache' : ''}`,
    '',
    `model_id = "${id}"`,
    'tokenizer = AutoTokenizer.from_pretrained(model_id)',
    'model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float16, device_map="auto")',
    '',
    'inputs = tokenizer("I like rock music because", return_tensors="pt").to(model.device)',
  ];
  const ax = (n: number | null) => (n === null ? 'None' : String(n));
  const body =
    s.form === 'cache'
      ? [
          '# One cache object per generate call: it holds that call’s keys and values.',
          'cache = QuantizedCache(',
          `    backend="${s.backend}",`,
          '    config=model.config,',
          `    nbits=${s.bits},`,
          `    axis_key=${ax(ak)},`,
          `    axis_value=${ax(av)},`,
          `    q_group_size=${s.group},`,
          `    residual_length=${s.residual},`,
          ')',
          `out = model.generate(**inputs, max_new_tokens=${s.newtokens}, past_key_values=cache)`,
        ]
      : [
          'cache_config = {',
          `    "backend": "${s.backend}",`,
          `    "nbits": ${s.bits},`,
          `    "axis_key": ${ax(ak)},`,
          `    "axis_value": ${ax(av)},`,
          `    "q_group_size": ${s.group},`,
          `    "residual_length": ${s.residual},`,
          '}',
          '# generate() pops "backend" from the dict it receives (and adds "config"): pass a copy to reuse the dict.',
          'out = model.generate(',
          '    **inputs,',
          `    max_new_tokens=${s.newtokens},`,
          '    cache_implementation="quantized",',
          '    cache_config=dict(cache_config),',
          ')',
        ];
  return [...head, ...common, ...body, 'print(tokenizer.decode(out[0], skip_special_tokens=True))'].join('\n');
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
  const common = {
    layers: m.layers,
    kvHeads: m.kvHeads,
    headDim: m.headDim,
    tokens: s.tokens,
    bits: s.bits as MemoryBits,
    groupSize: s.group,
    residualTokens: Math.min(s.residual, s.tokens),
  };
  const keys = kvCacheBytes({ ...common, axis: s.kaxis });
  const values = kvCacheBytes({ ...common, axis: s.vaxis });
  const total = keys.total / 2 + values.total / 2;
  return { keys, values, total, fp16: keys.fp16Total, ratio: keys.fp16Total / total };
}

export function fmtGB(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Short description of what the check covered (for the verdict box). */
export function checkContext(s: ConfigState): string {
  return `${s.backend}, ${s.bits} bits, ${modelOf(s).label}, a ${s.ptokens.toLocaleString('en-US')}-token prompt and max_new_tokens=${s.newtokens}`;
}

export function summaryText(s: ConfigState, est: MemoryEstimate, issues: readonly Issue[]): string {
  const m = modelOf(s);
  const head = isValid(issues)
    ? 'Transformers accepts this configuration and runs it for this prompt length.'
    : 'Transformers would refuse or crash on this configuration (see the notes above).';
  return `${head} For ${m.label} with ${s.tokens.toLocaleString('en-US')} tokens, the cache takes about ${fmtGB(est.total)} instead of ${fmtGB(est.fp16)} in fp16 (${est.ratio.toFixed(2)}× smaller), counting scales, zero points and the ${Math.min(s.residual, s.tokens)} full-precision residual tokens per layer.`;
}

export type { TransformersBackend };
