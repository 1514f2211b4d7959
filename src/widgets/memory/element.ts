import * as Plot from '@observablehq/plot';
import { KvWidget } from '../shared/base';
import { el, followSteps, formatNumber, rangeControl, selectControl, tableToggle, withStep } from '../shared/controls';
import { fmtGB, fmtGiB, summarize, type MemorySummary } from './model';
import { MEMORY_PRESETS } from './presets';
import { memoryCodec, type MemoryState } from './state';
import { breakdown, breakdownOptions, gpuLineText, growthChartOptions } from './view';

type Name = (typeof memoryCodec.names)[number];

const TOKEN_STEPS = [128, 256, 512, 1024, 2048, 4096, 8192, 10_000, 16_384, 32_768, 65_536, 131_072, 262_144, 1_048_576];
const BATCH_STEPS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const GPU_STEPS = [8, 12, 16, 24, 32, 40, 48, 80, 96, 141, 192];

const RESIDUAL_STEPS = [0, 32, 64, 128, 256, 512, 1024];
const LAYER_STEPS = [1, 2, 4, 8, 12, 16, 24, 28, 32, 40, 48, 64, 80, 96, 126];
const KVHEAD_STEPS = [1, 2, 3, 4, 8, 16, 32, 64];
const HEADDIM_STEPS = [32, 64, 80, 96, 128, 256];

/** Insert a value from the URL into a step list so the slider can show it exactly. */
const withValue = withStep;

/**
 * <kv-memory>: the KV-memory calculator. Presets with published configs or a
 * custom architecture; batch, context, bits, group, residual and a GPU size.
 * Every number comes from kvCacheBytes in src/lib/quant.
 */
