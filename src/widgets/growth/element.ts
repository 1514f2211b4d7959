import * as Plot from '@observablehq/plot';
import { growthSeries, bytesPerToken } from './model';

const BIT_CHOICES = [16, 8, 4, 2] as const;

/**
 * <kv-growth>: the placeholder chapter's live chart. A range input picks the bits per
 * element; the chart redraws KV-cache memory of Llama-2-7B against context length.
 * Server-rendered markup inside the element is the no-JavaScript fallback.
 */
class KvGrowth extends HTMLElement {
  #input?: HTMLInputElement;
  #chart?: HTMLElement;
  #summary?: HTMLElement;

  connectedCallback() {
    if (this.#input) return;
    const initial = Number(this.getAttribute('bits'));
    const index = Math.max(0, BIT_CHOICES.indexOf(initial as (typeof BIT_CHOICES)[number]));
    this.replaceChildren();
    const label = document.createElement('label');
    label.textContent = 'Bits per element ';
    const input = document.createElement('input');
    input.type = 'range';
    input.min = '0';
    input.max = String(BIT_CHOICES.length - 1);
    input.step = '1';
    input.value = String(index);
    label.append(input);
    const value = document.createElement('output');
    value.setAttribute('aria-hidden', 'true');
    label.append(' ', value);
    this.#chart = document.createElement('div');
    this.#summary = document.createElement('p');
    this.#summary.setAttribute('aria-live', 'polite');
    this.#summary.className = 'chart-summary';
    this.append(label, this.#chart, this.#summary);
    this.#input = input;
    input.addEventListener('input', () => this.render());
    this.render();
  }

  render() {
    if (!this.#input || !this.#chart || !this.#summary) return;
    const bits = BIT_CHOICES[Number(this.#input.value)] ?? 16;
    this.#input.setAttribute('aria-valuetext', `${bits} bits per element`);
    const out = this.#input.parentElement?.querySelector('output');
    if (out) out.textContent = `${bits} bits`;
    this.dataset.bits = String(bits);
    const fp16 = growthSeries(16).map((d) => ({ ...d, series: 'fp16 (16 bits)' }));
    const chosen = growthSeries(bits).map((d) => ({ ...d, series: `${bits} bits` }));
    const width = Math.max(280, Math.min(640, this.clientWidth || 640));
    const chart = Plot.plot({
      width,
      height: 260,
      ariaLabel: `Line chart: KV-cache memory of Llama-2-7B in GB against context length, for fp16 and ${bits} bits per element`,
      x: { label: 'Context length (tokens)', grid: true },
      y: { label: 'KV cache (GB)', grid: true },
      color: { domain: ['fp16 (16 bits)', `${bits} bits`], range: ['#6a6a6a', '#0b57d0'], legend: true },
      marks: [
        Plot.lineY(bits === 16 ? fp16 : [...fp16, ...chosen], { x: 'tokens', y: 'gigabytes', stroke: 'series', strokeWidth: 2, ariaHidden: 'true' } as Plot.LineYOptions),
        Plot.ruleY([0], { ariaHidden: 'true' } as Plot.RuleYOptions),
      ],
    });
    this.#chart.replaceChildren(chart);
    const at10k = (bytesPerToken(bits) * 10_000) / 1e9;
    this.#summary.textContent = `At ${bits} bits per element, 10,000 tokens of Llama-2-7B's KV cache take ${at10k.toFixed(2)} GB (fp16: ${((bytesPerToken(16) * 10_000) / 1e9).toFixed(2)} GB).`;
  }
}

if (!customElements.get('kv-growth')) customElements.define('kv-growth', KvGrowth);
