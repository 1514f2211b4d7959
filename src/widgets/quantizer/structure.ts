/**
 * "What the format stores", shown for an engine format (vLLM/SGLang FP8 or NVFP4, llama.cpp blocks): the head's
 * value histogram under the format's representable grid, and the block layout in words. Kept apart from the
 * element so the FP8 scale and NVFP4 block-scale lookups that place the grid have one home.
 */
import * as Plot from '@observablehq/plot';
import { el } from '../shared/controls';
import { extentOf } from '../shared/heatmap';
import { engineFormatInfo, type KVTensor } from '../../lib/quant/index';
import { absMax, fp8Scales } from '../../lib/quant/formats/fp8';
import { nvfp4BlockScales, nvfp4GlobalScale } from '../../lib/quant/formats/nvfp4';
import type { FormatSpec } from './model';
import { histWidth } from './histogram';
import { blockStructure, E2M1_VALUES, fmtAbs, fp8Values, gridIn, gridOptions, gridSummary, histogram, niceSymmetric } from './view';

export class FormatStructure {
  /** Hidden while the widget shows a Transformers setting; filled on the first engine format. */
  readonly root = el('div', { className: 'format-structure' });
  #gridPlot = el('div', { className: 'plot' });
  #text = el('p', { className: 'format-summary' });

  /**
   * Histogram of the head's values (`headData`, by channel) with the FP8/E2M1 grid, or the block layout (text),
   * for the format `f` of tensor `t`; `null` hides the panel.
   */
  show(t: KVTensor, head: number, f: FormatSpec | null, name: string, headData: Float32Array<ArrayBufferLike>, bodyWidth: number): void {
    this.root.hidden = f === null;
    if (!f) return;
    const info = engineFormatInfo(f.format);
    const per = t.tokens * t.headDim;
    const domain = niceSymmetric(Math.max(Math.abs(Math.min(...extentOf(headData))), Math.abs(Math.max(...extentOf(headData)))));
    let grid: number[] = [];
    let gridText = '';
    if (f.format === 'fp8_e4m3' || f.format === 'fp8_e5m2') {
      const kind = f.format === 'fp8_e4m3' ? 'e4m3' : 'e5m2';
      const scale = fp8Scales((a, b) => absMax(t.data, a, b), t.heads, per, kind, f.scale ?? 'unit')[head];
      grid = gridIn(fp8Values(kind), scale, domain);
      gridText = gridSummary(grid, { tensor: name, format: `${info.label} with scale ${fmtAbs(scale)}`, domain });
    } else if (f.format === 'nvfp4') {
      // the block holding the head's largest |x|: its E4M3 block scale under the tensor's global scale (nvfp4.ts)
      const ds = nvfp4BlockScales(absMax(headData, 0, headData.length), nvfp4GlobalScale(absMax(t.data, 0, t.data.length)))[1];
      gridText = ` The lines are the E2M1 grid of the block that holds this head’s largest value (block scale ${fmtAbs(ds)}); every other block scales the same 15 values to its own maximum.`;
      grid = gridIn(E2M1_VALUES, ds, domain);
    }
    const text = `${blockStructure(f.format, t.headDim)}${f.hadamard ? ' The Hadamard rotation mixes each token’s channels before quantization, so the stored values are not the channels shown here.' : ''}`;
    this.#text.textContent = grid.length && f.format !== 'nvfp4' ? `${text} ${gridText}` : `${text}${gridText}`;
    this.#text.dataset.format = f.format;
    if (grid.length && !f.hadamard) {
      const bins = histogram(headData, domain, 61);
      this.#gridPlot.replaceChildren(Plot.plot(gridOptions(bins, grid, { width: histWidth(bodyWidth), tensor: name, format: info.label })));
    } else this.#gridPlot.replaceChildren();
    if (!this.root.firstChild)
      this.root.append(el('p', { className: 'chart-heading', textContent: 'What the format stores' }), this.#gridPlot, this.#text);
  }
}
