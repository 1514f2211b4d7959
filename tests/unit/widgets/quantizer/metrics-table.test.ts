/** The metrics table's cells (metrics-table.ts metricCells): shown text in the table's precision, raw number kept. */
import { describe, expect, it } from 'vitest';
import { metricCells } from '../../../../src/widgets/quantizer/metrics-table';

describe('metricCells', () => {
  it('formats each column and keeps the raw value', () =>
    expect(
      metricCells({ scope: 'x', key: 'k-head', m: { relativeError: 0.0912, snrDb: 20.8, maxAbsError: 0.123456, cosine: 0.9987612 } }),
    ).toEqual([
      { id: 'rel', text: '9.1 %', value: '0.0912' },
      { id: 'snr', text: '20.8 dB', value: '20.8' },
      { id: 'max', text: '0.123', value: '0.123456' },
      { id: 'cos', text: '0.99876', value: '0.9987612' },
    ]));
  it('an exact reconstruction', () =>
    expect(
      metricCells({ scope: 'x', key: 'cache', m: { relativeError: 0, snrDb: Infinity, maxAbsError: 0, cosine: 1 } }).map((c) => c.text),
    ).toEqual(['0.0 %', '∞ (exact)', '0', '1']));
  it('a row still computing has no values', () =>
    expect(metricCells({ scope: 'x', key: 'cache', m: null })).toEqual(
      ['rel', 'snr', 'max', 'cos'].map((id) => ({ id, text: 'computing…' })),
    ));
});
