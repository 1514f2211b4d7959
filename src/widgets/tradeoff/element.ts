import * as Plot from '@observablehq/plot';
import { KvWidget } from '../shared/base';
import { el, rangeControl, selectControl, tableToggle } from '../shared/controls';
import { tensorPicker, type TensorPicker } from '../shared/tensor-picker';
import type { TensorSet } from '../shared/tensors';
import { tradeoffCodec, type TradeoffState } from './state';
import { ATTENTION_QUERIES, sweepConfigs, type FormatPoint, type SweepInput, type SweepPoint, type TensorKind } from './sweep';
import type { SweepRequest, SweepResponse } from './protocol';
import { checkInTransformers } from '../shared/transformers-check';
import { showTransformersCheck } from '../shared/transformers-check-view';
import {
  chartOptions,
  currentConfig,
  describeConfig,
  errorOf,
  findPoint,
  formatSummaryText,
  panelFormats,
  panelPoints,
  pct,
  bpeText,
  summaryText,
  tableRows,
  type Metric,
} from './view';
import { spawnWorker } from '../../lib/portable-worker';
import { METHOD_OPTIONS } from '../shared/quant-controls';

type Name = (typeof tradeoffCodec.names)[number];

/**
 * <kv-tradeoff>: every combination of bits × group × axis × method on the real cache of the
 * current prompt (all layers), memory against error, with the Pareto frontier and the current
 * configuration marked. The sweep runs in a module worker (sweep.worker.ts) and streams points;
 * moving a configuration control only moves the marker.
 */
