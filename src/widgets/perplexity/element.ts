import * as Plot from '@observablehq/plot';
import { getModelClient, ModelClientError } from '../../lib/model/client';
import type { CacheConfig, ScoreConfigResult } from '../../lib/model/protocol';
import { KvWidget } from '../shared/base';
import { el, followSteps, formatBytes, rangeControl, withStep } from '../shared/controls';
import { describeProgress, explainError, loadExample, siteUrl } from '../shared/tensors';
import { cacheConfigOf, PRESET_IDS, PRESETS, type PresetId } from './presets';
import { perplexityCodec, type PerplexityState } from './state';
import {
  chartOptions,
  formatDelta,
  formatNats,
  klHistogram,
  klHistogramOptions,
  klSummaryText,
  KVLAB_DIMS,
  seriesOf,
  STYLE,
  summaryText,
  tableRows,
  type ModelDims,
  type Row,
} from './view';
import { dumpModelNote } from '../shared/dump-source';

type Name = (typeof perplexityCodec.names)[number];

interface Cached {
  result: ScoreConfigResult;
  tokens: number;
  prefillTokens: number;
}

/** Results for the session, keyed by text + config: a second Run with the same settings is instant. */
const cache = new Map<string, Cached>();
const keyOf = (text: string, c: CacheConfig) => `${text}\u0000${JSON.stringify(c)}`;

/**
 * <kv-perplexity>: running log-perplexity of a held-out passage (or pasted text) under several
 * cache configurations, scored token by token by the worker with Transformers' residual semantics.
 */
export class KvPerplexity extends KvWidget<Name, PerplexityState> {
  static observedAttributes = [...perplexityCodec.names];
  readonly codec = perplexityCodec;
  readonly widgetTitle = 'Perplexity sweep';
  #text = el('textarea', { rows: 4 });
  #run = el('button', { type: 'button', className: 'primary', textContent: 'Run' });
  #cancel = el('button', { type: 'button', textContent: 'Cancel', disabled: true });
  #checks = new Map<PresetId, HTMLInputElement>();
  #summary = el('p', { className: 'chart-summary ppl-summary' });
  #chart = el('div', { className: 'plot' });
  #klSummary = el('p', { className: 'chart-summary ppl-kl-summary' });
  #klChart = el('div', { className: 'plot ppl-kl-chart' });
  #legend = el('ul', { className: 'ppl-legend' });
  #tableHolder = el('div', { className: 'ppl-table' });
  #heldout: string | null = null;
  #dims: ModelDims = KVLAB_DIMS;
  #job: { cancel(): void } | null = null;
  #done = 0;
  #total = 0;

