import {
  allocateFakeQuantOutput,
  fakeQuantizeInto,
  groupCount,
  type FakeQuantBuffers,
  type KVTensor,
  type QuantConfig,
} from '../../lib/quant/index';
import { KvWidget } from '../shared/base';
import { quantControls } from '../shared/quant-controls';
import { metaDtypeOfModel, requireQuantConfig } from '../shared/quant-config';
import { DEFAULT_MODEL_ID } from '../../lib/model/catalogue';
import { el, followIndex, rangeControl, tableToggle, type RangeControl } from '../shared/controls';
import { drawHeatmap } from '../shared/heatmap';
import { tensorPicker, type TensorPicker } from '../shared/tensor-picker';
import { layerLabel, padQueries } from '../shared/dump-source';
import type { TensorSet } from '../shared/tensors';
import { LazyTipChart } from './chart';
import { attentionCodec, type AttentionState } from './state';
import {
  attentionChart,
  computeAttention,
  diffChart,
  kvHeadOf,
  num,
  pct,
  resolveQuery,
  showToken,
  summaryText,
  topChanges,
  type AttentionView,
} from './view';
import { colour } from '../shared/palette';

type Name = (typeof attentionCodec.names)[number];
const QUANT_KEYS = new Set<Name>(['bits', 'group', 'kaxis', 'vaxis', 'method']);

/** Chart width for a widget body `clientWidth` wide (0 when not laid out yet: 720). */
const chartWidth = (bodyWidth: number) => Math.max(300, Math.min(760, bodyWidth || 720));

/** What the three charts show, kept so a width change can redraw them alone. */
interface ChartInputs {
  view: AttentionView;
  diff: Float64Array;
  tokens: readonly string[];
  query: number;
  head: number;
  quant: string;
}

const METRICS = [
  ['kl', 'KL (this head)'],
  ['tv', 'Total variation'],
  ['out', 'Output error'],
  ['layer-kl', 'KL (layer mean)'],
  ['layer-tv', 'TV (layer mean)'],
  ['layer-out', 'Output error (layer)'],
] as const;

/** Reusable quantization buffers for one tensor shape and config shape (no allocation while a slider moves). */
class BufferPool {
  #pool = new Map<string, FakeQuantBuffers>();
  get(t: KVTensor, cfg: QuantConfig, slot: string): FakeQuantBuffers {
    const key = `${slot}|${t.heads}x${t.tokens}x${t.headDim}|${groupCount(t, cfg)}`;
    let b = this.#pool.get(key);
    if (!b) {
      b = allocateFakeQuantOutput(t, cfg);
      this.#pool.set(key, b);
    }
    return b;
  }
}

/**
 * <kv-attention>: one query token's attention over the past with original and quantized
 * keys/values, their difference, and KL / total variation / output error from attentionImpact.
 */
