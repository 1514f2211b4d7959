import { AXES } from '../../lib/quant/index';
import { KvWidget } from '../shared/base';
import { copyButton, el, followSteps, rangeControl, selectControl, tableToggle } from '../shared/controls';
import { describeQuant } from '../shared/params';
import { renderTransformersNote } from '../shared/transformers-note';
import { CONFIG_MODELS, configCodec, RESIDUAL_STEPS, type ConfigState } from './state';
import {
  axisValue,
  checkContext,
  fmtGB,
  isValid,
  memoryEstimate,
  snippet,
  summaryText,
  validate,
  verdictOf,
  versionNote,
  type MemoryEstimate,
} from './view';

type Name = (typeof configCodec.names)[number];

const TOKEN_STEPS = [1024, 2048, 4096, 8192, 10_000, 16_384, 32_768, 65_536, 131_072];
const PROMPT_STEPS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 32, 33, 64, 100, 127, 128, 500, 1000, 1001, 2048, 4096, 8192, 32_768];
const NEW_TOKEN_STEPS = [1, 2, 16, 64, 128, 129, 256, 512, 1024, 4096];
const LAYOUT_NAMES: Record<string, string> = {
  token: 'per token',
  strided: 'strided',
  'flat-channel': 'per channel over rows',
  channel: 'per head channel (KIVI)',
};

/** Option label of a layout for a backend: the axis number it means there, or why it has none. */
function layoutLabel(backend: ConfigState['backend'], layout: string): string {
  const name = LAYOUT_NAMES[layout] ?? layout;
  const axis = axisValue(backend, layout);
  if (axis !== null) return `${name} (axis ${axis})`;
  return layout === 'channel' ? `${name}: not in Transformers` : `${name}: ${backend === 'quanto' ? 'hqq' : 'quanto'} only`;
}
const withValue = (steps: readonly number[], v: number) => (steps.includes(v) ? [...steps] : [...steps, v].sort((a, b) => a - b));

/**
 * <kv-config>: a generator for Transformers' quantized cache. It checks the choices with transformersVerdict
 * choices against what each backend accepts, prints the Python to copy, and estimates memory
 * with kvCacheBytes from src/lib/quant.
 */
