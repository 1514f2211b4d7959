import * as Plot from '@observablehq/plot';
import { KvWidget } from '../shared/base';
import { el, followIndex, formatNumber, rangeControl, tableToggle, type RangeControl } from '../shared/controls';
import { drawHeatmap, extentOf, type Scheme } from '../shared/heatmap';
import { tensorPicker, type TensorPicker } from '../shared/tensor-picker';
import { layerLabel } from '../shared/dump-source';
import type { TensorSet } from '../shared/tensors';
import { clampToModel, explorerCodec, type ExplorerState } from './state';
import {
  argmax,
  cellAt,
  channelMaxAbs,
  headByChannel,
  hoverText,
  outlierRatio,
  overviewOptions,
  overviewRatios,
  overviewRows,
  overviewSummary,
  profileOptions,
  profileRows,
  profileSummary,
} from './view';

type Name = (typeof explorerCodec.names)[number];
type Kind = 'keys' | 'values';

interface HeatPanel {
  kind: Kind;
  canvas: HTMLCanvasElement;
  legend: HTMLElement;
  legendKey: string;
  buffer: Float32Array;
  caption: HTMLElement;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * <kv-explorer>: a prompt's real keys and values for one layer and KV head as
 * channel × token heatmaps, their per-channel magnitude profiles (key outlier
 * channels), and every layer's profiles as small multiples.
 */
export class KvExplorer extends KvWidget<Name, ExplorerState> {
  static observedAttributes = [...explorerCodec.names];
  readonly codec = explorerCodec;
  readonly widgetTitle = 'KV explorer';
  #picker!: TensorPicker;
  #layer!: RangeControl<number>;
  #head!: RangeControl<number>;
  #set?: TensorSet;
  #panels: HeatPanel[] = [];
  #readout = el('p', { className: 'hover-readout' });
  #summary = el('p', { className: 'chart-summary' });
  #profile = el('div', { className: 'plot' });
  #overviewSummary = el('p', { className: 'chart-summary' });
  #overview = el('div', { className: 'plot' });
  #overviewKey = '';
  #tokensTable = tableToggle(() => this.tokensTable());
  #channelsTable = tableToggle(() => this.channelsTable());
  #clampNotes: string[] = [];
  /** Legends by scheme and domain: revisiting a layer reuses its legend. */
  #legendCache = new Map<string, Element>();
  #renders = 0;

