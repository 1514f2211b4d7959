import * as Plot from '@observablehq/plot';
import type { KVTensor } from '../../lib/quant/index';
import { KvWidget } from '../shared/base';
import { el, followIndex, tableToggle, type RangeControl } from '../shared/controls';
import { layerHeadSliders, range } from '../shared/layer-head';
import { quantControls } from '../shared/quant-controls';
import { explainError, loadExample, type TensorSet } from '../shared/tensors';
import { rotationCodec, type RotationState } from './state';
import { pct, profileChartOptions, resolveRotationState, RotationScratch, rotationView, summaryText, type RotationView } from './view';

type Name = (typeof rotationCodec.names)[number];

/** The keys of one KV head as a one-head tensor (copied once per layer/head choice). */
function headOf(t: KVTensor, head: number): KVTensor {
  const h = Math.min(Math.max(0, head), t.heads - 1);
  const n = t.tokens * t.headDim;
  return { data: t.data.slice(h * n, (h + 1) * n), heads: 1, tokens: t.tokens, headDim: t.headDim };
}

/**
 * <kv-rotation>: real keys of one layer and head before and after a Hadamard rotation
 * (QuaRot/SpinQuant), their per-channel max |x| profiles, and the relative error of
 * quantizing them plainly versus rotated — all from src/lib/quant.
 */
export class KvRotation extends KvWidget<Name, RotationState> {
  static observedAttributes = [...rotationCodec.names];
  readonly codec = rotationCodec;
  readonly widgetTitle = 'Rotating keys before quantizing them';
  #set: TensorSet | null = null;
  #keys: KVTensor | null = null;
  #keysFor = '';
  #scratch = new RotationScratch();
  #view: RotationView | null = null;
  #label = '';
  #metrics = el('div', { className: 'metrics' });
  #summary = el('p', { className: 'chart-summary' });
  #chart = el('div', { className: 'plot' });
  #table = tableToggle(() => this.table());
  #layer!: RangeControl<number>;
  #head!: RangeControl<number>;
  /** Milliseconds of the last synchronous redraw, for tests. */
  lastRedrawMs = 0;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<RotationState>) => this.setState(patch);
    const { bits, group, kaxis, method } = quantControls(() => this.state, set, { valueGrouping: false });
    const sliders = layerHeadSliders({
      layer: s.layer,
      head: s.head,
      layers: [s.layer],
      heads: [s.head],
      describeLayer: (v) => `layer ${v}`,
      set,
    });
    this.#layer = sliders.layer;
    this.#head = sliders.head;
    this.controlsEl.append(bits.root, group.root, kaxis.root, method.root, this.#layer.root, this.#head.root);
    this.bindControls({ bits, group, kaxis, method, layer: followIndex(this.#layer), head: followIndex(this.#head) });
    this.bodyEl.append(this.#metrics, this.#summary, this.#chart, this.#table.root);
    this.status.set('Loading the keys of the example passage…');
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.#set = await loadExample();
    } catch (err) {
      this.status.error(`${explainError(err)} This demo needs the precomputed keys of the bundled model.`);
      return;
    }
    const layers = this.#set.keys.length;
    const heads = this.#set.keys[0].heads;
    const clamp = (v: number, n: number) => Math.min(Math.max(0, v), n - 1);
    const s = this.state;
    this.state = { ...s, layer: clamp(s.layer, layers), head: clamp(s.head, heads) };
    this.#layer.setValues(range(layers), this.state.layer);
    this.#head.setValues(range(heads), this.state.head);
    this.status.set('');
    this.runUpdate('all');
  }

  protected update(): void {
    if (!this.#set) return;
    const t0 = performance.now();
    const { state: s, note } = resolveRotationState(this.state);
    const key = `${s.layer}|${s.head}`;
    if (key !== this.#keysFor || !this.#keys) {
      this.#keys = headOf(this.#set.keys[s.layer], s.head);
      this.#keysFor = key;
    }
    this.#label = `Keys of layer ${s.layer}, KV head ${s.head}`;
    const v = rotationView(this.#keys, s, this.#scratch);
    this.#view = v;
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
      metric('plain', 'Error without rotation', pct(v.errorPlain)),
      metric('rotated', 'Error with rotation', pct(v.errorRotated)),
      metric('peak-before', 'Peak / median channel, before', `${v.peakBefore.toFixed(1)}×`),
      metric('peak-after', 'Peak / median channel, after', `${v.peakAfter.toFixed(1)}×`),
    );
    this.dataset.errorPlain = String(v.errorPlain);
    this.dataset.errorRotated = String(v.errorRotated);
    this.#summary.textContent = (note ? `${note} ` : '') + summaryText(v, s as RotationState, this.#label);
    const width = Math.max(280, Math.min(700, this.bodyEl.clientWidth || this.clientWidth || 640));
    this.#chart.replaceChildren(Plot.plot(profileChartOptions(v, width, this.#label)));
    this.#table.refresh();
    this.lastRedrawMs = performance.now() - t0;
  }

  private table() {
    const v = this.#view;
    return {
      caption: `${this.#label}: largest |key| of each channel before and after the Hadamard rotation`,
      columns: ['Channel', 'Max |x| before', 'Max |x| after'],
      rows: v ? Array.from(v.before, (b, i) => [i, b, v.after[i]]) : [],
    };
  }
}

if (!customElements.get('kv-rotation')) customElements.define('kv-rotation', KvRotation);