export class KvTradeoff extends KvWidget<Name, TradeoffState> {
  static observedAttributes = [...tradeoffCodec.names];
  readonly codec = tradeoffCodec;
  readonly widgetTitle = 'Error–memory trade-off';
  #summary = el('p', { className: 'chart-summary' });
  /** The current configuration checked against Transformers (prompt + 256 generated tokens, R = 128). */
  #transformers = el('div', { className: 'tf-check' });
  #chart = el('div', { className: 'plot tradeoff-chart' });
  #readout = el('p', { className: 'point-readout' });
  #table = tableToggle(() => this.table());
  #picker!: TensorPicker;
  #points: SweepPoint[] = [];
  /** Serving-engine formats (FP8, NVFP4, llama.cpp types), measured by worker 0 between the fast methods and HQQ. */
  #formats: FormatPoint[] = [];
  #hasQueries = false;
  #workers: Worker[] = [];
  #seq = 0;
  #focus = -1;
  #metricCtl!: ReturnType<typeof selectControl<string>>;
  #set?: TensorSet;
  /** Whether the running/finished sweep computes the attention-output error (only when that metric is shown: it is slow). */
  #sweepHasAttention = false;
  /** Timings of the last sweep (ms): fast methods (minmax, absmax) and HQQ. */
  lastSweep: { fastMs: number; hqqMs: number; total: number; tokens: number } | null = null;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<TradeoffState>) => this.setState(patch);
    this.#picker = tensorPicker({
      prompt: s.prompt,
      model: s.model,
      status: this.status,
      onTensors: (t) => this.startSweep(t),
      onPrompt: (p) => set({ prompt: p }),
    });
    const tensor = selectControl<string>({
      name: 'tensor',
      label: 'Tensor',
      options: [
        { value: 'k', label: 'Keys' },
        { value: 'v', label: 'Values' },
      ],
      value: s.tensor,
      onChange: (v) => set({ tensor: v as TensorKind }),
    });
    this.#metricCtl = selectControl<string>({
      name: 'metric',
      label: 'Error',
      options: [
        { value: 'tensor', label: 'Relative error of the tensor' },
        { value: 'attention', label: 'Attention-output error' },
      ],
      value: s.metric,
      onChange: (v) => set({ metric: v as Metric }),
    });
    const bits = rangeControl({
      name: 'bits',
      label: 'Bits',
      values: [1, 2, 3, 4, 8],
      value: s.bits,
      describe: (v) => `${v} bits, groups of ${this.state.group}`,
      short: (v) => `${v} bits`,
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
    const axisOptions = [
      { value: 'token', label: 'per token' },
      { value: 'channel', label: 'per channel' },
    ];
    const kaxis = selectControl<string>({
      name: 'kaxis',
      label: 'Key grouping',
      options: axisOptions,
      value: s.kaxis,
      onChange: (v) => set({ kaxis: v as TradeoffState['kaxis'] }),
    });
    const vaxis = selectControl<string>({
      name: 'vaxis',
      label: 'Value grouping',
      options: axisOptions,
      value: s.vaxis,
      onChange: (v) => set({ vaxis: v as TradeoffState['vaxis'] }),
    });
    const method = selectControl<string>({
      name: 'method',
      label: 'Method',
      // The method names every widget uses (shared/quant-controls.ts).
      options: METHOD_OPTIONS,
      value: s.method,
      onChange: (v) => set({ method: v as TradeoffState['method'] }),
    });
    this.controlsEl.append(
      this.#picker.root,
      tensor.root,
      this.#metricCtl.root,
      bits.root,
      group.root,
      kaxis.root,
      vaxis.root,
      method.root,
    );
    // KvWidget moves these to every new state (attribute, URL or control), as in the other widgets.
    this.bindControls({ tensor, metric: this.#metricCtl, bits, group, kaxis, vaxis, method });

    this.#chart.tabIndex = 0;
    this.#chart.setAttribute('role', 'group');
    this.#chart.setAttribute('aria-label', 'Trade-off chart: use the left and right arrow keys to move between points in order of memory');
    this.#chart.addEventListener('keydown', (e) => this.onChartKey(e));
    this.#chart.addEventListener('blur', () => {
      this.#focus = -1;
      this.draw();
    });
    this.#readout.setAttribute('aria-live', 'polite');
    this.bodyEl.append(this.#summary, this.#chart, this.#readout, this.#transformers, this.#table.root);
  }

  disconnectedCallback(): void {
    this.stopWorkers();
  }

  private metric(): Metric {
    return this.state.metric === 'attention' && this.#hasQueries ? 'attention' : 'tensor';
  }

  private panel(): SweepPoint[] {
    return panelPoints(this.#points, this.state.tensor, this.metric()).sort(
      (a, b) => a.bpe - b.bpe || errorOf(a, this.metric())! - errorOf(b, this.metric())!,
    );
  }

  private onChartKey(e: KeyboardEvent): void {
    const pts = this.panel();
    if (!pts.length) return;
    let i = this.#focus;
    if (e.key === 'ArrowRight' || e.key === 'ArrowUp') i = Math.min(pts.length - 1, i + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') i = Math.max(0, i < 0 ? 0 : i - 1);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = pts.length - 1;
    else return;
    e.preventDefault();
    this.#focus = i;
    this.draw();
  }

  private stopWorkers(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  /**
   * Start (or restart) the sweep for a new tensor set; a running sweep is cancelled. The configurations are
   * shared among one worker per core (up to 4; sweep.worker.ts): the page itself only draws meanwhile. Timings
   * are wall-clock from the start: fast methods done in every worker, then everything.
   */
  private startSweep(t: TensorSet): void {
    this.#set = t;
    this.stopWorkers();
    this.#points = [];
    this.#formats = [];
    delete this.dataset.formats;
    this.#focus = -1;
    const id = ++this.#seq;
    const input: SweepInput = { keys: t.keys, values: t.values, queries: t.queries };
    this.#hasQueries = !!t.queries && t.queries.length === t.keys.length;
    this.#metricCtl.select.querySelector<HTMLOptionElement>('option[value="attention"]')!.disabled = !this.#hasQueries;
    const total = sweepConfigs().length;
    const tokens = t.keys[0]?.tokens ?? 0;
    this.status.set(`Quantizing the whole cache (${t.keys.length} layers, ${tokens} tokens) in ${total} configurations…`, {
      done: 0,
      total,
    });
    this.draw();
    const parts = Math.max(1, Math.min(4, (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1));
    const workers: Worker[] = [];
    try {
      // spawnWorker: also starts on another site's page (the script-tag bundle), through a same-origin shim.
      for (let i = 0; i < parts; i++)
        workers.push(spawnWorker((Worker) => new Worker(new URL('./sweep.worker.ts', import.meta.url), { type: 'module' })));
    } catch (err) {
      for (const w of workers) w.terminate();
      if (workers.length === 0) {
        this.status.error(`The sweep could not start (${err instanceof Error ? err.message : String(err)}). Reload the page.`);
        return;
      }
    }
    this.#workers = workers;
    const n = workers.length;
    const t0 = performance.now();
    const done = new Array<number>(n).fill(0);
    let fastDone = 0;
    let finished = 0;
    let fastMs = 0;
    let phase: 'fast' | 'hqq' = 'fast';
    delete this.dataset.sweepDone;
    this.#sweepHasAttention = this.#hasQueries && this.state.metric === 'attention';
    workers.forEach((worker, part) => {
      worker.onmessage = (e: MessageEvent<SweepResponse>) => {
        const m = e.data;
        if (m.id !== id || this.#seq !== id) return;
        if (m.type === 'points') {
          this.#points.push(...m.points);
          done[part] = m.done;
          const all = done.reduce((a, b) => a + b, 0);
          this.status.set(
            phase === 'hqq'
              ? `HQQ (slower, iterative): ${all} of ${total} configurations…`
              : `Min-max and absmax: ${all} of ${total} configurations…`,
            { done: all, total },
          );
          this.drawSoon();
        } else if (m.type === 'formats') {
          this.#formats = m.points;
          this.dataset.formats = String(m.points.length);
          this.drawSoon();
        } else if (m.type === 'fastDone') {
          if (++fastDone === n) {
            fastMs = performance.now() - t0;
            phase = 'hqq';
          }
        } else if (m.type === 'done') {
          worker.terminate();
          if (++finished < n) return;
          const wall = performance.now() - t0;
          this.#workers = [];
          this.draw();
          this.lastSweep = { fastMs, hqqMs: wall - fastMs, total: wall, tokens };
          this.dataset.sweepFastMs = fastMs.toFixed(0);
          this.dataset.sweepHqqMs = (wall - fastMs).toFixed(0);
          this.dataset.sweepWorkers = String(n);
          this.dataset.sweepDone = 'true';
          this.status.set(
            `${this.#points.length} configurations in ${(wall / 1000).toFixed(1)} s (min-max and absmax ${(fastMs / 1000).toFixed(1)} s, HQQ ${((wall - fastMs) / 1000).toFixed(1)} s more; ${n} worker${n === 1 ? '' : 's'}).`,
          );
        } else {
          this.stopWorkers();
          this.status.error(`The sweep failed: ${m.message}. Try another prompt or reload the page.`);
        }
      };
      worker.onerror = (e) => {
        this.stopWorkers();
        this.status.error(`The sweep stopped: ${e.message || 'worker error'}. Reload the page.`);
      };
      const req: SweepRequest = { type: 'sweep', id, input, attention: this.#sweepHasAttention, part, parts: n };
      worker.postMessage(req);
    });
  }

  protected update(changed: ReadonlySet<Name> | 'all'): void {
    if (changed !== 'all' && changed.has('prompt')) this.#picker.applyPrompt(this.state.prompt);
    if (changed !== 'all' && (changed.has('tensor') || changed.has('metric'))) this.#focus = -1;
    // The attention-output error is computed only on request (it costs far more than the tensor error).
    if (
      changed !== 'all' &&
      changed.has('metric') &&
      this.state.metric === 'attention' &&
      this.#hasQueries &&
      !this.#sweepHasAttention &&
      this.#set
    ) {
      this.startSweep(this.#set);
      return;
    }
    this.draw();
  }

  /** Redraw from the points already computed (never re-runs the sweep). */
  #drawPending = false;
  /** One redraw per frame while points stream in from several workers. */
  private drawSoon(): void {
    if (this.#drawPending) return;
    this.#drawPending = true;
    requestAnimationFrame(() => {
      this.#drawPending = false;
      this.draw();
    });
  }

  private draw(): void {
    const s = this.state;
    const metric = this.metric();
    const notes = [...this.notes];
    if (s.metric === 'attention' && !this.#hasQueries && this.#set)
      notes.push('This cache has no exported queries, so only the tensor error can be shown.');
    if (s.method === 'absmax' && s.bits < 2)
      notes.push('absmax needs at least 2 bits (a sign bit): the current configuration is not marked.');
    this.noteView.show(notes);
    if (this.#set) {
      const info = this.#set.info;
      showTransformersCheck(this.#transformers, checkInTransformers({ ...s, residual: 128 }, info, this.#set.tokens.length, 255));
    }
    const pts = this.panel();
    const current = findPoint(pts, currentConfig(s, s.tensor));
    const focused = this.#focus >= 0 ? pts[this.#focus] : undefined;
    if (!pts.length) {
      this.#summary.textContent = this.#set ? 'Computing the first points…' : 'Waiting for the keys and values of the example.';
      this.#chart.replaceChildren();
      this.#readout.textContent = '';
      return;
    }
    const extra =
      metric === 'attention'
        ? ` (last ${ATTENTION_QUERIES} query tokens of every layer, only the ${s.tensor === 'k' ? 'keys' : 'values'} quantized)`
        : '';
    const formats = panelFormats(this.#formats, s.tensor, metric);
    this.#summary.textContent = summaryText(pts, s.tensor, metric, current) + extra + formatSummaryText(formats, pts, s.tensor, metric);
    const width = Math.max(300, Math.min(720, this.bodyEl.clientWidth || 640));
    this.#chart.replaceChildren(Plot.plot(chartOptions(pts, metric, s.tensor, current, focused, width, formats)));
    this.#readout.textContent = focused
      ? `Point ${this.#focus + 1} of ${pts.length}: ${describeConfig(focused)}, ${bpeText(focused.bpe)}, error ${pct(errorOf(focused, metric)!)}.`
      : '';
    if (current) {
      this.dataset.currentBpe = String(current.bpe);
      this.dataset.currentErr = String(errorOf(current, metric));
    } else {
      delete this.dataset.currentBpe;
      delete this.dataset.currentErr;
    }
    this.dataset.points = String(pts.length);
    this.#table.refresh();
  }

  private table() {
    const metric = this.metric();
    const pts = this.panel();
    const formats = panelFormats(this.#formats, this.state.tensor, metric);
    return {
      caption: `${pts.length} configurations${formats.length ? ` and ${formats.length} serving-engine formats` : ''} for the ${this.state.tensor === 'k' ? 'keys' : 'values'}, sorted by memory`,
      columns: [
        'Bits',
        'Group',
        'Axis',
        'Method',
        'Bits per element',
        metric === 'attention' ? 'Attention-output error' : 'Relative error',
        'Pareto',
      ],
      rows: tableRows(pts, metric, formats),
    };
  }
}

if (!customElements.get('kv-tradeoff')) customElements.define('kv-tradeoff', KvTradeoff);
