/** The error histogram's table rows and width rule (histogram.ts), against hand-counted bins. */
import { describe, expect, it } from 'vitest';
import { histogramTable, histWidth } from '../../../../src/widgets/quantizer/histogram';
import { histogram } from '../../../../src/widgets/quantizer/view';

describe('histogramTable', () => {
  it('one row per bin: from, to, count', () => {
    // [-1, 0) holds -1 and -0.2; [0, 1] holds 0.1, 0.9 and 1 (the top edge goes in the last bin).
    const t = histogramTable(histogram([-1, -0.2, 0.1, 0.9, 1], [-1, 1], 2));
    expect(t.columns).toEqual(['From', 'To', 'Elements']);
    expect(t.rows).toEqual([
      [-1, 0, 2],
      [0, 1, 3],
    ]);
  });
});

describe('histWidth', () => {
  it('follows the body between 280 and 720 px, 640 before layout', () => {
    expect(histWidth(0)).toBe(640);
    expect(histWidth(100)).toBe(280);
    expect(histWidth(500)).toBe(500);
    expect(histWidth(1200)).toBe(720);
  });
});
