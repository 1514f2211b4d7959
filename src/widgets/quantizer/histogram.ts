/**
 * The error histogram of the shown head (a Plot chart that follows the body's width) and its "Show as table"
 * toggle. Kept apart from the element so the binning, the width rule and the redraw on resize have one home.
 */
import * as Plot from '@observablehq/plot';
import { el, tableToggle, type TableData } from '../shared/controls';
import { histogram, histogramOptions, type Bin } from './view';

/** Chart width for a body width: 280–720 px, 640 before layout (shared with the format-structure chart). */
export const histWidth = (bodyWidth: number) => Math.max(280, Math.min(720, bodyWidth || 640));

/** The histogram's data as the table toggle and CSV show it: one row per bin. */
export function histogramTable(bins: readonly Bin[]): TableData {
  return {
    caption: 'Error histogram of the head shown',
    columns: ['From', 'To', 'Elements'],
    rows: bins.map((b) => [b.x1, b.x2, b.count]),
  };
}

export class ErrorHistogram {
  readonly root = el('div', { className: 'plot' });
  #bins: Bin[] = [];
  readonly table = tableToggle(() => histogramTable(this.#bins));
  #drawn: { width: number; tensor: string; exact: boolean } | null = null;

  /** Bins the signed error over `domain` (41 bins) and draws it at the body's width; the open table follows. */
  show(err: ArrayLike<number>, domain: readonly [number, number], tensor: string, exact: boolean, bodyWidth: number): void {
    this.#bins = histogram(err, domain, 41);
    this.draw(tensor, exact, bodyWidth);
    this.table.refresh();
  }

  /** A new width redraws the histogram at once. */
  resize(bodyWidth: number): void {
    if (this.#drawn && histWidth(bodyWidth) !== this.#drawn.width) this.draw(this.#drawn.tensor, this.#drawn.exact, bodyWidth);
  }

  private draw(tensor: string, exact: boolean, bodyWidth: number): void {
    const width = histWidth(bodyWidth);
    this.#drawn = { width, tensor, exact };
    this.root.replaceChildren(Plot.plot(histogramOptions(this.#bins, { width, tensor, exact })));
  }
}
