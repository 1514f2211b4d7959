import * as Plot from '@observablehq/plot';
import { KvWidget } from '../shared/base';
import { el, followSteps, rangeControl, selectControl, tableToggle, withStep } from '../shared/controls';
import { DEFAULT_MODEL_ID, catalogueEntry } from '../../lib/model/catalogue';
import { checkInTransformers } from '../shared/transformers-check';
import { showTransformersCheck } from '../shared/transformers-check-view';
import { residualCodec, RESIDUAL_MODEL_IDS, type ResidualState } from './state';
import { loadExample } from '../shared/tensors';
import type { KVTensor } from '../../lib/quant/index';
import {
  DRIFT_EXAMPLE,
  DRIFT_LAYER,
  DRIFT_PREFILL,
  driftChartOptions,
  driftRows,
  driftSummary,
  stridedGroupOptions,
  stridedGroupPoints,
  type DriftRow,
} from './view';
import {
  detailOptions,
  flushLog,
  formatBytesShort,
  memoryCount,
  overviewOptions,
  STATE_COLOR,
  STATE_LABEL,
  stepModel,
  stripRuns,
  summaryText,
  TOKEN_STATES,
  type StepModel,
} from './view';

type Name = (typeof residualCodec.names)[number];

const PREFILL_STEPS = [1, 2, 4, 8, 16, 32, 64, 100, 128, 192, 256, 384, 512, 768, 1024, 2048, 4096, 8192];
const R_STEPS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const SPEEDS = [1, 4, 16, 64, 256];
const withValue = withStep;
const pctCell = (e: number) => `${(e * 100).toFixed(2)} %`;
const range = (n: number) => Array.from({ length: n + 1 }, (_, i) => i);

/**
 * <kv-residual>: a step-through of a quantized cache during generation. Transformers'
 * QuantizedLayer (residual of R full-precision tokens, whole-cache re-quantization at
 * each flush) or KIVI's streaming cache. Counts come from residualSplit /
 * kiviResidualSplit, bytes from kvCacheBytes (src/lib/quant).
 */
