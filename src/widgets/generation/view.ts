/** Pure parts of the generation widget: the worker request, the streamed-step bookkeeping, Plot options, summary text. */
import { formatNats } from '../../lib/model/sampling';
import { axisInfo } from '../shared/axis-labels';
import * as Plot from '@observablehq/plot';
import type { QuantConfig } from '../../lib/quant/index';
import type { DecodingOptions, Distribution, GenerateRequest, GenerateResult, TokenMessage } from '../../lib/model/protocol';
import type { GenerationState } from './state';
import { colour } from '../shared/palette';

export type GenerateBody = Omit<GenerateRequest, 'id'>;

/**
 * The `generate` request for the current state: exact stream vs the configured quantized cache.
 * The metadata dtype is left to the worker, which stores scale and zero in the cache's dtype as
 * Transformers does (fp32 for the bundled model). Greedy unless sampling is asked for; sampling
 * draws the same seeded uniforms in both streams.
 */
export function buildRequest(s: GenerationState): GenerateBody {
  const q = (axis: QuantConfig['axis']): QuantConfig => ({
    bits: s.bits as QuantConfig['bits'],
    groupSize: s.group,
    axis,
    method: s.method,
  });
  const decoding: DecodingOptions =
    s.strategy === 'sample'
      ? { strategy: 'sample', seed: s.seed, temperature: s.temperature, repetitionPenalty: s.penalty }
      : { strategy: 'greedy', repetitionPenalty: s.penalty };
  return {
    type: 'generate',
    prompt: s.prompt,
    key: q(s.kaxis),
    value: q(s.vaxis),
    residualLength: s.residual,
    maxNewTokens: s.maxnew,
    decoding,
  };
}

export interface Step {
  step: number;
  exact: string;
  quantized: string;
  kl: number;
  agree: boolean;
  sameContext: boolean;
}

export interface Streams {
  steps: Step[];
  /** 0-based step of the first token where the two streams differ; null while they agree. */
  firstDivergence: number | null;
}

export const emptyStreams = (): Streams => ({ steps: [], firstDivergence: null });

/** Fold one streamed token message into the streams (returns the same object, mutated). */
export function applyToken(
  s: Streams,
  t: Pick<TokenMessage, 'step' | 'exact' | 'quantized' | 'kl' | 'top1Agree' | 'sameContext'>,
): Streams {
  s.steps.push({
    step: t.step,
    exact: t.exact.text,
    quantized: t.quantized.text,
    kl: t.kl,
    agree: t.top1Agree,
    sameContext: t.sameContext,
  });
  if (s.firstDivergence === null && t.exact.id !== t.quantized.id) s.firstDivergence = t.step;
  return s;
}

/** Mean KL and top-1 agreement over all steps, and over the steps with identical context (before the first difference). */
export function stepStats(steps: readonly Step[]): {
  meanKl: number;
  agreement: number;
  sameContextSteps: number;
  meanKlSameContext: number;
} {
  let kl = 0;
  let agree = 0;
  let klSame = 0;
  let same = 0;
  for (const s of steps) {
    kl += s.kl;
    agree += s.agree ? 1 : 0;
    if (s.sameContext) {
      klSame += s.kl;
      same++;
    }
  }
  const n = steps.length;
  return { meanKl: n ? kl / n : 0, agreement: n ? agree / n : 1, sameContextSteps: same, meanKlSameContext: same ? klSame / same : 0 };
}

export { formatNats };

/** The teacher-forced comparison of a finished run, as the widget shows it. */
export interface ForcedView {
  kl: ArrayLike<number>;
  top1: ArrayLike<number>;
  top1Agreement: number;
  klDistribution: Distribution;
}

export const forcedOf = (r: Pick<GenerateResult, 'teacherForced'>): ForcedView => r.teacherForced;

/** Words for the teacher-forced comparison (the quantized cache reading the exact continuation). */
export function forcedText(f: ForcedView): string {
  const n = f.kl.length;
  const d = f.klDistribution;
  return (
    `Teacher-forced over the exact continuation (same context at every step), the quantized cache picks the same most likely token at ${(f.top1Agreement * 100).toFixed(1)} % of ${n} positions; ` +
    `KL to the exact distribution: mean ${formatNats(d.mean)}, median ${formatNats(d.p50)}, 90th percentile ${formatNats(d.p90)}, 99th ${formatNats(d.p99)}, largest ${formatNats(d.max)} nats.`
  );
}

export function describeCache(s: GenerationState): string {
  const axis = (a: string) => axisInfo(a).label;
  return `${s.bits}-bit ${s.method}, groups of ${s.group}, keys ${axis(s.kaxis)}, values ${axis(s.vaxis)}, residual ${s.residual}`;
}

