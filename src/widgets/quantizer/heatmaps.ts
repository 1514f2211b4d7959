/**
 * The quantizer's three heatmaps of one head (original, dequantized, signed error), their two colour legends and
 * the text summary under them. Kept apart from the element so the panels, their captions, aria-labels and legend
 * caching have one home; the element only says which tensor, head and quantization to show.
 */
import * as Plot from '@observablehq/plot';
import { el } from '../shared/controls';
import { drawHeatmap, extentOf, symmetricDomain, type Scheme } from '../shared/heatmap';
import { engineFormatInfo, type KVTensor } from '../../lib/quant/index';
import { headByChannel } from '../kv-explorer/view';
import { isFormat, type KvQuant } from './model';
import { describeKv, errorInto, fmtAbs, niceSymmetric, TENSOR_NAMES } from './view';

type PanelName = 'original' | 'dequantized' | 'error';

interface Panel {
  name: PanelName;
  canvas: HTMLCanvasElement;
  caption: HTMLElement;
}

/** What one redraw shows: the tensor of a layer, its dequantized data and what it was quantized with. */
export interface HeatmapInput {
  tensor: 'k' | 'v';
  t: KVTensor;
  dequantized: Float32Array<ArrayBufferLike>;
  used: KvQuant | null;
  layer: number;
  head: number;
  /** Max |error| of the head (its metrics), for the summary. */
  maxAbsError: number;
}

/** What the histogram and format-structure panels reuse from a redraw. */
export interface HeatmapDrawn {
  /** Symmetric "nice" domain of the signed error (colour scale and histogram axis). */
  eDomain: [number, number];
  /** Nothing quantized: the error is zero. */
  exact: boolean;
  /** "keys" or "values". */
  name: string;
}

export class HeatmapPanels {
  /** The three figures, side by side. */
  readonly root = el('div', { className: 'kv-heatmaps three' });
  readonly legends: HTMLElement;
  readonly summary = el('p', { className: 'chart-summary' });
  /** The shown head by channel: original, dequantized and their difference (the format panel reads `orig`). */
  readonly buf: { orig: Float32Array<ArrayBufferLike>; deq: Float32Array<ArrayBufferLike>; err: Float32Array<ArrayBufferLike> } = {
    orig: new Float32Array(0),
    deq: new Float32Array(0),
    err: new Float32Array(0),
  };
  #panels: Panel[] = [];
  #legendValues = el('div', { className: 'legend' });
  #legendError = el('div', { className: 'legend' });
  #legendKeys = ['', ''];
  /** Legends by scheme and rounded domain: revisiting a setting reuses its legend. */
  #legendCache = new Map<string, Element>();

  constructor() {
    for (const name of ['original', 'dequantized', 'error'] as const) {
      const canvas = el('canvas', { className: 'heatmap' });
      canvas.setAttribute('role', 'img');
      // Named from the start: the first draw waits for tensors, and an unnamed role=img fails WCAG 1.1.1 meanwhile.
      canvas.setAttribute('aria-label', `Heatmap of the ${name === 'error' ? 'signed quantization error' : name} (drawing…)`);
      const caption = el('figcaption');
      this.root.append(el('figure', { className: 'heatmap-figure' }, caption, el('div', { className: 'heatmap-wrap' }, canvas)));
      this.#panels.push({ name, canvas, caption });
    }
    this.legends = el('div', { className: 'legends' }, this.#legendValues, this.#legendError);
  }

  draw(o: HeatmapInput): HeatmapDrawn {
    const { t, layer, head } = o;
    const T = t.tokens;
    const D = t.headDim;
    const b = this.buf;
    b.orig = headByChannel(t, head, b.orig);
    b.deq = headByChannel({ ...t, data: o.dequantized } as KVTensor, head, b.deq);
    if (b.err.length !== T * D) b.err = new Float32Array(T * D);
    errorInto(b.orig, b.deq, b.err);
    const vDomain = extentOf(b.orig);
    const eMax = symmetricDomain(b.err)[1];
    const eDomain = niceSymmetric(eMax);
    const used = o.used;
    const exact = used === null;
    const name = TENSOR_NAMES[o.tensor];
    const config = describeKv(used);
    for (const p of this.#panels) {
      const data = p.name === 'original' ? b.orig : p.name === 'dequantized' ? b.deq : b.err;
      const scheme: Scheme = p.name === 'error' ? 'diverging' : 'cividis';
      drawHeatmap(p.canvas, data, D, T, { scheme, domain: p.name === 'error' ? eDomain : vDomain });
      p.caption.textContent =
        p.name === 'original'
          ? `Original ${name}`
          : p.name === 'dequantized'
            ? exact
              ? 'Dequantized (fp16, unchanged)'
              : `Dequantized (${isFormat(used) ? engineFormatInfo(used.format).label : `${used!.bits}-bit`})`
            : 'Error (dequantized − original)';
      p.canvas.setAttribute(
        'aria-label',
        `Heatmap of the ${p.name === 'error' ? 'signed quantization error' : `${p.name} ${name}`} of layer ${layer}, KV head ${head}: ${D} channels by ${T} tokens.`,
      );
    }
    this.legend(0, this.#legendValues, 'cividis', vDomain, `${name[0].toUpperCase()}${name.slice(1)} value`);
    this.legend(1, this.#legendError, 'diverging', eDomain, 'Error');
    this.summary.textContent = exact
      ? `Layer ${layer}, KV head ${head}, ${T} tokens: no quantization, so the dequantized ${name} equal the original and the error map is blank.`
      : `Layer ${layer}, KV head ${head}, ${T} tokens, ${config}: the largest error is ${fmtAbs(o.maxAbsError)} (colour scale ±${fmtAbs(eDomain[1])}).`;
    return { eDomain, exact, name };
  }

  private legend(i: number, holder: HTMLElement, scheme: Scheme, domain: readonly [number, number], label: string): void {
    const key = `${scheme}:${label}:${domain[0].toPrecision(2)}:${domain[1].toPrecision(2)}`;
    if (this.#legendKeys[i] === key) return;
    this.#legendKeys[i] = key;
    const plotScheme = scheme === 'diverging' ? 'rdbu' : scheme;
    holder.setAttribute('role', 'img');
    holder.setAttribute('aria-label', `Colour legend: ${label} from ${domain[0].toPrecision(3)} to ${domain[1].toPrecision(3)}`);
    let legend = this.#legendCache.get(key);
    if (!legend) {
      legend = Plot.legend({
        color: { type: 'linear', scheme: plotScheme, reverse: scheme === 'diverging', domain: [...domain], label },
        width: 240,
      } as unknown as Parameters<typeof Plot.legend>[0]) as Element;
      if (this.#legendCache.size > 64) this.#legendCache.clear();
      this.#legendCache.set(key, legend);
    }
    holder.replaceChildren(legend);
  }
}