export class KvConfig extends KvWidget<Name, ConfigState> {
  static observedAttributes = [...configCodec.names];
  readonly codec = configCodec;
  readonly widgetTitle = 'Quantized-cache config generator';
  #issues = el('ul', { className: 'config-issues' });
  #verdict = el('div', { className: 'config-verdict' });
  #versions = el('p', { className: 'config-versions note' });
  #code = el('code', { className: 'language-python' });
  #pre = el('pre', { className: 'config-snippet' }, this.#code);
  #copy = copyButton('Copy code', () => this.#code.textContent ?? '');
  #metrics = el('div', { className: 'metrics' });
  #summary = el('p', { className: 'chart-summary' });
  #table = tableToggle(() => this.table());
  #est: MemoryEstimate | null = null;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<ConfigState>) => this.setState(patch);
    const backend = selectControl<ConfigState['backend']>({
      name: 'backend',
      label: 'Backend',
      options: [
        { value: 'quanto', label: 'quanto (default)' },
        { value: 'hqq', label: 'HQQ' },
      ],
      value: s.backend,
      onChange: (v) => set({ backend: v }),
    });
    const bits = rangeControl({
      name: 'bits',
      label: 'nbits',
      values: [1, 2, 3, 4, 8],
      value: s.bits,
      describe: (v) => describeQuant(v, this.state.group),
      short: (v) => `${v} bit${v === 1 ? '' : 's'}`,
      onChange: (v) => set({ bits: v }),
    });
    const axisOptions = () => AXES.map((a) => ({ value: a as ConfigState['kaxis'], label: layoutLabel(this.state.backend, a) }));
    const kaxis = selectControl<ConfigState['kaxis']>({
      name: 'kaxis',
      label: 'Key grouping (axis_key)',
      options: axisOptions(),
      value: s.kaxis,
      onChange: (v) => set({ kaxis: v }),
    });
    const vaxis = selectControl<ConfigState['vaxis']>({
      name: 'vaxis',
      label: 'Value grouping (axis_value)',
      options: axisOptions(),
      value: s.vaxis,
      onChange: (v) => set({ vaxis: v }),
    });
    const group = rangeControl({
      name: 'group',
      label: 'q_group_size',
      values: [16, 32, 64, 128],
      value: s.group,
      describe: (v) => describeQuant(this.state.bits, v),
      short: (v) => `G${v}`,
      onChange: (v) => set({ group: v }),
    });
    const residual = rangeControl({
      name: 'residual',
      label: 'residual_length',
      values: withValue(RESIDUAL_STEPS, s.residual),
      value: s.residual,
      describe: (v) => `${v} full-precision tokens`,
      short: (v) => `${v} tokens`,
      onChange: (v) => set({ residual: v }),
    });
    const model = selectControl<string>({
      name: 'model',
      label: 'Model',
      options: CONFIG_MODELS.map((p) => ({ value: p.id as string, label: p.label })),
      value: s.model,
      onChange: (v) => set({ model: v }),
    });
    const ptokens = rangeControl({
      name: 'ptokens',
      label: 'Prompt length',
      values: withValue(PROMPT_STEPS, s.ptokens),
      value: s.ptokens,
      describe: (v) => `${v.toLocaleString('en-US')} prompt token${v === 1 ? '' : 's'}`,
      onChange: (v) => set({ ptokens: v }),
    });
    const newtokens = rangeControl({
      name: 'newtokens',
      label: 'max_new_tokens',
      values: withValue(NEW_TOKEN_STEPS, s.newtokens),
      value: s.newtokens,
      describe: (v) => `${v.toLocaleString('en-US')} new token${v === 1 ? '' : 's'}`,
      onChange: (v) => set({ newtokens: v }),
    });
    const form = selectControl<ConfigState['form']>({
      name: 'form',
      label: 'Code form',
      options: [
        { value: 'generate', label: 'generate(cache_implementation="quantized")' },
        { value: 'cache', label: 'QuantizedCache object' },
      ],
      value: s.form,
      onChange: (v) => set({ form: v }),
    });
    const tokens = rangeControl({
      name: 'tokens',
      label: 'Context length (memory)',
      values: withValue(TOKEN_STEPS, s.tokens),
      value: s.tokens,
      describe: (v) => `${v.toLocaleString('en-US')} tokens`,
      onChange: (v) => set({ tokens: v }),
    });
    this.controlsEl.append(
      backend.root,
      bits.root,
      kaxis.root,
      vaxis.root,
      group.root,
      residual.root,
      model.root,
      ptokens.root,
      newtokens.root,
      form.root,
      tokens.root,
    );
    const relabel = () => {
      for (const ctl of [kaxis, vaxis])
        for (const opt of Array.from(ctl.select.options)) opt.textContent = layoutLabel(this.state.backend, opt.value);
    };
    this.bindControls({
      backend,
      bits,
      kaxis,
      vaxis,
      group,
      residual: followSteps(residual, RESIDUAL_STEPS),
      model,
      ptokens: followSteps(ptokens, PROMPT_STEPS),
      newtokens: followSteps(newtokens, NEW_TOKEN_STEPS),
      form,
      tokens: followSteps(tokens, TOKEN_STEPS),
    });
    this.addEventListener('kv-state', relabel);
    this.#issues.setAttribute('aria-label', 'Checks of this configuration');
    this.#pre.tabIndex = 0;
    this.#pre.setAttribute('aria-label', 'Python code for this configuration');
    const codeBar = el('div', { className: 'config-codebar' }, this.#copy.root);
    this.bodyEl.append(this.#verdict, this.#issues, this.#pre, this.#versions, codeBar, this.#metrics, this.#summary, this.#table.root);
  }

  protected update(): void {
    const s = this.state;
    const issues = validate(s);
    const valid = isValid(issues);
    this.dataset.valid = String(valid);
    this.#issues.replaceChildren(
      ...issues.map((i) => {
        const li = el(
          'li',
          { className: `issue issue-${i.level}` },
          el('strong', { textContent: i.level === 'error' ? 'Not accepted: ' : i.level === 'warning' ? 'Careful: ' : 'Note: ' }),
          i.text,
        );
        li.dataset.level = i.level;
        return li;
      }),
    );
    this.#issues.hidden = issues.length === 0;
    const verdict = verdictOf(s);
    if (verdict) {
      this.#verdict.hidden = false;
      renderTransformersNote(this.#verdict, verdict, { context: checkContext(s), showCause: false, notes: 'none' }); // causes and notes are in the issue list below
    } else {
      // A grouping with no axis number for this backend: the issue list says why; no upstream verdict to show.
      this.#verdict.hidden = true;
    }
    this.dataset.verdict = verdict ? (verdict.runs ? 'runs' : 'fails') : 'no-axis';
    this.#code.textContent = snippet(s);
    this.#versions.textContent = versionNote(s);
    this.#pre.classList.toggle('invalid', !valid);
    const est = memoryEstimate(s);
    this.#est = est;
    const metric = (name: string, label: string, value: string) => {
      const m = el(
        'div',
        { className: 'metric' },
        el('span', { className: 'label', textContent: label }),
        el('span', { className: 'value', textContent: value }),
      );
      m.dataset.metric = name;
      return m;
    };
    this.#metrics.replaceChildren(
      metric('total', 'Quantized cache', fmtGB(est.total)),
      metric('fp16', 'fp16 cache', fmtGB(est.fp16)),
      metric('ratio', 'Saving', `${est.ratio.toFixed(2)}×`),
      metric('bpe', 'Bits per quantized number', ((est.keys.bitsPerElement + est.values.bitsPerElement) / 2).toFixed(3)),
    );
    this.dataset.totalBytes = String(est.total);
    this.#summary.textContent = summaryText(s, est, issues);
    this.#table.refresh();
    this.status.set('');
  }

  private table() {
    const e = this.#est ?? memoryEstimate(this.state);
    const row = (label: string, k: number, v: number) => [label, k / 2 / 1e6, v / 2 / 1e6, (k + v) / 2 / 1e6];
    return {
      caption: `Memory of the quantized cache, ${this.state.tokens} tokens (MB)`,
      columns: ['Part', 'Keys (MB)', 'Values (MB)', 'Total (MB)'],
      rows: [
        row('Packed codes', e.keys.payload, e.values.payload),
        row('Scales and zero points', e.keys.meta, e.values.meta),
        row('Full-precision residual', e.keys.residual, e.values.residual),
        row('Total', e.keys.total, e.values.total),
      ],
    };
  }
}

if (!customElements.get('kv-config')) customElements.define('kv-config', KvConfig);