export class KvMemory extends KvWidget<Name, MemoryState> {
  static observedAttributes = [...memoryCodec.names];
  readonly codec = memoryCodec;
  readonly widgetTitle = 'KV-cache memory calculator';
  #summaryEl = el('p', { className: 'chart-summary' });
  #metrics = el('div', { className: 'metrics' });
  #chart = el('div', { className: 'plot' });
  #bars = el('div', { className: 'plot' });
  #custom: HTMLElement[] = [];
  #table = tableToggle(() => this.table());
  #last?: MemorySummary;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<MemoryState>) => this.setState(patch);
    const model = selectControl<string>({
      name: 'model',
      label: 'Model',
      options: [...MEMORY_PRESETS.map((p) => ({ value: p.id as string, label: p.label })), { value: 'custom', label: 'Custom…' }],
      value: s.model,
      onChange: (v) => set({ model: v }),
    });
    const tokens = rangeControl({
      name: 'tokens',
      label: 'Context length',
      values: withValue(TOKEN_STEPS, s.tokens),
      value: s.tokens,
      describe: (v) => `${v.toLocaleString('en-US')} tokens`,
      onChange: (v) => set({ tokens: v }),
    });
    const batch = rangeControl({
      name: 'batch',
      label: 'Batch size',
      values: withValue(BATCH_STEPS, s.batch),
      value: s.batch,
      describe: (v) => `batch of ${v}`,
      onChange: (v) => set({ batch: v }),
    });
    const bits = rangeControl({
      name: 'bits',
      label: 'Bits',
      values: [1, 2, 3, 4, 8, 16],
      value: s.bits,
      describe: (v) => (v === 16 ? '16 bits, unquantized fp16' : `${v} bits, groups of ${this.state.group}`),
      short: (v) => (v === 16 ? 'fp16' : `${v} bits`),
      onChange: (v) => set({ bits: v }),
    });
    const group = rangeControl({
      name: 'group',
      label: 'Group size',
      values: [16, 32, 64, 128],
      value: s.group,
      describe: (v) => `${this.state.bits} bits, groups of ${v}`,
      short: (v) => `G${v}`,
      onChange: (v) => set({ group: v }),
    });
    const residual = rangeControl({
      name: 'residual',
      label: 'Residual length',
      values: withValue(RESIDUAL_STEPS, s.residual),
      value: s.residual,
      describe: (v) => `${v} full-precision tokens`,
      onChange: (v) => set({ residual: v }),
    });
    const gpu = rangeControl({
      name: 'gpu',
      label: 'GPU memory',
      values: withValue(GPU_STEPS, s.gpu),
      value: s.gpu,
      describe: (v) => `${v} GB of GPU memory`,
      onChange: (v) => set({ gpu: v }),
    });
    const layers = rangeControl({
      name: 'layers',
      label: 'Layers',
      values: withValue(LAYER_STEPS, s.layers),
      value: s.layers,
      describe: (v) => `${v} layers`,
      onChange: (v) => set({ layers: v }),
    });
    const kvheads = rangeControl({
      name: 'kvheads',
      label: 'KV heads',
      values: withValue(KVHEAD_STEPS, s.kvheads),
      value: s.kvheads,
      describe: (v) => `${v} key-value heads`,
      onChange: (v) => set({ kvheads: v }),
    });
    const headdim = rangeControl({
      name: 'headdim',
      label: 'Head dimension',
      values: withValue(HEADDIM_STEPS, s.headdim),
      value: s.headdim,
      describe: (v) => `head dimension ${v}`,
      onChange: (v) => set({ headdim: v }),
    });
    this.#custom = [layers.root, kvheads.root, headdim.root];
    this.controlsEl.append(model.root, ...this.#custom, tokens.root, batch.root, bits.root, group.root, residual.root, gpu.root);
    // Every control follows the state (an attribute or a preset changes it too); bits and group also refresh the
    // aria-valuetext that names the other.
    this.bindControls({
      model,
      tokens: followSteps(tokens, TOKEN_STEPS),
      batch: followSteps(batch, BATCH_STEPS),
      bits,
      group,
      residual: followSteps(residual, RESIDUAL_STEPS),
      gpu: followSteps(gpu, GPU_STEPS),
      layers: followSteps(layers, LAYER_STEPS),
      kvheads: followSteps(kvheads, KVHEAD_STEPS),
      headdim: followSteps(headdim, HEADDIM_STEPS),
    });
    this.bodyEl.append(this.#metrics, this.#summaryEl, this.#chart, this.#bars, this.#table.root);
  }

  protected update(): void {
    const s = this.state;
    const custom = s.model === 'custom';
    const visible = s.controls;
    for (const c of this.#custom) c.hidden = !custom || (visible.length > 0 && !visible.includes(c.dataset.control!));
    const summary = summarize(s);
    this.#last = summary;
    const q = summary.quant;
    const metric = (label: string, value: string, name: string) => {
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
      metric('KV cache', `${fmtGB(q.total)} (${fmtGiB(q.total)})`, 'total'),
      metric('fp16 cache', fmtGB(summary.fp16.total), 'fp16'),
      metric('Saving', s.bits === 16 ? '1.00×' : `${q.ratio.toFixed(2)}×`, 'ratio'),
      metric('Bits per element', s.bits === 16 ? '16' : formatNumber(q.bitsPerElement, 4), 'bpe'),
      metric('Weights (fp16)', summary.weights ? fmtGB(summary.weights) : 'unknown', 'weights'),
      metric('Tokens that fit', summary.available > 0 ? summary.fitsQuant.toLocaleString('en-US') : 'none: weights exceed the GPU', 'fits'),
    );
    const tokens = s.tokens.toLocaleString('en-US');
    const config = s.bits === 16 ? 'in fp16' : `at ${s.bits} bits with groups of ${s.group} and a residual of ${s.residual} tokens`;
    this.#summaryEl.textContent =
      `${summary.arch.label}: ${tokens} tokens × batch ${s.batch} take ${fmtGB(q.total)} ${config}` +
      (s.bits === 16 ? '.' : ` instead of ${fmtGB(summary.fp16.total)} in fp16 (${q.ratio.toFixed(2)}× smaller).`) +
      (summary.available > 0
        ? ` With ${s.gpu} GB of GPU memory${summary.weights ? ` and ${fmtGB(summary.weights)} of fp16 weights` : ''}, about ${summary.fitsQuant.toLocaleString('en-US')} tokens fit (fp16: ${summary.fitsFp16.toLocaleString('en-US')}).`
        : ` The fp16 weights alone (${fmtGB(summary.weights)}) exceed ${s.gpu} GB.`) +
      gpuLineText(s, summary);
    const width = Math.max(280, Math.min(680, this.bodyWidth || 640));
    this.#chart.replaceChildren(Plot.plot(growthChartOptions(s, summary, width)));
    this.#bars.replaceChildren(Plot.plot(breakdownOptions(breakdown(summary, s), width)));
    this.#table.refresh();
    this.status.set('');
  }

  private table() {
    const s = this.state;
    const sm = this.#last ?? summarize(s);
    const rows: Array<Array<string | number>> = [['fp16', sm.fp16.total / 1e9, sm.fp16.total / 2 ** 30, 16, sm.fitsFp16]];
    if (s.bits !== 16)
      rows.push([
        `int${s.bits} G${s.group} R${s.residual}`,
        sm.quant.total / 1e9,
        sm.quant.total / 2 ** 30,
        sm.quant.averageBitsPerElement,
        sm.fitsQuant,
      ]);
    return {
      caption: `KV-cache memory at ${s.tokens} tokens, batch ${s.batch}`,
      columns: ['Cache', 'GB', 'GiB', 'Average bits per element', 'Tokens that fit'],
      rows,
    };
  }
}

if (!customElements.get('kv-memory')) customElements.define('kv-memory', KvMemory);
