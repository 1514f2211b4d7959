/**
 * The quantizer's memory panel: the whole cache's bytes for this model and prompt (Transformers' QuantizedCache
 * or the engine format) as a bar split into payload, scales/zeros and fp16 residual, a colour key, a sentence and
 * a "Show as table" toggle. Kept apart from the element so which memory model applies and how it is drawn have
 * one home.
 */
import { el, formatBytes, tableToggle, type TableData } from '../shared/controls';
import { engineFormatInfo, type KvCacheBytes } from '../../lib/quant/index';
import { cacheMemory, formatFor, formatMemory } from './model';
import type { QuantizerState } from './state';
import { formatMemorySummary, memoryParts, memorySummary } from './view';
import { colour } from '../shared/palette';

const COLOURS: Record<string, string> = {
  payload: colour('blue'),
  'scales and zeros': colour('orange'),
  'residual (fp16)': colour('grey'),
};

/** Bytes of the whole cache for these settings, and the sentence that says it. */
export function memoryFor(
  s: QuantizerState,
  info: { layers: number; kvHeads: number; headDim: number },
  tokens: number,
): { mem: KvCacheBytes; summary: string } {
  const fk = formatFor(s, 'k');
  const fv = formatFor(s, 'v');
  const mem = s.engine === 'transformers' ? cacheMemory(info, tokens, s) : formatMemory(info, tokens, fk, fv);
  const label = (f: typeof fk) => (f ? engineFormatInfo(f.format).label : 'f16');
  const summary =
    s.engine === 'transformers'
      ? memorySummary(mem, { tokens, bits: s.bits, residual: s.residual, fmt: formatBytes })
      : formatMemorySummary(mem, { tokens, k: label(fk), v: label(fv), fmt: formatBytes });
  return { mem, summary };
}

/** The memory as the table toggle and CSV show it: each part, the total and the fp16 cache, with shares of fp16. */
export function memoryTable(m: KvCacheBytes | undefined): TableData {
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

export class MemoryPanel {
  #bar = el('div', { className: 'mem-bar' });
  #summary = el('p', { className: 'chart-summary' });
  #mem?: KvCacheBytes;
  #table = tableToggle(() => memoryTable(this.#mem));
  /** Heading, colour key, bar, sentence and table toggle, in page order. */
  readonly roots: HTMLElement[];

  constructor() {
    this.#bar.setAttribute('aria-hidden', 'true');
    const heading = el('p', {
      className: 'chart-heading',
      textContent: 'Memory of the whole cache (keys and values, all layers), as a share of fp16',
    });
    const key = el('p', { className: 'mem-key' });
    key.setAttribute('aria-hidden', 'true');
    for (const [label, colour] of Object.entries(COLOURS)) {
      const sw = el('span', { className: 'swatch' });
      sw.style.background = colour;
      key.append(el('span', {}, sw, label));
    }
    this.roots = [heading, key, this.#bar, this.#summary, this.#table.root];
  }

  show(mem: KvCacheBytes, summary: string): void {
    this.#bar.replaceChildren(
      ...memoryParts(mem).map((p) => {
        const seg = el('span', { className: 'mem-seg' });
        seg.style.width = `${(p.fraction * 100).toFixed(3)}%`;
        seg.style.background = COLOURS[p.part];
        seg.title = `${p.part}: ${formatBytes(p.bytes)}`;
        return seg;
      }),
      el('span', { className: 'mem-label', textContent: `${formatBytes(mem.total)} of ${formatBytes(mem.fp16Total)} (fp16)` }),
    );
    this.#bar.dataset.total = String(mem.total);
    this.#summary.textContent = summary;
    this.#bar.dataset.bpe = String(mem.bitsPerElement);
    this.#mem = mem;
    this.#table.refresh();
  }
}