export class KvResidual extends KvWidget<Name, ResidualState> {
  static observedAttributes = [...residualCodec.names];
  readonly codec = residualCodec;
  readonly widgetTitle = 'Residual cache step-through';
  #metrics = el('div', { className: 'metrics' });
  #summary = el('p', { className: 'chart-summary' });
  /** Transformers' verdict on this run (quanto, per token), or why KIVI's scheme is not a Transformers setting. */
  #transformers = el('div', { className: 'tf-check' });
  /** Re-quantization drift on real keys (loaded on first draw): chart, summary, table. */
  #driftChart = el('div', { className: 'plot' });
  #driftSummary = el('p', { className: 'drift-summary', textContent: 'Loading real keys for the drift panel…' });
  #driftTable = tableToggle(() => ({
    caption: `Relative error of the first ${DRIFT_PREFILL} keys after each flush`,
    columns: ['Flushes', 'Tokens quantized', 'quanto axis 0', 'HQQ axis 0', 'Quantized once'],
    rows: this.#driftRows.map((r) => [r.flush, r.tokens, pctCell(r.quanto), pctCell(r.hqq), pctCell(r.once)]),
  }));
  #groupChart = el('div', { className: 'plot' });
  #groupSummary = el('p', { className: 'group-summary' });
  #driftRows: DriftRow[] = [];
  #driftKeys?: KVTensor;
  #driftKey = '';
  #legend = el('ul', { className: 'residual-legend' });
  #overview = el('div', { className: 'plot' });
  #detail = el('div', { className: 'plot' });
  #log = el('ol', { className: 'flush-log' });
  #table = tableToggle(() => this.table());
  #model?: StepModel;
  #timer: ReturnType<typeof setInterval> | null = null;
  #play = el('button', { type: 'button', className: 'primary', textContent: 'Play' });
  #speed = 16;
  #stepCtl!: ReturnType<typeof rangeControl<number>>;
  #maxStep = 1024;
  lastRedrawMs = 0;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<ResidualState>) => this.setState(patch);
    const model = selectControl<string>({
      name: 'model',
      label: 'Model (memory count)',
      options: RESIDUAL_MODEL_IDS.map((id) => ({ value: id, label: catalogueEntry(id)?.label ?? id })),
      value: s.model,
      onChange: (v) => set({ model: v }),
    });
    const scheme = selectControl<string>({
      name: 'scheme',
      label: 'Scheme',
      options: [
        { value: 'transformers', label: 'Transformers QuantizedCache' },
        { value: 'kivi', label: 'KIVI streaming' },
      ],
      value: s.scheme,
      onChange: (v) => set({ scheme: v as ResidualState['scheme'] }),
    });
    const prefill = rangeControl({
      name: 'prefill',
      label: 'Prefill length',
      values: withValue(PREFILL_STEPS, s.prefill),
      value: s.prefill,
      describe: (v) => `${v.toLocaleString('en-US')} prompt tokens`,
      short: (v) => `${v.toLocaleString('en-US')} tokens`,
      onChange: (v) => set({ prefill: v }),
    });
    const residual = rangeControl({
      name: 'residual',
      label: 'Residual length R',
      values: withValue(R_STEPS, s.residual),
      value: s.residual,
      describe: (v) => `R = ${v} full-precision tokens`,
      short: (v) => `R = ${v}`,
      onChange: (v) => set({ residual: v }),
    });
    this.#maxStep = Math.max(1024, s.step);
    this.#stepCtl = rangeControl({
      name: 'step',
      label: 'Decode step',
      values: range(this.#maxStep),
      value: s.step,
      describe: (v) => `decode step ${v.toLocaleString('en-US')}`,
      short: (v) => `step ${v.toLocaleString('en-US')}`,
      onChange: (v) => set({ step: v }),
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

    const speed = selectControl<number>({
      name: 'speed',
      label: 'Playback speed',
      options: SPEEDS.map((v) => ({ value: v, label: `${v} step${v === 1 ? '' : 's'} a second` })),
      value: this.#speed,
      onChange: (v) => {
        this.#speed = v;
        if (this.#timer) this.startTimer();
      },
    });
    const stepBtn = el('button', { type: 'button', textContent: 'Step +1' });
    const backBtn = el('button', { type: 'button', textContent: 'Step −1' });
    const resetBtn = el('button', { type: 'button', textContent: 'Reset' });
    this.#play.setAttribute('aria-pressed', 'false');
    this.#play.addEventListener('click', () => (this.#timer ? this.pause() : this.play()));
    stepBtn.addEventListener('click', () => this.advance(1));
    backBtn.addEventListener('click', () => this.advance(-1));
    resetBtn.addEventListener('click', () => {
      this.pause();
      set({ step: 0 });
    });
    const transport = el(
      'div',
      { className: 'ctl residual-transport' },
      el('span', { className: 'transport-label', textContent: 'Playback' }),
      el('div', { className: 'ctl-row' }, this.#play, backBtn, stepBtn, resetBtn),
    );
    transport.dataset.control = 'playback';
    transport.setAttribute('role', 'group');
    transport.setAttribute('aria-label', 'Playback');

    this.controlsEl.append(
      scheme.root,
      prefill.root,
      residual.root,
      this.#stepCtl.root,
      transport,
      speed.root,
      model.root,
      bits.root,
      group.root,
    );
    this.bindControls({
      scheme,
      model,
      prefill: followSteps(prefill, PREFILL_STEPS),
      residual: followSteps(residual, R_STEPS),
      bits,
      group,
      step: {
        set: (v) => {
          if (v > this.#maxStep) {
            this.#maxStep = v;
            this.#stepCtl.setValues(range(this.#maxStep), v);
          } else this.#stepCtl.set(v);
        },
      },
    });

    for (const t of TOKEN_STATES) {
      const sw = el('span', { className: `swatch swatch-${t}` });
      sw.style.background = STATE_COLOR[t];
      sw.setAttribute('aria-hidden', 'true');
      this.#legend.append(el('li', {}, sw, el('span', { textContent: STATE_LABEL[t] })));
    }
    this.#legend.append(
      el('li', {}, el('span', { className: 'swatch swatch-flush', ariaHidden: 'true' }), el('span', { textContent: 'flush (pink tick)' })),
    );
    this.#log.setAttribute('aria-label', 'Flush log');
    this.bodyEl.append(
      this.#metrics,
      this.#summary,
      this.#transformers,
      this.#legend,
      el('p', { className: 'plot-caption', textContent: 'Whole cache' }),
      this.#overview,
      el('p', { className: 'plot-caption', textContent: 'Newest tokens, one cell each' }),
      this.#detail,
      el('p', { className: 'plot-caption', textContent: 'Flush log' }),
      this.#log,
      this.#table.root,
      el('h3', { className: 'plot-caption', textContent: 'Re-quantization drift of the oldest tokens (real keys)' }),
      this.#driftSummary,
      this.#driftChart,
      this.#driftTable.root,
      el('h3', { className: 'plot-caption', textContent: 'Which keys share an HQQ axis-0 group with the first key' }),
      this.#groupSummary,
      this.#groupChart,
    );
    loadExample(DRIFT_EXAMPLE)
      .then((set) => {
        this.#driftKeys = set.keys[Math.min(DRIFT_LAYER, set.keys.length - 1)];
        this.drawDrift();
      })
      .catch(() => {
        this.#driftSummary.textContent = 'The real keys for the drift panel could not be loaded; the step-through above is unaffected.';
      });
  }

  disconnectedCallback(): void {
    this.pause();
  }

  /** Step forward or back; at the end of the step range playback stops. */
  advance(delta: number): void {
    const next = Math.max(0, Math.min(this.#maxStep, this.state.step + delta));
    if (next === this.state.step) {
      this.pause();
      return;
    }
    this.setState({ step: next });
  }

  play(): void {
    if (this.state.step >= this.#maxStep) this.setState({ step: 0 });
    this.#play.textContent = 'Pause';
    this.#play.setAttribute('aria-pressed', 'true');
    this.startTimer();
  }

  pause(): void {
    if (this.#timer) clearInterval(this.#timer);
    const wasPlaying = this.#timer !== null;
    this.#timer = null;
    this.#play.textContent = 'Play';
    this.#play.setAttribute('aria-pressed', 'false');
    if (wasPlaying) this.writeUrl();
  }

  private startTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    // At most 20 redraws a second; faster speeds advance several steps per tick. Playback never animates
    // transitions, so it is stepwise under prefers-reduced-motion too (and slower there: one tick a second at most 4 steps).
    const reduced = typeof matchMedia !== 'undefined' && matchMedia('(prefers-reduced-motion: reduce)').matches;
    const speed = reduced ? Math.min(this.#speed, 4) : this.#speed;
    const tickMs = Math.max(50, 1000 / speed);
    const per = Math.max(1, Math.round((speed * tickMs) / 1000));
    this.#timer = setInterval(() => this.advance(per), tickMs);
  }

  /** While playing the URL is written once on pause (browsers throttle history updates). */
  protected writeUrl(): void {
    if (this.#timer) return;
    super.writeUrl();
  }

  #driftTimer?: ReturnType<typeof setTimeout>;
  /**
   * The drift panel re-quantizes 1,024 tokens of keys up to a dozen times (up to ~50 ms for HQQ at 2 bits): it runs
   * once the settings rest, so stepping the sliders keeps its one-frame redraw.
   */
  private scheduleDrift(): void {
    clearTimeout(this.#driftTimer);
    this.#driftTimer = setTimeout(() => this.drawDrift(), 150);
  }

  /** HQQ axis 0's group 0 at the prompt and after one flush, on the drift panel's keys (head count, head_dim). */
  private drawGroupPicture(keys: KVTensor): void {
    const s = this.state;
    const before = DRIFT_PREFILL;
    const after = DRIFT_PREFILL + Math.max(2, s.residual);
    try {
      const pts = stridedGroupPoints(keys.heads, keys.headDim, before, after, s.group);
      const width = Math.max(300, Math.min(720, this.bodyEl.clientWidth || 640));
      this.#groupChart.replaceChildren(Plot.plot(stridedGroupOptions(pts, after, keys.headDim, width)));
      const describe = (when: string) => {
        const p = pts.filter((q) => q.when === when);
        return `${p.length} elements in ${new Set(p.map((q) => q.channel)).size} channel(s), tokens ${p
          .slice(0, 4)
          .map((q) => `${q.token}`)
          .join(', ')}${p.length > 4 ? ', …' : ''}`;
      };
      const whens = [...new Set(pts.map((p) => p.when))];
      this.#groupSummary.textContent =
        `HQQ axis 0 (Transformers' hqq default) reshapes the whole flattened cache to [${s.group}, N/${s.group}]: group 0 holds every (N/${s.group})-th element. ` +
        `At the ${whens[0]}: ${describe(whens[0])}. ${whens[1][0].toUpperCase()}${whens[1].slice(1)}: ${describe(whens[1])}. The same key is grouped with different keys after every flush.`;
    } catch (err) {
      this.#groupChart.replaceChildren();
      this.#groupSummary.textContent = `HQQ axis 0 cannot group this cache with G = ${s.group}: ${err instanceof Error ? err.message : String(err)}.`;
    }
  }

  /** Recomputes the drift rows when bits, group or R changed (a few ms on 2 × 1,024 × 64 keys). */
  private drawDrift(): void {
    const keys = this.#driftKeys;
    if (!keys) return;
    const s = this.state;
    const key = `${s.bits}|${s.group}|${s.residual}`;
    if (key === this.#driftKey) return;
    this.#driftKey = key;
    this.drawGroupPicture(keys);
    try {
      this.#driftRows = driftRows(keys, s);
      this.#driftSummary.textContent = driftSummary(this.#driftRows);
      const width = Math.max(300, Math.min(720, this.bodyEl.clientWidth || 640));
      this.#driftChart.replaceChildren(this.#driftRows.length > 1 ? Plot.plot(driftChartOptions(this.#driftRows, width)) : '');
      this.dataset.drift = this.#driftRows.map((r) => `${r.quanto},${r.hqq},${r.once}`).join(';');
    } catch (err) {
      this.#driftRows = [];
      this.#driftChart.replaceChildren();
      this.#driftSummary.textContent = `No drift panel for these settings: ${err instanceof Error ? err.message : String(err)}.`;
    }
    this.#driftTable.refresh();
  }

  protected update(): void {
    const t0 = performance.now();
    const s = this.state;
    if (s.scheme === 'kivi' && s.residual < 1) {
      this.noteView.show([...this.notes, 'KIVI needs R ≥ 1; R = 1 is used.']);
    } else this.noteView.show(this.notes);
    const m = stepModel(s);
    this.#model = m;
    const mem = memoryCount(m, s);
    const metric = (label: string, value: string, name: string) => {
      const d = el(
        'div',
        { className: 'metric' },
        el('span', { className: 'label', textContent: label }),
        el('span', { className: 'value', textContent: value }),
      );
      d.dataset.metric = name;
      return d;
    };
    const fmt = (n: number) => n.toLocaleString('en-US');
    const metrics = [metric('Tokens', fmt(m.total), 'total')];
    if (m.scheme === 'kivi') {
      metrics.push(
        metric('Keys quantized / fp', `${fmt(m.strips[0].quantized)} / ${fmt(m.strips[0].residual)}`, 'keys'),
        metric('Values quantized / fp', `${fmt(m.strips[1].quantized)} / ${fmt(m.strips[1].residual)}`, 'values'),
      );
    } else {
      metrics.push(
        metric('Quantized', fmt(m.strips[0].quantized), 'quantized'),
        metric('Full precision', fmt(m.strips[0].residual), 'residual'),
      );
    }
    metrics.push(
      metric('Flushes', fmt(m.flushes), 'flushes'),
      metric('Memory now', formatBytesShort(mem.bytes), 'bytes'),
      metric('fp16 cache', formatBytesShort(mem.fp16Bytes), 'fp16'),
    );
    this.#metrics.replaceChildren(...metrics);
    this.#summary.textContent = summaryText(m, mem);
    // Transformers' own cache (quanto, its default backend, per token) on this model at this point of the run.
    const arch = (catalogueEntry(s.model) ?? catalogueEntry(DEFAULT_MODEL_ID)!).architecture;
    showTransformersCheck(
      this.#transformers,
      m.scheme === 'kivi'
        ? {
            kind: 'not-transformers',
            reason:
              'KIVI’s streaming scheme (keys in blocks of R, values in a sliding window) is KIVI’s own; Transformers’ QuantizedCache flushes and re-quantizes the whole history instead.',
          }
        : checkInTransformers(
            { method: 'minmax', bits: s.bits, group: s.group, kaxis: 'token', vaxis: 'token', residual: s.residual },
            arch,
            s.prefill,
            s.step,
          ),
    );
    const width = Math.max(300, Math.min(720, this.bodyEl.clientWidth || 640));
    this.#overview.replaceChildren(Plot.plot(overviewOptions(m, width)));
    this.#detail.replaceChildren(Plot.plot(detailOptions(m, width)));
    const lines = flushLog(m);
    this.#log.replaceChildren(
      ...(lines.length
        ? lines.map((l) => el('li', { textContent: l }))
        : [
            el('li', {
              textContent: `No flush yet: the first comes at decode step ${fmt(m.flushSteps[0] ?? (m.scheme === 'kivi' ? m.residualLength - (m.prefill % m.residualLength) : m.period))}.`,
            }),
          ]),
    );
    this.#log.classList.toggle('flushed-now', m.flushedLastStep);
    this.#table.refresh();
    this.scheduleDrift();
    this.dataset.quantized = String(m.strips.map((c) => c.quantized).join(','));
    this.dataset.residual = String(m.strips.map((c) => c.residual).join(','));
    this.dataset.flushes = String(m.flushes);
    this.dataset.bytes = String(mem.bytes);
    this.lastRedrawMs = performance.now() - t0;
    this.dataset.rendered = String(m.step);
    this.dispatchEvent(new CustomEvent('kv-rendered', { detail: { phases: { redraw: this.lastRedrawMs } } }));
    this.status.set(m.flushedLastStep ? `Step ${fmt(m.step)}: flush.` : '');
  }

  private table() {
    const m = this.#model ?? stepModel(this.state);
    const rows = m.strips
      .flatMap((c) => stripRuns(m, c))
      .map((r) => [r.strip, r.state, r.start, r.end - 1, r.end - r.start] as Array<string | number>);
    return {
      caption: `Token states after ${m.step} decode steps (positions from 0)`,
      columns: ['Strip', 'State', 'First token', 'Last token', 'Tokens'],
      rows,
    };
  }
}

if (!customElements.get('kv-residual')) customElements.define('kv-residual', KvResidual);