/**
 * KL per step (line + dots); the dot symbol says whether the two top-1 tokens agreed (not colour
 * alone). With a finished run's teacher-forced KL, a dashed second line shows the quantized cache
 * in the exact stream's context, which stays comparable after the streams part.
 */
export function klChartOptions(
  steps: readonly Step[],
  firstDivergence: number | null,
  width: number,
  maxSteps: number,
  forced?: ForcedView | null,
): Plot.PlotOptions {
  const data = steps.map((s) => ({ step: s.step + 1, kl: Math.max(s.kl, 1e-7), top1: s.agree ? 'top-1 agrees' : 'top-1 differs' }));
  const marks: Plot.Markish[] = [];
  if (forced && forced.kl.length) {
    const tf = Array.from(forced.kl, (kl, i) => ({ step: i + 1, kl: Math.max(kl, 1e-7) }));
    marks.push(
      Plot.lineY(tf, {
        x: 'step',
        y: 'kl',
        stroke: colour('gold'),
        strokeWidth: 2,
        strokeDasharray: '6,3',
        ariaHidden: 'true',
      } as Plot.LineYOptions),
    );
    marks.push(
      Plot.text([tf[tf.length - 1]], {
        x: 'step',
        y: 'kl',
        text: () => 'teacher-forced',
        textAnchor: 'end',
        dy: -8,
        fill: colour('gold'),
        ariaHidden: 'true',
      } as Plot.TextOptions),
    );
  }
  marks.push(
    Plot.lineY(data, { x: 'step', y: 'kl', stroke: 'currentColor', strokeOpacity: 0.6, ariaHidden: 'true' } as Plot.LineYOptions),
    Plot.dot(data, { x: 'step', y: 'kl', symbol: 'top1', stroke: 'top1', r: 3.5, ariaHidden: 'true' } as Plot.DotOptions),
  );
  if (firstDivergence !== null) {
    marks.push(
      Plot.ruleX([firstDivergence + 1], { stroke: colour('red'), strokeDasharray: '4,3', ariaHidden: 'true' } as Plot.RuleXOptions),
    );
    marks.push(
      Plot.text([firstDivergence + 1], {
        x: (d: number) => d,
        frameAnchor: 'bottom',
        dy: -4,
        text: () => 'first difference',
        textAnchor: 'start',
        dx: 3,
        ariaHidden: 'true',
      } as Plot.TextOptions),
    );
  }
  marks.push(
    Plot.tip(
      data,
      Plot.pointerX({
        x: 'step',
        y: 'kl',
        title: (d: (typeof data)[number]) => `step ${d.step}: KL ${formatNats(d.kl)} nats, ${d.top1}`,
        ariaHidden: 'true',
      }) as Plot.TipOptions,
    ),
  );
  return {
    width,
    height: 200,
    marginLeft: 56,
    ariaLabel:
      `Per-step KL divergence between the exact and the quantized next-token distributions over ${steps.length} generated tokens, log scale; dot shapes mark steps where the most likely token agrees (circle) or differs (cross).` +
      (forced && forced.kl.length
        ? ' A dashed line shows the quantized cache teacher-forced over the exact continuation. The text above the chart summarises both.'
        : ' The text above the chart summarises it.'),
    x: { domain: [1, Math.max(2, maxSteps)], label: 'Generated token', grid: true },
    y: { type: 'log', label: 'KL (nats)', grid: true, tickFormat: (d: number) => formatNats(d, 1) },
    symbol: { domain: ['top-1 agrees', 'top-1 differs'], range: ['circle', 'times'], legend: true },
    color: { domain: ['top-1 agrees', 'top-1 differs'], range: [colour('blue'), colour('red')] },
    marks,
  };
}

export function summaryText(o: {
  steps: readonly Step[];
  firstDivergence: number | null;
  cache: string;
  finished: boolean;
  forced?: ForcedView | null;
}): string {
  const n = o.steps.length;
  if (!n) return 'Press Generate: the model continues the prompt twice, once with the exact cache and once with the quantized one.';
  const st = stepStats(o.steps);
  const div =
    o.firstDivergence === null
      ? `The two continuations are identical so far (${n} tokens).`
      : `First difference at token ${o.firstDivergence + 1}: “${o.steps[o.firstDivergence].exact}” (exact) vs “${o.steps[o.firstDivergence].quantized}” (quantized).`;
  return (
    `${div} Quantized cache: ${o.cache}. Free-running, the mean KL of the next-token distributions is ${formatNats(st.meanKl)} nats over ${n} steps` +
    ` (${formatNats(st.meanKlSameContext)} over the ${st.sameContextSteps} steps with identical context); top-1 agreement ${(st.agreement * 100).toFixed(1)} %.` +
    (o.forced ? ` ${forcedText(o.forced)}` : '') +
    (o.finished ? '' : ' Generating…')
  );
}
