import { KvWidget } from '../shared/base';
import { tensorPicker, type TensorPicker } from '../shared/tensor-picker';
import type { TensorSet } from '../shared/tensors';
import { layerLabel } from '../shared/dump-source';
import { clampToModel } from '../kv-explorer/state';
import {
  headAndLayerMetrics,
  isFormat,
  neighbourSettings,
  quantFor,
  Requantizer,
  ResultCache,
  resultKey,
  wholeCacheMetrics,
  type KvQuant,
  type Metrics,
} from './model';
import { presetOf, QUANTIZER_BITS, quantizerCodec, type QuantizerState } from './state';
import type { PrefetchItem } from './protocol';
import { SweepClient } from './sweep-client';
import { describeKv, metricRows } from './view';
// The widget's parts, each in its own module; this file wires the state and the loaded tensors to them.
import { buildControls, controlRoots, showEngineControls, stateControls, type QuantizerControls } from './controls';
import { range } from '../shared/layer-head';
import { HeatmapPanels } from './heatmaps';
import { ErrorHistogram } from './histogram';
import { FormatStructure } from './structure';
import { MetricsTable } from './metrics-table';
import { EngineCheck, engineNotes } from './engine-check';
import { MemoryPanel, memoryFor } from './memory';

type Name = (typeof quantizerCodec.names)[number];
type Whole = Metrics & { errors: string[] };

/** How long the settings must rest before the whole-cache metrics are computed (see requestWhole). */
const WHOLE_DELAY_MS = 120;

/**
 * <kv-quantizer>: quantize a prompt's real keys and values with any bits, group size,
 * axis (keys and values separately) and method; original, dequantized and signed
 * error heatmaps, an error histogram, metrics for the head, the layer and the whole
 * cache (in a worker), and the memory split into payload, scales/zeros and residual.
 */
