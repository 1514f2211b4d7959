/**
 * The quantizer's metrics table (relative error, SNR, max |error|, mean cosine for the head, the layer and the
 * whole cache, keys and values) and the sentence under it. Kept apart from the element so the columns, the
 * table's fixed cells (updated in place, with the raw number in data-value for tests) and the "computing…"
 * state of the whole-cache row have one home.
 */
import { el } from '../shared/controls';
import type { Metrics } from './model';
import { fmtAbs, fmtCos, fmtDb, fmtPct, metricRows, metricsSummary, type MetricRow } from './view';

export const METRIC_COLUMNS = [
  ['rel', 'Relative error', (m: Metrics) => fmtPct(m.relativeError), (m: Metrics) => m.relativeError],
  ['snr', 'SNR', (m: Metrics) => fmtDb(m.snrDb), (m: Metrics) => m.snrDb],
  ['max', 'Max abs error', (m: Metrics) => fmtAbs(m.maxAbsError), (m: Metrics) => m.maxAbsError],
  ['cos', 'Mean cosine similarity', (m: Metrics) => fmtCos(m.cosine), (m: Metrics) => m.cosine],
] as const;

/** One row's cells: the shown text and the raw number (absent while the row is still computing). */
export function metricCells(row: MetricRow): Array<{ id: string; text: string; value?: string }> {
  return METRIC_COLUMNS.map(([id, , fmt, raw]) =>
    row.m ? { id, text: fmt(row.m), value: String(raw(row.m)) } : { id, text: 'computing…' },
  );
}

/** What the sentence under the table names besides the metrics: tensor shown, where, with what, whole cache. */
export interface SummaryContext {
  tensor: 'k' | 'v';
  layer: number;
  headIndex: number;
  config: string;
  whole: Metrics | null;
}

export class MetricsTable {
  #table = el('table', { className: 'metrics-table' });
  /** The table in its horizontal scroller. */
  readonly root = el('div', { className: 'table-scroll' }, this.#table);
  readonly summary = el('p', { className: 'chart-summary' });
  #cells = new Map<string, HTMLTableCellElement>();
  #rows: MetricRow[] = [];

  constructor() {
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col', textContent: 'Scope' }),
      ...METRIC_COLUMNS.map(([, label]) => el('th', { scope: 'col', textContent: label })),
    );
    const body = el('tbody');
    for (const row of metricRows({ layer: 0, head: 0, kHead: null!, kLayer: null!, vHead: null!, vLayer: null!, whole: null })) {
      const scope = el('th', { scope: 'row' });
      this.#cells.set(`${row.key}:scope`, scope as unknown as HTMLTableCellElement);
      const tr = el('tr', {}, scope);
      tr.dataset.row = row.key;
      for (const [id] of METRIC_COLUMNS) {
        const td = el('td', { className: 'num' });
        td.dataset.metric = `${row.key}-${id}`;
        this.#cells.set(`${row.key}-${id}`, td);
        tr.append(td);
      }
      body.append(tr);
    }
    this.#table.append(el('caption', { textContent: 'Quantization error (all numbers from src/lib/quant)' }), el('thead', {}, head), body);
  }

  /** New rows (a redraw); the whole-cache row may still be computing. */
  setRows(rows: MetricRow[]): void {
    this.#rows = rows;
  }

  /** The whole-cache metrics arrived for the current rows. */
  setWhole(metrics: Metrics): void {
    const row = this.#rows.find((r) => r.key === 'cache');
    if (row) row.m = metrics;
  }

  /** Writes the rows into the cells and, once the shown head has metrics, the sentence. */
  fill(o: SummaryContext): void {
    for (const row of this.#rows) {
      this.#cells.get(`${row.key}:scope`)!.textContent = row.scope;
      for (const cell of metricCells(row)) {
        const td = this.#cells.get(`${row.key}-${cell.id}`)!;
        td.textContent = cell.text;
        if (cell.value !== undefined) td.dataset.value = cell.value;
        else delete td.dataset.value;
      }
    }
    const hm = this.#rows.find((r) => r.key === (o.tensor === 'k' ? 'k-head' : 'v-head'))?.m;
    if (hm) this.summary.textContent = metricsSummary({ ...o, head: hm });
  }
}
