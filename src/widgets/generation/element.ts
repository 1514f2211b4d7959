import * as Plot from '@observablehq/plot';
import { getModelClient, ModelClientError } from '../../lib/model/client';
import type { GenerateResult } from '../../lib/model/protocol';
import { KvWidget } from '../shared/base';
import { quantControls } from '../shared/quant-controls';
import { el, rangeControl, selectControl, tableToggle } from '../shared/controls';
import { describeProgress, explainError } from '../shared/tensors';
import { generationCodec, type GenerationState } from './state';
import {
  applyToken,
  buildRequest,
  describeCache,
  emptyStreams,
  forcedOf,
  formatNats,
  klChartOptions,
  summaryText,
  type ForcedView,
  type Streams,
} from './view';
import { dumpModelNote } from '../shared/dump-source';

type Name = (typeof generationCodec.names)[number];

/**
 * <kv-generation>: the model continues a prompt twice, exact cache vs quantized cache, streamed
 * side by side; the first differing token is marked; per-step KL and top-1 agreement are plotted.
 * Nothing runs until the reader presses Generate.
 */
export class KvGeneration extends KvWidget<Name, GenerationState> {
  static observedAttributes = [...generationCodec.names];
  readonly codec = generationCodec;
  readonly widgetTitle = 'Side-by-side generation';
  #prompt = el('textarea', { rows: 2 });
  #go = el('button', { type: 'button', className: 'primary', textContent: 'Generate' });
  #cancel = el('button', { type: 'button', textContent: 'Cancel', disabled: true });
  #exactText = el('p', { className: 'gen-text' });
  #quantText = el('p', { className: 'gen-text' });
  #quantTitle = el('p', { className: 'gen-title' });
  #summary = el('p', { className: 'chart-summary' });
  #chart = el('div', { className: 'plot' });
  #table = tableToggle(() => this.table());
  #streams: Streams = emptyStreams();
  #job: { cancel(): void } | null = null;
  #running = false;
  #temperature!: HTMLElement;
  #seed!: HTMLElement;
  lastResult: GenerateResult | null = null;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<GenerationState>) => this.setState(patch);
    dumpModelNote(this.controlsEl); // a KV-cache dump on this page cannot drive this widget: say so
    const pid = `${this.id || 'gen'}-prompt`;
    this.#prompt.id = pid;
    this.#prompt.value = s.prompt;
    this.#prompt.maxLength = 4000;
    this.#prompt.addEventListener('change', () => set({ prompt: this.#prompt.value }));
    const promptBox = el(
      'div',
      { className: 'ctl ctl-prompt' },
      el('label', { htmlFor: pid, textContent: 'Prompt' }),
      this.#prompt,
      el('div', { className: 'gen-buttons' }, this.#go, this.#cancel),
    );
    promptBox.dataset.control = 'prompt';
    this.#go.addEventListener('click', () => void this.run());
    this.#cancel.addEventListener('click', () => this.#job?.cancel());
    const { bits, group, kaxis, vaxis, method } = quantControls(() => this.state, set);
    const resValues = [...new Set([0, 1, 4, 8, 16, 32, 64, 128, 256, s.residual])].sort((a, b) => a - b);
    const residual = rangeControl({
      name: 'residual',
      label: 'Residual length',
      values: resValues,
      value: s.residual,
      describe: (v) => `${v} full-precision tokens`,
      short: (v) => `R ${v}`,
      onChange: (v) => set({ residual: v }),
    });
    const strategy = selectControl({
      name: 'strategy',
      label: 'Decoding',
      options: [
        { value: 'greedy' as const, label: 'greedy' },
        { value: 'sample' as const, label: 'sampling (seeded, top-40)' },
      ],
      value: s.strategy,
      onChange: (v) => set({ strategy: v }),
    });
    const penalty = rangeControl({
      name: 'penalty',
      label: 'Repetition penalty',
      values: [1, 1.1, 1.2, 1.3, 1.5, 2],
      value: s.penalty,
      describe: (v) => (v === 1 ? 'no repetition penalty' : `repetition penalty ${v}`),
      short: (v) => String(v),
      onChange: (v) => set({ penalty: v }),
    });
    const temperature = rangeControl({
      name: 'temperature',
      label: 'Temperature',
      values: [0.2, 0.5, 0.7, 0.8, 1, 1.2, 1.5],
      value: s.temperature,
      describe: (v) => `temperature ${v}`,
      short: (v) => String(v),
      onChange: (v) => set({ temperature: v }),
    });
    const seedId = `${this.id || 'gen'}-seed`;
    const seedInput = el('input', { type: 'number', id: seedId, min: '0', max: '2147483647', step: '1', value: String(s.seed) });
    seedInput.dataset.control = 'seed';
    seedInput.addEventListener('change', () => {
      const n = Number(seedInput.value);
      if (Number.isInteger(n) && n >= 0 && n <= 2147483647) set({ seed: n });
      else seedInput.value = String(this.state.seed);
    });
    const seed = el('div', { className: 'ctl' }, el('label', { htmlFor: seedId, textContent: 'Seed' }), seedInput);
    seed.dataset.control = 'seed';
    const maxValues = [...new Set([8, 16, 32, 48, 64, 96, 128, 192, 256, s.maxnew])].sort((a, b) => a - b);
    const maxnew = rangeControl({
      name: 'maxnew',
      label: 'New tokens',
      values: maxValues,
      value: s.maxnew,
      describe: (v) => `${v} new tokens`,
      onChange: (v) => set({ maxnew: v }),
    });
    this.#temperature = temperature.root;
    this.#seed = seed;
    this.controlsEl.append(
      promptBox,
      bits.root,
      group.root,
      kaxis.root,
      vaxis.root,
      method.root,
      residual.root,
      strategy.root,
      penalty.root,
      temperature.root,
      seed,
      maxnew.root,
    );
    // Every control follows the state, which attributes (script-tag pages) change as well as the controls: a
    // control left at an old value would show one setting while Generate runs another.
    const withValue = (vs: readonly number[], v: number) => [...new Set([...vs, v])].sort((a, b) => a - b);
    this.addEventListener('kv-state', () => {
      const st = this.state;
      bits.set(st.bits);
      group.set(st.group);
      kaxis.set(st.kaxis);
      vaxis.set(st.vaxis);
      method.set(st.method);
      residual.setValues(withValue(resValues, st.residual), st.residual);
      strategy.set(st.strategy);
      penalty.set(st.penalty);
      temperature.set(st.temperature);
      if (seedInput.value !== String(st.seed)) seedInput.value = String(st.seed);
      maxnew.setValues(withValue(maxValues, st.maxnew), st.maxnew);
    });
    const pane = (title: HTMLElement, text: HTMLElement, name: string) => {
      const d = el('div', { className: 'gen-pane' }, title, text);
      d.dataset.stream = name;
      return d;
    };
    const panes = el(
      'div',
      { className: 'gen-panes' },
      pane(el('p', { className: 'gen-title', textContent: 'Exact cache (fp32)' }), this.#exactText, 'exact'),
      pane(this.#quantTitle, this.#quantText, 'quantized'),
    );
    this.bodyEl.append(panes, this.#summary, this.#chart, this.#table.root);
  }

  protected update(changed: ReadonlySet<Name> | 'all'): void {
    const s = this.state;
    if (changed === 'all' || changed.has('prompt')) if (this.#prompt.value !== s.prompt) this.#prompt.value = s.prompt;
    const sampling = s.strategy === 'sample';
    const visible = s.controls;
    this.#temperature.hidden = !sampling || (visible.length > 0 && !visible.includes('temperature'));
    this.#seed.hidden = !sampling || (visible.length > 0 && !visible.includes('seed'));
    this.#quantTitle.textContent = `Quantized cache (${describeCache(s)})`;
    if (changed === 'all') {
      this.renderTexts();
      this.#summary.textContent = summaryText({ steps: [], firstDivergence: null, cache: describeCache(s), finished: true });
      this.status.set('Ready. Press Generate to load the model (once) and continue the prompt.');
    } else if (!this.#running && this.#streams.steps.length) {
      this.status.set('Settings changed: press Generate to run again with them.');
    }
  }

  /** Start both continuations; tokens stream in as the worker produces them. */
  async run(): Promise<void> {
    if (this.#running) return;
    const prompt = this.#prompt.value;
    if (prompt !== this.state.prompt) this.setState({ prompt });
    if (!prompt.trim()) {
      this.status.error('The prompt is empty. Type a few words and press Generate.');
      return;
    }
    const s = this.state;
    this.#streams = emptyStreams();
    this.#forced = null;
    this.lastResult = null;
    this.removeAttribute('data-done');
    this.#running = true;
    this.#go.disabled = true;
    this.#cancel.disabled = false;
    this.renderTexts();
    this.renderChart();
    this.status.set('Starting the model…');
    const t0 = performance.now();
    const job = getModelClient().request(buildRequest(s), {
      onProgress: (p) => {
        if (p.phase === 'generate') return;
        const d = describeProgress(p);
        this.status.set(d.text, d.done !== undefined && d.total ? { done: d.done, total: d.total } : undefined);
      },
      onToken: (t) => {
        applyToken(this.#streams, t);
        this.status.set(`Generating: ${t.step + 1} of ${s.maxnew} tokens`, { done: t.step + 1, total: s.maxnew });
        this.scheduleRender();
      },
    });
    this.#job = job;
    try {
      const r = await job.promise;
      this.lastResult = r;
      this.#forced = forcedOf(r);
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      this.status.set(
        `Done: ${r.exact.tokenIds.length} tokens in each stream (${secs} s, ${r.timings.tokensPerSecond.toFixed(0)} steps/s).${r.truncated ? ` ${r.truncated.message}` : ''}`,
      );
      this.dataset.exactText = r.exact.text;
      this.dataset.quantizedText = r.quantized.text;
      this.dataset.meanKl = String(r.meanKl);
      this.dataset.top1 = String(r.top1Agreement);
      this.dataset.firstDivergence = r.firstDivergence === null ? 'none' : String(r.firstDivergence);
      this.dataset.forcedTop1 = String(r.teacherForced.top1Agreement);
      this.dataset.forcedMeanKl = String(r.teacherForced.klDistribution.mean);
      this.dataset.done = 'ok';
    } catch (err) {
      if (err instanceof ModelClientError && err.code === 'cancelled') {
        this.status.set(`Cancelled after ${this.#streams.steps.length} tokens.`);
        this.dataset.done = 'cancelled';
      } else {
        this.status.error(explainError(err));
        this.dataset.done = 'error';
      }
    } finally {
      if (this.#frame) cancelAnimationFrame(this.#frame);
      this.#frame = 0;
      this.#running = false;
      this.#job = null;
      this.#go.disabled = false;
      this.#cancel.disabled = true;
      this.renderTexts();
      this.renderChart();
      this.#table.refresh();
    }
  }

  #frame = 0;
  /** The finished run's teacher-forced comparison (null while generating). */
  #forced: ForcedView | null = null;

  /** Tokens can arrive faster than frames: draw texts and chart at most once per animation frame. */
  private scheduleRender(): void {
    if (this.#frame) return;
    const draw = () => {
      this.#frame = 0;
      this.renderTexts();
      this.renderChart();
    };
    this.#frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(draw) : (setTimeout(draw, 16) as unknown as number);
  }

  private renderTexts(): void {
    const { steps, firstDivergence } = this.#streams;
    const fill = (target: HTMLElement, which: 'exact' | 'quantized') => {
      const promptSpan = el('span', { className: 'gen-prompt', textContent: this.state.prompt });
      const before = el('span', {
        textContent: steps
          .slice(0, firstDivergence ?? steps.length)
          .map((s) => s[which])
          .join(''),
      });
      const parts: Node[] = [promptSpan, before];
      if (firstDivergence !== null) {
        const mark = el('mark', { className: 'gen-diverge', textContent: steps[firstDivergence][which] || '∅' });
        mark.title = `First difference, token ${firstDivergence + 1}`;
        parts.push(
          el('span', { className: 'visually-hidden', textContent: ` [first difference at token ${firstDivergence + 1}:] ` }),
          mark,
          el('span', {
            textContent: steps
              .slice(firstDivergence + 1)
              .map((s) => s[which])
              .join(''),
          }),
        );
      }
      target.replaceChildren(...parts);
    };
    fill(this.#exactText, 'exact');
    fill(this.#quantText, 'quantized');
    this.#summary.textContent = summaryText({
      steps,
      firstDivergence,
      cache: describeCache(this.state),
      finished: !this.#running,
      forced: this.#forced,
    });
  }

  private renderChart(): void {
    const { steps, firstDivergence } = this.#streams;
    if (!steps.length) {
      this.#chart.replaceChildren();
      return;
    }
    const width = Math.max(300, Math.min(760, this.bodyWidth || 720));
    this.#chart.replaceChildren(Plot.plot(klChartOptions(steps, firstDivergence, width, this.state.maxnew, this.#forced)));
  }

  private table() {
    const f = this.#forced;
    const rows = this.#streams.steps.map(
      (s) =>
        [
          s.step + 1,
          s.exact,
          s.quantized,
          formatNats(s.kl),
          s.agree ? 'yes' : 'no',
          s.sameContext ? 'yes' : 'no',
          f && s.step < f.kl.length ? formatNats(f.kl[s.step]) : '—',
          f && s.step < f.top1.length ? (f.top1[s.step] ? 'yes' : 'no') : '—',
        ] as Array<string | number>,
    );
    return {
      caption: 'Per-step next-token comparison: free-running streams, and the quantized cache teacher-forced over the exact continuation',
      columns: [
        'Token',
        'Exact',
        'Quantized',
        'KL (nats)',
        'Top-1 agrees',
        'Same context',
        'Teacher-forced KL (nats)',
        'Teacher-forced top-1 agrees',
      ],
      rows,
    };
  }
}

if (!customElements.get('kv-generation')) customElements.define('kv-generation', KvGeneration);