  protected build(): void {
    const s = this.state;
    this.#picker = tensorPicker({
      prompt: s.prompt,
      model: s.model,
      status: this.status,
      onTensors: (set) => this.setTensors(set),
      onPrompt: (p) => this.setState({ prompt: p } as Partial<ExplorerState>),
    });
    this.#layer = rangeControl({
      name: 'layer',
      label: 'Layer',
      values: range(Math.max(8, s.layer + 1)),
      value: s.layer,
      describe: (v) => layerLabel(this.#set, v),
      onChange: (v) => this.setState({ layer: v }),
    });
    this.#head = rangeControl({
      name: 'head',
      label: 'KV head',
      values: range(Math.max(2, s.head + 1)),
      value: s.head,
      describe: (v) => `KV head ${v}`,
      onChange: (v) => this.setState({ head: v }),
    });
    this.controlsEl.append(this.#picker.root, this.#layer.root, this.#head.root);
    this.bindControls({ layer: followIndex(this.#layer), head: followIndex(this.#head) });

    const heat = el('div', { className: 'kv-heatmaps' });
    for (const kind of ['keys', 'values'] as const) {
      const canvas = el('canvas', { className: 'heatmap' });
      canvas.setAttribute('role', 'img');
      // Named from the start: the first draw waits for tensors, and an unnamed role=img fails WCAG 1.1.1 meanwhile.
      canvas.setAttribute('aria-label', `Heatmap of the ${kind} (drawing…)`);
      const legend = el('div', { className: 'legend' });
      const caption = el('figcaption');
      const wrap = el('div', { className: 'heatmap-wrap' }, canvas);
      const panel: HeatPanel = { kind, canvas, legend, legendKey: '', buffer: new Float32Array(0), caption };
      canvas.addEventListener('pointermove', (e) => this.hover(panel, e));
      canvas.addEventListener('pointerleave', () => (this.#readout.textContent = 'Point at a heatmap to read a token, channel and value.'));
      heat.append(el('figure', { className: 'heatmap-figure' }, caption, wrap, legend));
      this.#panels.push(panel);
    }
    this.#readout.textContent = 'Point at a heatmap to read a token, channel and value (the token list is in the table below).';
    this.#readout.setAttribute('aria-hidden', 'true');
    const overviewHeading = el('p', {
      className: 'chart-heading',
      textContent: 'Every layer: channel magnitudes of keys (top) and values (bottom)',
    });
    this.bodyEl.append(
      heat,
      this.#readout,
      this.#summary,
      this.#profile,
      this.#channelsTable.root,
      overviewHeading,
      this.#overviewSummary,
      this.#overview,
      this.#tokensTable.root,
    );
  }

  private setTensors(set: TensorSet): void {
    // The picker's progress messages ("Running the prompt through the model…") end with the result; clear
    // them here, before the redraw (the picker then writes a truncation notice, if any).
    this.status.set('');
    this.#set = set;
    this.#overviewKey = '';
    this.runUpdate('all');
  }

  /** Layer and head valid for the loaded model (notes for replaced values). */
  private where(): { layer: number; head: number } {
    const info = this.#set!.info;
    const c = clampToModel(this.state, info);
    const notes = [...this.notes, ...c.notes];
    if (c.notes.join() !== this.#clampNotes.join()) {
      this.#clampNotes = c.notes;
      this.noteView.show(notes);
    }
    return c;
  }

  protected update(changed: ReadonlySet<Name> | 'all'): void {
    if (changed !== 'all' && changed.has('prompt')) this.#picker.applyPrompt(this.state.prompt);
    const set = this.#set;
    if (!set) return;
    const { layer, head } = this.where();
    if (changed === 'all') {
      this.#layer.setValues(range(set.info.layers), layer);
      this.#head.setValues(range(set.info.kvHeads), head);
    }
    const tStart = performance.now();
    const keys = set.keys[layer];
    const values = set.values[layer];
    const T = keys.tokens;
    const D = keys.headDim;
    for (const p of this.#panels) {
      const t = p.kind === 'keys' ? keys : values;
      p.buffer = headByChannel(t, head, p.buffer);
      const [lo, hi] = extentOf(p.buffer);
      const scheme: Scheme = p.kind === 'keys' ? 'cividis' : 'viridis';
      drawHeatmap(p.canvas, p.buffer, D, T, { scheme, domain: [lo, hi] });
      const name = p.kind === 'keys' ? 'Keys' : 'Values';
      p.caption.textContent = `${name}, layer ${layer}, KV head ${head}: ${D} channels (rows) × ${T} tokens (columns)`;
      p.canvas.setAttribute(
        'aria-label',
        `Heatmap of the ${p.kind} of layer ${layer}, KV head ${head}: ${D} channels by ${T} tokens, values from ${lo.toFixed(2)} to ${hi.toFixed(2)}. The table below lists the tokens and channel magnitudes.`,
      );
      const key = `${scheme}:${lo.toPrecision(3)}:${hi.toPrecision(3)}`;
      if (key !== p.legendKey) {
        p.legendKey = key;
        let legend = this.#legendCache.get(key);
        if (!legend) {
          legend = Plot.legend({
            color: { type: 'linear', scheme, domain: [lo, hi], label: `${name} value` },
            width: 240,
          } as unknown as Parameters<typeof Plot.legend>[0]) as Element;
          if (this.#legendCache.size > 64) this.#legendCache.clear();
          this.#legendCache.set(key, legend);
        }
        p.legend.setAttribute('role', 'img');
        p.legend.setAttribute('aria-label', `Colour legend for ${p.kind}: ${lo.toFixed(2)} to ${hi.toFixed(2)}`);
        p.legend.replaceChildren(legend);
      }
    }
    const tHeat = performance.now();
    const kp = channelMaxAbs(keys, head);
    const vp = channelMaxAbs(values, head);
    const keyRatio = outlierRatio(kp);
    const valueRatio = outlierRatio(vp);
    this.#summary.textContent = profileSummary({
      layer,
      head,
      keyRatio,
      valueRatio,
      keyChannel: argmax(kp),
      valueChannel: argmax(vp),
      tokens: T,
    });
    this.#summary.dataset.keyRatio = String(keyRatio);
    this.#summary.dataset.valueRatio = String(valueRatio);
    const width = Math.max(280, Math.min(720, this.bodyWidth || 640));
    this.#profile.replaceChildren(Plot.plot(profileOptions(profileRows(kp, vp), { width, layer, head })));
    const overviewKey = `${set.exampleId ?? set.prompt}:${head}:${width}`;
    if (overviewKey !== this.#overviewKey) {
      this.#overviewKey = overviewKey;
      this.#overviewSummary.textContent = overviewSummary(overviewRatios(set.keys, set.values, head), head);
      this.#overview.replaceChildren(
        Plot.plot(overviewOptions(overviewRows(set.keys, set.values, head), { width, head, layers: set.info.layers })),
      );
    }
    this.#tokensTable.refresh();
    this.#channelsTable.refresh();
    const tEnd = performance.now();
    this.markRendered({ heatmaps: tHeat - tStart, charts: tEnd - tHeat, total: tEnd - tStart });
  }

  /** Redraw finished: a counter attribute and an event with the phase timings in ms (bench/browser reads them). */
  private markRendered(phases: Record<string, number>): void {
    this.dataset.rendered = String(++this.#renders);
    this.dispatchEvent(new CustomEvent('kv-rendered', { detail: { count: this.#renders, phases } }));
  }

  private hover(p: HeatPanel, e: PointerEvent): void {
    const set = this.#set;
    if (!set) return;
    const r = p.canvas.getBoundingClientRect();
    const { layer, head } = this.where();
    const t = (p.kind === 'keys' ? set.keys : set.values)[layer];
    const cell = cellAt((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height, t.tokens, t.headDim);
    if (!cell) return;
    const value = t.data[(head * t.tokens + cell.token) * t.headDim + cell.channel];
    this.#readout.textContent = hoverText({
      tensor: p.kind,
      token: cell.token,
      tokenText: set.tokens[cell.token],
      channel: cell.channel,
      value,
    });
  }

  private tokensTable() {
    const set = this.#set;
    if (!set) return { caption: 'Tokens', columns: ['Token'], rows: [] };
    const { layer, head } = this.where();
    const k = set.keys[layer];
    const v = set.values[layer];
    const D = k.headDim;
    const norm = (t: typeof k, tok: number) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += t.data[(head * t.tokens + tok) * D + d] ** 2;
      return Math.sqrt(s);
    };
    return {
      caption: `Tokens of the prompt with the length of their key and value vectors (layer ${layer}, KV head ${head})`,
      columns: ['Position', 'Token', 'Key length ‖k‖', 'Value length ‖v‖'],
      rows: set.tokens.map((tok, i) => [i, JSON.stringify(tok), norm(k, i), norm(v, i)]),
    };
  }

  private channelsTable() {
    const set = this.#set;
    if (!set) return { caption: 'Channels', columns: ['Channel'], rows: [] };
    const { layer, head } = this.where();
    const kp = channelMaxAbs(set.keys[layer], head);
    const vp = channelMaxAbs(set.values[layer], head);
    return {
      caption: `Largest absolute value per channel, layer ${layer}, KV head ${head}`,
      columns: ['Channel', 'Keys max |x|', 'Values max |x|'],
      rows: Array.from(kp, (x, d) => [d, Number(formatNumber(x)), Number(formatNumber(vp[d]))]),
    };
  }
}

if (!customElements.get('kv-explorer')) customElements.define('kv-explorer', KvExplorer);
