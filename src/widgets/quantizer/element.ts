import { KvWidget } from '../shared/base';
import { el, formatBytes, formatNumber, tableToggle } from '../shared/controls';
import { tensorPicker, type TensorPicker } from '../shared/tensor-picker';
import type { TensorSet } from '../shared/tensors';
import { layerLabel } from '../shared/dump-source';
import { ENGINE_FORMAT_NOTES, engineFormatInfo } from '../../lib/quant/index';
import { clampToModel } from '../kv-explorer/state';
import {
  cacheMemory,
  formatFor,
  formatMemory,
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
import { QUANTIZER_BITS, quantizerCodec, type QuantizerState } from './state';
import type { PrefetchItem } from './protocol';
import { SweepClient } from './sweep-client';
import { HeatmapPanels } from './heatmaps';
import { ErrorHistogram } from './histogram';
import { FormatStructure } from './structure';
import { MetricsTable } from './metrics-table';
import { buildControls, controlRoots, range, showEngineControls, syncControls, type QuantizerControls } from './controls';
import { checkInTransformers } from '../shared/transformers-check';
import { showTransformersCheck } from '../shared/transformers-check-view';
import { describeKv, formatMemorySummary, memoryParts, memorySummary, metricRows } from './view';

type Name = (typeof quantizerCodec.names)[number];
type Whole = Metrics & { errors: string[] };

/** How long the settings must rest before the whole-cache metrics are computed (see requestWhole). */
const WHOLE_DELAY_MS = 120;
/** New tokens assumed when checking the settings against Transformers (`generate(max_new_tokens=256)`). */
const TRANSFORMERS_NEW_TOKENS = 256;

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
  #memBar = el('div', { className: 'mem-bar' });
  #memSummary = el('p', { className: 'chart-summary' });
  /** What Transformers would do with these settings on this prompt (or why they are not a Transformers setting). */
  #transformers = el('div', { className: 'tf-check' });
  #memTable = tableToggle(() => this.memoryTable());
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
    this.#ctl = buildControls(
      () => this.state,
      set,
      (v) => layerLabel(this.#set, v),
    );
    this.controlsEl.append(this.#picker.root, ...controlRoots(this.#ctl));
    this.addEventListener('kv-state', () => syncControls(this.#ctl!, this.state));
    showEngineControls(this.#ctl, this.state);

    this.#memBar.setAttribute('aria-hidden', 'true');
    const memHeading = el('p', {
      className: 'chart-heading',
      textContent: 'Memory of the whole cache (keys and values, all layers), as a share of fp16',
    });
    const memKey = el('p', { className: 'mem-key' });
    memKey.setAttribute('aria-hidden', 'true');
    for (const [label, colour] of [
      ['payload', '#0b57d0'],
      ['scales and zeros', '#e8a33d'],
      ['residual (fp16)', '#6b6b6b'],
    ]) {
      const sw = el('span', { className: 'swatch' });
      sw.style.background = colour;
      memKey.append(el('span', {}, sw, label));
    }
    this.bodyEl.append(
      this.#heatmaps.root,
      this.#heatmaps.legends,
      this.#heatmaps.summary,
      this.#hist.root,
      this.#hist.table.root,
      this.#structure.root,
      this.#metrics.root,
      this.#metrics.summary,
      this.#transformers,
      memHeading,
      memKey,
      this.#memBar,
      this.#memSummary,
      this.#memTable.root,
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
    const engine = [...new Set([qk.error, qv.error].filter((x): x is string => !!x))];
    this.#engineNotes = engine.map((m) => `${m}. Showing ${describeKv(qk.error ? qk.used : qv.used)} instead.`);
    if (s.engine === 'llamacpp' && s.vfmt !== 'f16') this.#engineNotes.push(`${ENGINE_FORMAT_NOTES.llamaCppQuantizedV}.`);
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

    // Would Transformers run this? (prompt = these tokens, then TRANSFORMERS_NEW_TOKENS generated ones)
    if (s.engine === 'transformers')
      showTransformersCheck(this.#transformers, checkInTransformers(s, set.info, set.tokens.length, TRANSFORMERS_NEW_TOKENS - 1));
    else {
      // an engine format: its command-line flags instead of the Transformers verdict
      this.#transformers.hidden = false;
      this.#transformers.dataset.check = 'engine';
      delete this.#transformers.dataset.verdict;
      this.#transformers.replaceChildren(el('p', { className: 'note', textContent: this.engineFlags() }));
    }

    // Memory for this model and prompt length.
    const fk = formatFor(s, 'k');
    const fv = formatFor(s, 'v');
    const mem =
      s.engine === 'transformers' ? cacheMemory(set.info, set.tokens.length, s) : formatMemory(set.info, set.tokens.length, fk, fv);
    const parts = memoryParts(mem);
    const colours: Record<string, string> = { payload: '#0b57d0', 'scales and zeros': '#e8a33d', 'residual (fp16)': '#6b6b6b' };
    this.#memBar.replaceChildren(
      ...parts.map((p) => {
        const seg = el('span', { className: 'mem-seg' });
        seg.style.width = `${(p.fraction * 100).toFixed(3)}%`;
        seg.style.background = colours[p.part];
        seg.title = `${p.part}: ${formatBytes(p.bytes)}`;
        return seg;
      }),
      el('span', { className: 'mem-label', textContent: `${formatBytes(mem.total)} of ${formatBytes(mem.fp16Total)} (fp16)` }),
    );
    this.#memBar.dataset.total = String(mem.total);
    const label = (f: typeof fk) => (f ? engineFormatInfo(f.format).label : 'f16');
    this.#memSummary.textContent =
      s.engine === 'transformers'
        ? memorySummary(mem, { tokens: set.tokens.length, bits: s.bits, residual: s.residual, fmt: formatBytes })
        : formatMemorySummary(mem, { tokens: set.tokens.length, k: label(fk), v: label(fv), fmt: formatBytes });
    this.#memBar.dataset.bpe = String(mem.bitsPerElement);
    this.#mem = mem;
    this.#memTable.refresh();
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

  #mem?: ReturnType<typeof cacheMemory>;

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

  /** The engine's command-line flags for the chosen format (ENGINE_FORMATS' spellings). */
  private engineFlags(): string {
    const s = this.state;
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

  private memoryTable() {
    const m = this.#mem;
    if (!m) return { caption: 'Memory', columns: ['Part'], rows: [] };
    return {
      caption: 'Memory of the whole cache for this prompt (bytes)',
      columns: ['Part', 'Bytes', 'Share of fp16'],
      rows: [
        ...memoryParts(m).map((p) => [p.part, p.bytes, `${(p.fraction * 100).toFixed(1)} %`] as Array<string | number>),
        ['total', m.total, `${((m.total / m.fp16Total) * 100).toFixed(1)} %`],
        ['fp16 cache', m.fp16Total, '100 %'],
      ],
    };
  }
}

void formatNumber;

if (!customElements.get('kv-quantizer')) customElements.define('kv-quantizer', KvQuantizer);