export class KvAttention extends KvWidget<Name, AttentionState> {
  static observedAttributes = [...attentionCodec.names];
  readonly codec = attentionCodec;
  readonly widgetTitle = 'Attention under quantized keys';
  #set: TensorSet | null = null;
  #pool = new BufferPool();
  #scratch = { k: new Float32Array(0), v: new Float32Array(0), kHat: new Float32Array(0), vHat: new Float32Array(0) };
  #kHat: Float32Array | null = null;
  #vHat: Float32Array | null = null;
  #quantKey = '';
  #view: AttentionView | null = null;
  #metrics = el('div', { className: 'metrics' });
  /** The metric value elements, by data-metric name (built once, their text updated on every redraw). */
  #metricValues = new Map<string, HTMLElement>();
  #metricEls: HTMLElement[] = [];
  #summary = el('p', { className: 'chart-summary' });
  #refChart = new LazyTipChart();
  #hatChart = new LazyTipChart();
  #diffChart = new LazyTipChart();
  #charts: ChartInputs | null = null;
  #drawnWidth = 0;
  #queryValues: number[] = [];
  #strip = el('canvas', { className: 'heatmap attn-strip' });
  #changes = el('div', { className: 'attn-changes' });
  #table = tableToggle(() => this.table());
  #layer!: RangeControl<number>;
  #head!: RangeControl<number>;
  #query!: RangeControl<number>;
  #picker!: TensorPicker;
  #urlTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * history.replaceState costs about 10 ms a call in Chromium here (measured), more than the redraw itself:
   * write the URL once the reader pauses (120 ms), not inside every input event.
   */
  protected override writeUrl(): void {
    clearTimeout(this.#urlTimer);
    this.#urlTimer = setTimeout(() => super.writeUrl(), 120);
  }

  /** Milliseconds of the last synchronous redraw (quantize + attention + charts), for tests and benchmarks. */
  lastRedrawMs = 0;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<AttentionState>) => this.setState(patch);
    this.#picker = tensorPicker({
      prompt: s.prompt,
      model: 'kvlab-16m',
      status: this.status,
      onTensors: (t) => this.setTensors(t),
      onPrompt: (p) => set({ prompt: p }),
    });
    this.#layer = rangeControl({
      name: 'layer',
      label: 'Layer',
      values: [0, 1, 2, 3, 4, 5, 6, 7],
      value: s.layer,
      describe: (v) => layerLabel(this.#set, v),
      onChange: (v) => set({ layer: v }),
    });
    this.#head = rangeControl({
      name: 'head',
      label: 'Query head',
      values: [0, 1, 2, 3, 4, 5],
      value: s.head,
      describe: (v) => this.describeHead(v),
      onChange: (v) => set({ head: v }),
    });
    this.#query = rangeControl({
      name: 'query',
      label: 'Query token',
      values: [0],
      value: 0,
      describe: (v) => this.describeQuery(v),
      onChange: (v) => set({ query: this.#set && v === this.#set.tokens.length - 1 ? -1 : v }),
    });
    const { bits, group, kaxis, vaxis, method } = quantControls(() => this.state, set);
    this.controlsEl.append(
      this.#picker.root,
      this.#layer.root,
      this.#head.root,
      this.#query.root,
      bits.root,
      group.root,
      kaxis.root,
      vaxis.root,
      method.root,
    );
    // The query slider follows the state in update (its steps are the tensors' tokens; -1 is the last one).
    this.bindControls({ bits, group, kaxis, vaxis, method, layer: followIndex(this.#layer), head: followIndex(this.#head) });
    const legend = el('p', {
      className: 'attn-legend',
      textContent: 'Difference strip: red = gained attention, blue = lost attention (same as the bars above and below zero).',
    });
    for (const [name, label] of METRICS) {
      const value = el('span', { className: 'value' });
      const m = el('div', { className: 'metric' }, el('span', { className: 'label', textContent: label }), value);
      m.dataset.metric = name;
      this.#metricValues.set(name, value);
      this.#metricEls.push(m);
    }
    this.bodyEl.append(
      this.#metrics,
      this.#summary,
      this.#refChart.root,
      this.#hatChart.root,
      this.#diffChart.root,
      this.#strip,
      legend,
      this.#changes,
      this.#table.root,
    );
  }

  /** The charts follow a new width at once. */
  protected override onBodyResize(w: number): void {
    if (!this.#charts || chartWidth(w) === this.#drawnWidth) return;
    this.drawCharts(this.#charts);
  }

  private describeHead(v: number): string {
    const info = this.#set?.info;
    return info ? `query head ${v}, reads KV head ${kvHeadOf(v, info.heads, info.kvHeads)}` : `query head ${v}`;
  }

  private describeQuery(v: number): string {
    const t = this.#set?.tokens[v];
    return t === undefined ? `token ${v}` : `token ${v}: ${showToken(t)}${this.#set && v === this.#set.tokens.length - 1 ? ' (last)' : ''}`;
  }

  protected update(changed: ReadonlySet<Name> | 'all'): void {
    if (changed !== 'all' && changed.has('prompt')) this.#picker.applyPrompt(this.state.prompt);
    if (!this.#set) return;
    this.redraw(changed === 'all' || [...changed].some((c) => QUANT_KEYS.has(c) || c === 'layer'));
  }

  /** New tensors from the picker (an example, or the reader's prompt run live): clamp layer/head/query, redraw. */
  private setTensors(set: TensorSet): void {
    // The picker's progress messages ("Running the prompt through the model…") end with the result; clear
    // them here, before the redraw (which may explain missing queries; the picker then adds a truncation notice).
    this.status.set('');
    const s = this.state;
    this.#set = set;
    this.#quantKey = '';
    const { layers, heads } = set.info;
    const clampNote: string[] = [];
    let { layer, head } = s;
    if (layer >= layers) {
      clampNote.push(`layer=${layer} is past the model's ${layers} layers; using ${layers - 1}.`);
      layer = layers - 1;
    }
    if (head >= heads) {
      clampNote.push(`head=${head} is past the model's ${heads} query heads; using ${heads - 1}.`);
      head = heads - 1;
    }
    if (s.query >= set.tokens.length) clampNote.push(`query=${s.query} is past the ${set.tokens.length} tokens; using the last token.`);
    if (clampNote.length) {
      this.notes = [...this.notes, ...clampNote];
      this.noteView.show(this.notes);
    }
    this.#layer.setValues(
      Array.from({ length: layers }, (_, i) => i),
      layer,
    );
    this.#head.setValues(
      Array.from({ length: heads }, (_, i) => i),
      head,
    );
    if (layer !== s.layer || head !== s.head || s.query >= set.tokens.length) {
      this.state = { ...this.state, layer, head, query: s.query >= set.tokens.length ? -1 : s.query };
      this.writeUrl();
    }
    try {
      this.redraw(true);
    } catch (err) {
      this.fail(err);
    }
  }

  private quantConfigs(): { key: QuantConfig; value: QuantConfig } {
    const s = this.state;
    return {
      key: requireQuantConfig({ bits: s.bits, group: s.group, axis: s.kaxis, method: s.method }, metaDtypeOfModel(DEFAULT_MODEL_ID)),
      value: requireQuantConfig({ bits: s.bits, group: s.group, axis: s.vaxis, method: s.method }, metaDtypeOfModel(DEFAULT_MODEL_ID)),
    };
  }

  /** Re-quantize the held layer (only when the config or layer changed), recompute attention, redraw. Synchronous. */
  private redraw(requantize: boolean): void {
    const t0 = performance.now();
    const set = this.#set!;
    const s = this.state;
    const { heads, kvHeads } = set.info;
    if (!set.queries) {
      const why =
        set.source === 'precomputed'
          ? `The example “${set.title}” ships without queries (to keep the download small), so its attention cannot be recomputed. Pick another example, or press “Run the model on this text” to compute them.`
          : 'This model does not export its queries, so attention cannot be recomputed here. Only the logit-level view is available: the side-by-side generation widget shows the KL divergence and top-1 agreement of the next-token distributions.';
      this.status.set(why);
      this.#summary.textContent = why;
      for (const c of [this.#refChart, this.#hatChart, this.#diffChart]) c.clear();
      for (const c of [this.#changes, this.#metrics]) c.replaceChildren();
      this.#view = null;
      this.#charts = null;
      return;
    }
    const layer = Math.min(s.layer, set.info.layers - 1);
    const head = Math.min(s.head, heads - 1);
    const k = set.keys[layer];
    const v = set.values[layer];
    const cfg = this.quantConfigs();
    const qkey = `${layer}|${JSON.stringify(cfg)}`;
    if (requantize || qkey !== this.#quantKey || !this.#kHat) {
      try {
        this.#kHat = fakeQuantizeInto(k, cfg.key, this.#pool.get(k, cfg.key, 'k')).dequantized;
        this.#vHat = fakeQuantizeInto(v, cfg.value, this.#pool.get(v, cfg.value, 'v')).dequantized;
      } catch (err) {
        this.status.error(`These settings cannot quantize this cache: ${(err as Error).message} Pick another group size or axis.`);
        return;
      }
      this.#quantKey = qkey;
    }
    const tQuant = performance.now();
    const T = k.tokens;
    // A dump holds queries of the last positions only (set.queriesFrom on): offer and use those.
    const from = set.queriesFrom ?? 0;
    const query = Math.max(from, resolveQuery(s.query, T));
    if (this.#queryValues.length !== T - from || this.#queryValues[0] !== from)
      this.#queryValues = Array.from({ length: T - from }, (_, i) => from + i);
    this.#query.setValues(this.#queryValues, query);
    const need = kvHeads * T * k.headDim;
    if (this.#scratch.k.length < need)
      this.#scratch = { k: new Float32Array(need), v: new Float32Array(need), kHat: new Float32Array(need), vHat: new Float32Array(need) };
    const view = computeAttention({
      q: from ? padQueries(set.queries[layer], T, from) : set.queries[layer],
      k,
      v,
      kHat: this.#kHat,
      vHat: this.#vHat!,
      query,
      head,
      scratch: this.#scratch,
    });
    this.#view = view;
    const tAttn = performance.now();
    const tokens = set.tokens;
    const changes = topChanges(view.ref, view.hat, tokens, 5);
    const kvHead = kvHeadOf(head, heads, kvHeads);
    const quant = `${s.bits}-bit ${s.method} keys (${s.kaxis === 'channel' ? 'per channel' : 'per token'}) and values (${s.vaxis === 'channel' ? 'per channel' : 'per token'}), groups of ${s.group}`;
    this.dataset.kl = String(view.head.kl);
    this.dataset.tv = String(view.head.tv);
    this.dataset.outErr = String(view.head.outputRelError);
    this.dataset.layerKl = String(view.layer.kl);
    this.dataset.layerTv = String(view.layer.tv);
    this.dataset.layerOutErr = String(view.layer.outputRelError);
    this.dataset.query = String(query);
    const setMetric = (name: string, value: string) => (this.#metricValues.get(name)!.textContent = value);
    setMetric('kl', `${num(view.head.kl)} nats`);
    setMetric('tv', pct(view.head.tv));
    setMetric('out', pct(view.head.outputRelError));
    setMetric('layer-kl', `${num(view.layer.kl)} nats`);
    setMetric('layer-tv', pct(view.layer.tv));
    setMetric('layer-out', pct(view.layer.outputRelError));
    if (this.#metrics.childElementCount !== this.#metricEls.length) this.#metrics.replaceChildren(...this.#metricEls);
    this.#summary.textContent = summaryText({ head, kvHead, layer, query, queryToken: tokens[query] ?? '', view, changes, quant });
    const diff = new Float64Array(view.ref.length);
    for (let i = 0; i < diff.length; i++) diff[i] = view.hat[i] - view.ref[i];
    this.drawCharts({ view, diff, tokens, query, head, quant });
    let m = 0;
    for (const d of diff) m = Math.max(m, Math.abs(d));
    drawHeatmap(this.#strip, diff, 1, diff.length, { scheme: 'diverging', domain: [-(m || 1e-6), m || 1e-6] });
    this.#strip.setAttribute('role', 'img');
    this.#strip.setAttribute('aria-label', 'Colour strip of the attention difference per past token, red gained, blue lost.');
    this.renderChanges(changes);
    this.#table.refresh();
    this.dataset.tokens = String(T);
    this.dataset.source = set.exampleId ?? 'live';
    const tEnd = performance.now();
    this.lastRedrawMs = tEnd - t0;
    this.dataset.redrawMs = this.lastRedrawMs.toFixed(2);
    this.dataset.redrawSplit = `quantize ${(tQuant - t0).toFixed(1)} ms, attention ${(tAttn - tQuant).toFixed(1)} ms, draw ${(tEnd - tAttn).toFixed(1)} ms`;
    this.dataset.rendered = String(Number(this.dataset.rendered ?? 0) + 1);
    this.dispatchEvent(
      new CustomEvent('kv-rendered', { detail: { phases: { quantize: tQuant - t0, attention: tAttn - tQuant, draw: tEnd - tAttn } } }),
    );
  }

  /** The three Plot charts (original, quantized on a shared y scale; difference). */
  private drawCharts(c: ChartInputs): void {
    this.#charts = c;
    const width = chartWidth(this.bodyWidth);
    this.#drawnWidth = width;
    const { view, diff, tokens, query, head, quant } = c;
    let yMax = 0;
    for (let i = 0; i < view.ref.length; i++) yMax = Math.max(yMax, view.ref[i], view.hat[i]);
    yMax = yMax || 1;
    this.#refChart.render(
      attentionChart({
        values: view.ref,
        tokens,
        yMax,
        width,
        title: 'Original',
        fill: colour('grey'),
        label: `Attention of token ${query} (query head ${head}) over ${query + 1} past tokens with the original keys and values.`,
      }),
    );
    this.#hatChart.render(
      attentionChart({
        values: view.hat,
        tokens,
        yMax,
        width,
        title: 'Quantized',
        fill: colour('blue'),
        label: `The same attention with ${quant}.`,
      }),
    );
    this.#diffChart.render(diffChart({ values: diff, tokens, width }));
  }

  private renderChanges(c: ReturnType<typeof topChanges>): void {
    const list = (title: string, items: typeof c.gained, sign: string) => {
      const ol = el('ol');
      for (const it of items)
        ol.append(
          el('li', {
            textContent: `#${it.index} “${showToken(it.token)}”: ${pct(it.ref)} → ${pct(it.hat)} (${sign}${(Math.abs(it.delta) * 100).toFixed(2)} points)`,
          }),
        );
      if (!items.length) ol.append(el('li', { textContent: 'none' }));
      return el('div', {}, el('p', { className: 'attn-list-title', textContent: title }), ol);
    };
    this.#changes.replaceChildren(list('Gained the most attention', c.gained, '+'), list('Lost the most attention', c.lost, '−'));
  }

  private table() {
    const set = this.#set;
    const v = this.#view;
    if (!set || !v) return { caption: 'No data yet', columns: [], rows: [] };
    const rows = Array.from(v.ref, (p, i) => [i, showToken(set.tokens[i] ?? ''), p, v.hat[i], v.hat[i] - p] as Array<string | number>);
    return {
      caption: `Attention of token ${resolveQuery(this.state.query, set.tokens.length)}, query head ${this.state.head}, layer ${this.state.layer}`,
      columns: ['Index', 'Token', 'Original', 'Quantized', 'Difference'],
      rows,
    };
  }
}

if (!customElements.get('kv-attention')) customElements.define('kv-attention', KvAttention);
