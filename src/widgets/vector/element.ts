import * as Plot from '@observablehq/plot';
import type { KVTensor } from '../../lib/quant/index';
import { KvWidget } from '../shared/base';
import { el, followIndex, rangeControl, selectControl, tableToggle, type RangeControl } from '../shared/controls';
import { describeQuant } from '../shared/params';
import { explainError, loadExample, type TensorSet } from '../shared/tensors';
import { VECTOR_GROUPS, vectorCodec, type VectorState } from './state';
import {
  methodName,
  pct,
  resolveVectorState,
  summaryText,
  syntheticVector,
  vectorChartOptions,
  vectorOf,
  vectorView,
  type VectorView,
} from './view';

type Name = (typeof vectorCodec.names)[number];

/**
 * <kv-vector>: one real key or value vector (64 numbers of one token) quantized with
 * src/lib/quant: grid levels per group, original and dequantized points, and the error.
 */
export class KvVector extends KvWidget<Name, VectorState> {
  static observedAttributes = [...vectorCodec.names];
  readonly codec = vectorCodec;
  readonly widgetTitle = 'One vector, quantized';
  #set: TensorSet | null = null;
  #synthetic = false;
  #metrics = el('div', { className: 'metrics' });
  #summary = el('p', { className: 'chart-summary' });
  #chart = el('div', { className: 'plot' });
  #table = tableToggle(() => this.table());
  #view: VectorView | null = null;
  #label = '';
  #layer!: RangeControl<number>;
  #head!: RangeControl<number>;
  #token!: RangeControl<number>;
  /** Milliseconds of the last synchronous redraw, for tests. */
  lastRedrawMs = 0;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<VectorState>) => this.setState(patch);
    const bits = rangeControl({
      name: 'bits',
      label: 'Bits',
      values: [1, 2, 3, 4, 8],
      value: s.bits,
      describe: (v) => describeQuant(v, this.state.group),
      short: (v) => `${v} bit${v === 1 ? '' : 's'}`,
      onChange: (v) => set({ bits: v }),
    });
    const group = rangeControl({
      name: 'group',
      label: 'Group size',
      values: VECTOR_GROUPS,
      value: s.group as (typeof VECTOR_GROUPS)[number],
      describe: (v) => describeQuant(this.state.bits, v),
      short: (v) => `G${v}`,
      onChange: (v) => set({ group: v }),
    });
    const method = selectControl<VectorState['method']>({
      name: 'method',
      label: 'Method',
      options: (['minmax', 'hqq', 'absmax'] as const).map((m) => ({ value: m, label: methodName(m) })),
      value: s.method,
      onChange: (v) => set({ method: v }),
    });
    const tensor = selectControl<VectorState['tensor']>({
      name: 'tensor',
      label: 'Tensor',
      options: [
        { value: 'k', label: 'Key' },
        { value: 'v', label: 'Value' },
      ],
      value: s.tensor,
      onChange: (v) => set({ tensor: v }),
    });
    this.#layer = rangeControl({
      name: 'layer',
      label: 'Layer',
      values: [s.layer],
      value: s.layer,
      describe: (v) => `layer ${v}`,
      onChange: (v) => set({ layer: v }),
    });
    this.#head = rangeControl({
      name: 'head',
      label: 'KV head',
      values: [s.head],
      value: s.head,
      describe: (v) => `KV head ${v}`,
      onChange: (v) => set({ head: v }),
    });
    this.#token = rangeControl({
      name: 'token',
      label: 'Token',
      values: [s.token],
      value: s.token,
      describe: (v) => `token ${v}`,
      onChange: (v) => set({ token: v }),
    });
    this.controlsEl.append(bits.root, group.root, method.root, tensor.root, this.#layer.root, this.#head.root, this.#token.root);
    // Layer, head and token get the tensor's shape as their steps once it loads (syncRanges).
    this.bindControls({
      bits,
      group: { set: (v) => group.set(v as (typeof VECTOR_GROUPS)[number]) },
      method,
      tensor,
      layer: followIndex(this.#layer),
      head: followIndex(this.#head),
      token: followIndex(this.#token),
    });
    this.bodyEl.append(this.#metrics, this.#summary, this.#chart, this.#table.root);
    this.status.set('Loading a real key vector…');
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.#set = await loadExample();
      this.#synthetic = false;
      this.status.set('');
    } catch (err) {
      this.#set = null;
      this.#synthetic = true;
      this.status.set(`${explainError(err)} Showing a seeded synthetic vector instead.`);
    }
    this.syncRanges();
    this.runUpdate('all');
  }

  private tensorShape(): { layers: number; heads: number; tokens: number } {
    const t = this.#set?.keys[0];
    return t ? { layers: this.#set!.keys.length, heads: t.heads, tokens: t.tokens } : { layers: 8, heads: 2, tokens: 1 };
  }

  private syncRanges(): void {
    const { layers, heads, tokens } = this.tensorShape();
    const s = this.state;
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const clamp = (v: number, n: number) => Math.min(Math.max(0, v), n - 1);
    const patch = { layer: clamp(s.layer, layers), head: clamp(s.head, heads), token: clamp(s.token, tokens) };
    this.#layer.setValues(range(layers), patch.layer);
    this.#head.setValues(range(heads), patch.head);
    this.#token.setValues(range(tokens), patch.token);
    // Hidden for the synthetic vector, and then by `controls=` like every other control (applyControlsFilter).
    this.#token.root.hidden = this.#synthetic;
    this.#layer.root.hidden = this.#synthetic;
    this.#head.root.hidden = this.#synthetic;
    if (!this.#synthetic) this.applyControlsFilter();
    if (patch.layer !== s.layer || patch.head !== s.head || patch.token !== s.token) this.state = { ...s, ...patch };
  }

  private currentVector(): { vector: Float32Array; label: string } {
    const s = this.state;
    if (!this.#set) return { vector: syntheticVector(1 + s.layer * 131 + s.head * 17 + s.token), label: 'A synthetic vector' };
    const tensors: KVTensor[] = s.tensor === 'k' ? this.#set.keys : this.#set.values;
    const t = tensors[Math.min(s.layer, tensors.length - 1)];
    const tok = this.#set.tokens[Math.min(s.token, t.tokens - 1)] ?? '';
    return {
      vector: vectorOf(t, s.head, s.token),
      label: `The ${s.tensor === 'k' ? 'key' : 'value'} of token ${s.token} (“${tok.trim() || tok}”), layer ${s.layer}, KV head ${s.head}`,
    };
  }

  protected update(): void {
    if (!this.#set && !this.#synthetic) return; // still loading
    const t0 = performance.now();
    const { state: s, note } = resolveVectorState(this.state);
    const { vector, label } = this.currentVector();
    this.#label = label;
    const v = vectorView(vector, s);
    this.#view = v;
    const metric = (name: string, labelText: string, value: string) => {
      const m = el(
        'div',
        { className: 'metric' },
        el('span', { className: 'label', textContent: labelText }),
        el('span', { className: 'value', textContent: value }),
      );
      m.dataset.metric = name;
      return m;
    };
    this.#metrics.replaceChildren(
      metric('relerr', 'Relative error', pct(v.relativeError)),
      metric('maxabs', 'Largest error', v.maxAbsError.toPrecision(3)),
      metric('levels', 'Levels per group', String(2 ** s.bits)),
      metric('bpe', 'Bits per number', v.bitsPerElement.toFixed(2)),
      metric('scale', 'Scale of group 1', v.result.scales[0].toPrecision(3)),
    );
    this.dataset.relativeError = String(v.relativeError);
    this.dataset.maxAbsError = String(v.maxAbsError);
    this.#summary.textContent = (note ? `${note} ` : '') + summaryText(v, s as VectorState, label);
    const width = Math.max(280, Math.min(700, this.bodyEl.clientWidth || this.clientWidth || 640));
    this.#chart.replaceChildren(Plot.plot(vectorChartOptions(v, s as VectorState, width, label)));
    this.#table.refresh();
    this.lastRedrawMs = performance.now() - t0;
  }

  private table() {
    const v = this.#view;
    return {
      caption: `${this.#label}: original and dequantized values`,
      columns: ['Channel', 'Group', 'Original', 'Dequantized', 'Error'],
      rows: (v?.points ?? []).map((p) => [p.channel, p.group + 1, p.original, p.dequantized, p.error]),
    };
  }
}

if (!customElements.get('kv-vector')) customElements.define('kv-vector', KvVector);