  protected build(): void {
    const s = this.state;
    const set = (patch: Partial<PerplexityState>) => this.setState(patch);
    dumpModelNote(this.controlsEl); // a KV-cache dump on this page cannot drive this widget: say so
    const tid = `${this.id || 'ppl'}-text`;
    this.#text.id = tid;
    this.#text.maxLength = 4000;
    this.#text.placeholder = 'Empty: the held-out passage shipped with the model.';
    this.#text.value = s.prompt;
    this.#text.addEventListener('change', () => set({ prompt: this.#text.value.trim() ? this.#text.value : '' }));
    const textBox = el(
      'div',
      { className: 'ctl ctl-prompt' },
      el('label', { htmlFor: tid, textContent: 'Text to score (paste your own, or leave empty for the held-out passage)' }),
      this.#text,
      el('div', { className: 'gen-buttons' }, this.#run, this.#cancel),
    );
    textBox.dataset.control = 'prompt';
    const fs = el('fieldset', { className: 'ctl ppl-configs' }, el('legend', { textContent: 'Cache configurations' }));
    fs.dataset.control = 'configs';
    for (const id of PRESET_IDS) {
      const cid = `${this.id || 'ppl'}-cfg-${id}`;
      const input = el('input', { type: 'checkbox', id: cid, checked: s.configs.includes(id) });
      input.dataset.config = id;
      input.addEventListener('change', () => {
        const chosen = PRESET_IDS.filter((p) => this.#checks.get(p)!.checked);
        if (!chosen.length) {
          input.checked = true;
          this.status.set('Keep at least one configuration.');
          return;
        }
        set({ configs: chosen });
      });
      this.#checks.set(id, input);
      fs.append(el('div', { className: 'ctl-check' }, input, el('label', { htmlFor: cid, textContent: PRESETS[id].label })));
    }
    const resSteps = [0, 8, 16, 32, 64, 128, 256, 512];
    const residual = rangeControl({
      name: 'residual',
      label: 'Residual length R',
      values: withStep(resSteps, s.residual),
      value: s.residual,
      describe: (v) => `${v} full-precision tokens`,
      short: (v) => `R ${v}`,
      onChange: (v) => set({ residual: v }),
    });
    this.controlsEl.append(textBox, fs, residual.root);
    // The prompt box and the configuration boxes follow the state in update.
    this.bindControls({ residual: followSteps(residual, resSteps) });
    this.#run.addEventListener('click', () => void this.run());
    this.#cancel.addEventListener('click', () => this.#job?.cancel());
    this.bodyEl.append(this.#summary, this.#legend, this.#chart, this.#tableHolder, this.#klSummary, this.#klChart);
    void loadExample()
      .then((e) => (this.#dims = { layers: e.info.layers, kvHeads: e.info.kvHeads, headDim: e.info.headDim }))
      .catch(() => undefined);
  }

  protected update(changed: ReadonlySet<Name> | 'all'): void {
    const s = this.state;
    if (this.#text.value !== s.prompt && (changed === 'all' || changed.has('prompt'))) this.#text.value = s.prompt;
    for (const [id, c] of this.#checks) c.checked = s.configs.includes(id);
    // Show whatever is already cached for these settings (instant); otherwise invite a run.
    void this.textToScore().then((text) => {
      if (text === null) return;
      const have = this.cachedFor(text);
      this.render(have);
      if (this.#job) return;
      if (have.length === s.configs.length) this.status.set(`Showing the cached results for these ${have.length} configurations.`);
      else
        this.status.set(
          `Press Run to score ${s.configs.length - have.length} configuration${s.configs.length - have.length === 1 ? '' : 's'}, token by token (the model loads once).`,
        );
    });
  }

  private async textToScore(): Promise<string | null> {
    if (this.state.prompt.trim()) return this.state.prompt;
    if (this.#heldout !== null) return this.#heldout;
    try {
      const r = await fetch(siteUrl('models/kvlab-16m/heldout-sample.txt'));
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      this.#heldout = (await r.text()).trim();
      return this.#heldout;
    } catch (err) {
      this.status.error(
        `The held-out passage could not be loaded (${(err as Error).message}). Paste a text of your own into the box and press Run.`,
      );
      return null;
    }
  }

  private cachedFor(text: string): Array<{ id: PresetId; c: Cached }> {
    const out: Array<{ id: PresetId; c: Cached }> = [];
    for (const id of this.state.configs as PresetId[]) {
      const c = cache.get(keyOf(text, cacheConfigOf(id, this.state.residual)));
      if (c) out.push({ id, c });
    }
    return out;
  }

  /** Score the configurations not cached yet (one worker request), then redraw. */
  async run(): Promise<void> {
    if (this.#job) return;
    const typed = this.#text.value;
    if (typed !== this.state.prompt) this.setState({ prompt: typed.trim() ? typed : '' });
    const text = await this.textToScore();
    if (text === null) return;
    const s = this.state;
    const missing = (s.configs as PresetId[]).filter((id) => !cache.has(keyOf(text, cacheConfigOf(id, s.residual))));
    if (!missing.length) {
      this.render(this.cachedFor(text));
      this.status.set('All selected configurations are already scored (cached for this session).');
      return;
    }
    // KL and top-1 agreement are measured against an fp32 run in the same request, so fp32 is
    // scored again (one pass) whenever it is selected and something else is missing.
    const ids: PresetId[] = (s.configs as PresetId[]).includes('fp32') && !missing.includes('fp32') ? ['fp32', ...missing] : missing;
    const configs = ids.map((id) => cacheConfigOf(id, s.residual));
    this.removeAttribute('data-done');
    this.#run.disabled = true;
    this.#cancel.disabled = false;
    this.#done = 0;
    this.#total = 0;
    this.status.set('Starting the model…');
    const t0 = performance.now();
    const job = getModelClient().request(
      { type: 'score', text, configs },
      {
        onProgress: (p) => {
          if (p.phase === 'score') {
            this.#done = p.loaded ?? 0;
            this.#total = p.total ?? 0;
          }
          const d = describeProgress(p);
          this.status.set(d.text, d.done !== undefined && d.total ? { done: d.done, total: d.total } : undefined);
        },
      },
    );
    this.#job = job;
    try {
      const r = await job.promise;
      r.results.forEach((res, i) =>
        cache.set(keyOf(text, configs[i]), { result: res, tokens: r.tokenIds.length, prefillTokens: r.prefillTokens }),
      );
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      const failed = r.results.filter((x) => x.failure).length;
      this.status.set(
        `Scored ${configs.length - failed} configuration${configs.length - failed === 1 ? '' : 's'} × ${r.tokenIds.length - r.prefillTokens} tokens in ${secs} s` +
          `${failed ? `; ${failed} cannot run in Transformers (see the table)` : ''}.${r.truncated ? ` ${r.truncated.message}` : ''}`,
      );
      this.dataset.sweepMs = String(performance.now() - t0);
      this.dataset.done = 'ok';
    } catch (err) {
      if (err instanceof ModelClientError && err.code === 'cancelled') {
        this.status.set(`Cancelled after ${this.#done} of ${this.#total || '?'} token scores; finished configurations stay cached.`);
        this.dataset.done = 'cancelled';
      } else {
        this.status.error(explainError(err));
        this.dataset.done = 'error';
      }
    } finally {
      this.#job = null;
      this.#run.disabled = false;
      this.#cancel.disabled = true;
      this.render(this.cachedFor(text));
    }
  }

  private render(have: Array<{ id: PresetId; c: Cached }>): void {
    const s = this.state;
    const first = have[0]?.c;
    const tokens = first?.tokens ?? 0;
    const prefillTokens = first?.prefillTokens ?? 1;
    const rows: Row[] = tableRows(
      have.map(({ id, c }) => ({
        id,
        perplexity: c.result.perplexity,
        meanNll: c.result.meanNll,
        klToExact: c.result.klToExact,
        top1AgreementToExact: c.result.top1AgreementToExact,
        failure: c.result.failure,
        klDistribution: c.result.klDistribution,
      })),
      this.#dims,
      tokens,
      prefillTokens,
      s.residual,
    );
    this.#summary.textContent = summaryText(rows, { tokens, prefillTokens, residual: s.residual });
    this.#klSummary.textContent = klSummaryText(rows);
    if (!have.length) {
      this.#chart.replaceChildren();
      this.#klChart.replaceChildren();
      this.#legend.replaceChildren();
      this.#tableHolder.replaceChildren();
      return;
    }
    const width = Math.max(300, Math.min(760, this.bodyWidth || 720));
    const step = tokens > 1200 ? 2 : 1;
    const ran = have.filter(({ c }) => !c.result.failure);
    const series = ran.map(({ id, c }) => seriesOf(id, c.result.logProbs, c.prefillTokens, step));
    this.#chart.replaceChildren(Plot.plot(chartOptions(series, { width, prefillTokens, residual: s.residual, tokens })));
    const hists = ran
      .filter(({ id, c }) => id !== 'fp32' && c.result.klPerPosition)
      .map(({ id, c }) => ({ id, bins: klHistogram(c.result.klPerPosition!) }));
    this.#klChart.replaceChildren(...(hists.length ? [Plot.plot(klHistogramOptions(hists, width))] : []));
    this.#legend.replaceChildren(
      ...ran.map(({ id }) => {
        const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
        svg.setAttribute('width', '34');
        svg.setAttribute('height', '10');
        svg.setAttribute('aria-hidden', 'true');
        const line = document.createElementNS('http://www.w3.org/2000/svg', 'line');
        line.setAttribute('x1', '1');
        line.setAttribute('x2', '33');
        line.setAttribute('y1', '5');
        line.setAttribute('y2', '5');
        line.setAttribute('stroke', STYLE[id].colour);
        line.setAttribute('stroke-width', '2.5');
        if (STYLE[id].dash) line.setAttribute('stroke-dasharray', STYLE[id].dash);
        svg.append(line);
        return el('li', {}, svg, ` ${PRESETS[id].label}`);
      }),
    );
    const table = el('table');
    table.append(
      el('caption', { textContent: `Final perplexity over ${tokens - prefillTokens} scored tokens (residual R = ${s.residual})` }),
    );
    const cols = [
      'Configuration',
      'Perplexity',
      'Δ vs fp32',
      'Mean KL to fp32 (nats)',
      'KL median / p90 / p99',
      'Same top-1 as fp32',
      'Bits per element',
      `Cache at ${tokens} tokens`,
    ];
    table.append(el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { scope: 'col', textContent: c })))));
    const body = el('tbody');
    for (const r of rows) {
      const cells = r.failure
        ? [
            el('td', {
              className: 'ppl-failure',
              colSpan: cols.length - 1,
              textContent: `Fails in Transformers ${r.failure.atTokens === null ? 'when the cache is created' : `with ${r.failure.atTokens} cached token${r.failure.atTokens === 1 ? '' : 's'}`}: ${r.failure.message} (${r.failure.raises})`,
            }),
          ]
        : [
            el('td', { className: 'num', textContent: r.perplexity.toFixed(3) }),
            el('td', { className: 'num', textContent: formatDelta(r.deltaVsFp32) }),
            el('td', { className: 'num', textContent: formatNats(r.klToExact) }),
            el('td', {
              className: 'num',
              textContent: r.kl && r.id !== 'fp32' ? `${formatNats(r.kl.p50)} / ${formatNats(r.kl.p90)} / ${formatNats(r.kl.p99)}` : '—',
            }),
            el('td', { className: 'num', textContent: r.top1 === null ? '—' : `${(r.top1 * 100).toFixed(1)} %` }),
            el('td', { className: 'num', textContent: r.memory.bitsPerElement.toFixed(2) }),
            el('td', {
              className: 'num',
              textContent: `${formatBytes(r.memory.totalBytes)} (${(r.memory.fp32Bytes / r.memory.totalBytes).toFixed(2)}× smaller)`,
            }),
          ];
      const tr = el('tr', {}, el('th', { scope: 'row', textContent: r.label }), ...cells);
      tr.dataset.config = r.id;
      if (r.failure) tr.dataset.failure = r.failure.raises;
      else tr.dataset.perplexity = String(r.perplexity);
      body.append(tr);
    }
    table.append(body);
    this.#tableHolder.replaceChildren(table);
  }
}

if (!customElements.get('kv-perplexity')) customElements.define('kv-perplexity', KvPerplexity);