export class KvQuantizer extends KvWidget<Name, QuantizerState> {
  static observedAttributes = [...quantizerCodec.names];
  readonly codec = quantizerCodec;
  readonly widgetTitle = 'Quantizer playground';
  #picker!: TensorPicker;
  #ctl?: QuantizerControls;
  /** Format structure: the value grid against the head's histogram (FP8, NVFP4) and the block layout text. */
  #structure = new FormatStructure();
  #set?: TensorSet;
  #setId = 0;
  /** Slow (HQQ) results: computed here or prefetched by the worker for the settings one step away. */
  #cache = new ResultCache();
  #q = new Requantizer(this.#cache);
  /** Original, dequantized and error heatmaps of the shown head, with legends and summary. */
  #heatmaps = new HeatmapPanels();
  /** Error histogram of the shown head, with its table. */
  #hist = new ErrorHistogram();
  /** Metrics of head, layer and whole cache, and the sentence under them. */
  #metrics = new MetricsTable();
  /** The Transformers verdict, or the engine's flags for an engine format. */
  #check = new EngineCheck();
  /** Memory of the whole cache as a share of fp16. */
  #memory = new MemoryPanel();
  #engineNotes: string[] = [];
  #clampNotes: string[] = [];
  #renders = 0;
  // Whole-cache metrics
  #whole: Whole | null = null;
  #wholeKey = '';
  #wholeSeq = 0;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<QuantizerState>) => this.setState(patch);
    this.#picker = tensorPicker({
      prompt: s.prompt,
      model: s.model,
      status: this.status,
      onTensors: (t) => this.setTensors(t),
      onPrompt: (p) => set({ prompt: p }),
    });
    const describeLayer = (v: number) => layerLabel(this.#set, v);
    this.#ctl = buildControls(() => this.state, set, describeLayer);
    this.controlsEl.append(this.#picker.root, ...controlRoots(this.#ctl));
    this.bindControls(stateControls(this.#ctl));
    this.addEventListener('kv-state', () => {
      this.#ctl!.preset.set(presetOf(this.state));
      showEngineControls(this.#ctl, this.state);
    });
    showEngineControls(this.#ctl, this.state);

    this.bodyEl.append(
      this.#heatmaps.root,
      this.#heatmaps.legends,
      this.#heatmaps.summary,
      this.#hist.root,
      this.#hist.table.root,
      this.#structure.root,
      this.#metrics.root,
      this.#metrics.summary,
      this.#check.root,
      ...this.#memory.roots,
    );
  }

  /** A new width redraws the histogram at once. */
  protected override onBodyResize(w: number): void {
    this.#hist.resize(w);
  }

  /**
   * Byte budget of the result cache (default 48 MiB). 0 turns caching and prefetching off: the benchmark uses it
   * to time first visits of a setting.
   */
  get resultCacheBytes(): number {
    return this.#cache.limitBytes;
  }
  set resultCacheBytes(n: number) {
    this.#cache.limitBytes = Math.max(0, n);
    if (n <= 0) this.#cache.clear();
  }

  /** Results held in the cache (computed here or prefetched by the worker); for tests. */
  get resultCacheEntries(): number {
    return this.#cache.size;
  }

  private setTensors(set: TensorSet): void {
    this.#set = set;
    this.#setId++;
    this.#cache.clear();
    this.#wholeKey = '';
    this.runUpdate('all');
  }

  private where(): { layer: number; head: number } {
    const c = clampToModel(this.state, this.#set!.info);
    this.#clampNotes = c.notes;
    return c;
  }

  private showNotes(): void {
    this.noteView.show([...this.notes, ...this.#clampNotes, ...this.#engineNotes]);
  }

  protected update(changed: ReadonlySet<Name> | 'all'): void {
    if (changed !== 'all' && changed.has('prompt')) this.#picker.applyPrompt(this.state.prompt);
    showEngineControls(this.#ctl, this.state);
    const set = this.#set;
    if (!set) return;
    const s = this.state;
    const { layer, head } = this.where();
    if (changed === 'all') {
      this.#ctl!.layer.setValues(range(set.info.layers), layer);
      this.#ctl!.head.setValues(range(set.info.kvHeads), head);
    }
    const tStart = performance.now();
    const keys = set.keys[layer];
    const values = set.values[layer];
    const kcfg = quantFor(s, 'k');
    const vcfg = quantFor(s, 'v');
    const keyOf = (kind: 'k' | 'v', q: KvQuant | null) => (q && !isFormat(q) ? resultKey(this.#setId, layer, kind, q) : undefined);
    const qk = this.#q.run('k', keys, kcfg, keyOf('k', kcfg));
    const qv = this.#q.run('v', values, vcfg, keyOf('v', vcfg));
    this.#engineNotes = engineNotes(s, qk, qv);
    this.showNotes();

    const tQuant = performance.now();
    // Metrics of the head and the layer, both tensors.
    const { head: kHead, layer: kLayer } = headAndLayerMetrics(keys, qk.dequantized, head);
    const { head: vHead, layer: vLayer } = headAndLayerMetrics(values, qv.dequantized, head);

    const tMetrics = performance.now();
    // Heatmaps of the chosen tensor.
    const t = s.tensor === 'k' ? keys : values;
    const q = s.tensor === 'k' ? qk : qv;
    const { eDomain, exact, name } = this.#heatmaps.draw({
      tensor: s.tensor,
      t,
      dequantized: q.dequantized,
      used: q.used,
      layer,
      head,
      maxAbsError: (s.tensor === 'k' ? kHead : vHead).maxAbsError,
    });
    const b = this.#heatmaps.buf;

    const tHeat = performance.now();
    this.#hist.show(b.err, eDomain, name, exact, this.bodyWidth);
    this.#structure.show(t, head, isFormat(q.used) ? q.used : null, name, b.orig, this.bodyWidth);
    const tHist = performance.now();

    // Metrics table (whole cache filled in by the worker), and the next likely settings quantized ahead.
    this.requestWhole(kcfg, vcfg);
    this.requestPrefetch(layer);
    this.#metrics.setRows(metricRows({ layer, head, kHead, kLayer, vHead, vLayer, whole: this.#whole }));
    this.fillMetrics();

    // Would Transformers run this? (prompt = these tokens, then 256 generated ones), or the engine's flags.
    this.#check.show(s, set.info, set.tokens.length);

    // Memory for this model and prompt length.
    const { mem, summary } = memoryFor(s, set.info, set.tokens.length);
    this.#memory.show(mem, summary);
    const tEnd = performance.now();
    this.markRendered({
      quantize: tQuant - tStart,
      metrics: tMetrics - tQuant,
      heatmaps: tHeat - tMetrics,
      histogram: tHist - tHeat,
      tables: tEnd - tHist,
      total: tEnd - tStart,
    });
  }

  private fillMetrics(): void {
    const s = this.state;
    const { layer, head } = this.#set ? this.where() : { layer: s.layer, head: s.head };
    this.#metrics.fill({ tensor: s.tensor, layer, headIndex: head, config: describeKv(quantFor(s, s.tensor)), whole: this.#whole });
  }

  /** Redraw finished: a counter attribute and an event with the phase timings in ms (bench/browser reads them). */
  private markRendered(phases: Record<string, number>): void {
    this.dataset.rendered = String(++this.#renders);
    this.dispatchEvent(new CustomEvent('kv-rendered', { detail: { count: this.#renders, phases } }));
  }

  // ---------------------------------------------------------------- whole cache (worker)

  /**
   * Whole-cache metrics for (kcfg, vcfg), started once the settings have rested for WHOLE_DELAY_MS: while a reader
   * steps through settings (a held arrow key repeats every ~30 ms) the row says "computing…" and the CPU stays
   * free for redraws (an HQQ whole-cache run is 16 quantizations, ~50–200 ms of worker time, competing with the
   * page on a 2-core machine).
   */
  private requestWhole(kcfg: KvQuant | null, vcfg: KvQuant | null): void {
    const set = this.#set!;
    const key = `${this.#setId}:${JSON.stringify([kcfg, vcfg])}`;
    if (key === this.#wholeKey) return;
    this.#wholeKey = key;
    this.#whole = null;
    this.dataset.whole = 'computing';
    const seq = ++this.#wholeSeq;
    clearTimeout(this.#wholeTimer);
    this.#wholeTimer = setTimeout(() => {
      if (seq !== this.#wholeSeq) return;
      if (this.#sweep.run(String(this.#setId), set, seq, kcfg, vcfg)) return;
      // No worker (blocked by the page): compute on the main thread.
      try {
        this.wholeDone(seq, wholeCacheMetrics(set.keys, set.values, kcfg, vcfg));
      } catch (err) {
        this.fail(err);
      }
    }, WHOLE_DELAY_MS);
  }

  #wholeTimer?: ReturnType<typeof setTimeout>;

  /**
   * For slow methods: asks the worker to quantize the settings one step away (model.ts neighbourSettings) that
   * the cache lacks; a newer request replaces the list. Nothing without a worker or with caching off.
   */
  private requestPrefetch(layer: number): void {
    if (this.#cache.limitBytes <= 0 || !this.#set || this.state.engine !== 'transformers') return;
    const items: PrefetchItem[] = neighbourSettings(this.state, layer, this.#set.info.layers, QUANTIZER_BITS)
      .map((n) => ({ ...n, key: resultKey(this.#setId, n.layer, n.kind, n.cfg) }))
      .filter((n, i, all) => !this.#cache.has(n.key) && all.findIndex((m) => m.key === n.key) === i);
    this.#sweep.prefetch(String(this.#setId), this.#set, items);
  }

  /** The worker client; its answers land here. */
  #sweep = new SweepClient({
    quantized: (id, key, r) => {
      if (id === String(this.#setId)) this.#cache.put(key, r);
    },
    progress: (seq, done, total) => {
      if (seq === this.#wholeSeq) this.status.set('Computing the whole-cache metrics…', { done, total });
    },
    result: (seq, metrics) => this.wholeDone(seq, metrics),
    error: (seq, message) => {
      if (seq === this.#wholeSeq) this.status.error(`The whole-cache metrics failed: ${message} Try other settings.`);
    },
    lost: () => {
      this.#wholeKey = '';
      this.status.set('Whole-cache metrics are computed on the page (the worker could not start).');
      this.runUpdate('all');
    },
  });

  private wholeDone(seq: number, metrics: Whole): void {
    if (seq !== this.#wholeSeq) return;
    this.#whole = metrics;
    this.dataset.whole = 'done';
    this.#metrics.setWhole(metrics);
    this.fillMetrics();
    this.status.set('');
    this.dispatchEvent(new CustomEvent('kv-whole', { detail: metrics }));
  }
}

if (!customElements.get('kv-quantizer')) customElements.define('kv-quantizer', KvQuantizer);
