import { describe, expect, it } from 'vitest';
import { applyToken, buildRequest, emptyStreams, klChartOptions, stepStats, summaryText } from '../../../../src/widgets/generation/view';
import { generationCodec } from '../../../../src/widgets/generation/state';

const state = (query: string) => generationCodec.parse(new URLSearchParams(query)).state;
const tok = (step: number, e: number, q: number, kl: number, agree: boolean, same: boolean) => ({
  step,
  exact: { id: e, text: ` e${e}` },
  quantized: { id: q, text: ` q${q}` },
  kl,
  top1Agree: agree,
  sameContext: same,
});

describe.each([
  [
    '',
    { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' },
    { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' },
    128,
    48,
    { strategy: 'greedy', repetitionPenalty: 1.3 },
  ],
  [
    'bits=2&group=32&kaxis=channel&method=hqq&residual=0&maxnew=8&penalty=1',
    { bits: 2, groupSize: 32, axis: 'channel', method: 'hqq' },
    { bits: 2, groupSize: 32, axis: 'token', method: 'hqq' },
    0,
    8,
    { strategy: 'greedy', repetitionPenalty: 1 },
  ],
  [
    'strategy=sample&seed=7&temperature=1.2',
    { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' },
    { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' },
    128,
    48,
    { strategy: 'sample', seed: 7, temperature: 1.2, repetitionPenalty: 1.3 },
  ],
])('buildRequest(%s)', (query, key, value, residual, maxNew, decoding) => {
  it('maps the URL state to the worker request', () => {
    const r = buildRequest(state(query));
    expect(r).toEqual({
      type: 'generate',
      prompt: state(query).prompt,
      key,
      value,
      residualLength: residual,
      maxNewTokens: maxNew,
      decoding,
    });
  });
});

describe('streamed steps', () => {
  it('find the first differing token and average KL and top-1 agreement', () => {
    const s = emptyStreams();
    applyToken(s, tok(0, 5, 5, 0.001, true, true));
    applyToken(s, tok(1, 6, 6, 0.003, true, true));
    expect(s.firstDivergence).toBeNull();
    applyToken(s, tok(2, 7, 8, 0.2, false, true));
    applyToken(s, tok(3, 9, 9, 0.5, true, false));
    expect(s.firstDivergence).toBe(2);
    const st = stepStats(s.steps);
    expect(st.meanKl).toBeCloseTo((0.001 + 0.003 + 0.2 + 0.5) / 4, 12);
    expect(st.agreement).toBe(0.75);
    expect(st.sameContextSteps).toBe(3);
    expect(st.meanKlSameContext).toBeCloseTo(0.204 / 3, 12);
    const text = summaryText({ steps: s.steps, firstDivergence: s.firstDivergence, cache: 'c', finished: true });
    expect(text).toContain('First difference at token 3');
    expect(text).toContain('top-1 agreement 75.0 %');
    const opts = klChartOptions(s.steps, s.firstDivergence, 600, 48);
    expect(opts.ariaLabel).toMatch(/KL divergence/);
    expect(opts.symbol).toMatchObject({ range: ['circle', 'times'] });
  });
  it('an empty run invites the reader to press Generate', () => {
    expect(summaryText({ steps: [], firstDivergence: null, cache: 'c', finished: true })).toContain('Press Generate');
  });
});
