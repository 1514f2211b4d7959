/**
 * Scoring a text under several caches (the `score` request): perplexity and per-token
 * log-probabilities, plus KL and top-1 agreement against the exact cache when it is scored too.
 *
 * Setup (as in the Transformers blog's perplexity runs, one token at a time): the first
 * `prefillTokens` tokens (default 1) are prefilled exactly, which quantizes them for quantized
 * caches; every later token is predicted with the cache semantics of `QuantizedLayer.update`.
 */
import { ModelError } from './errors';
import type { CacheConfig, ScoreConfigResult, ScoreResult } from '../../lib/model/protocol';
import type { ModelRunner } from './runner';
import { distributionOf } from '../../lib/model/sampling';
import { defaults, tokenizePrompt, type OpContext } from './session';
import { teacherForced, type ForcedRun } from './teacher-forced';
import { TransformersUnsupported } from './transformers-check';

const now = () => performance.now();

export function configLabel(c: CacheConfig): string {
  if (c.label) return c.label;
  if (c.kind === 'exact') return 'fp32 (exact)';
  const q = (x: typeof c.key) => `${x.bits}-bit ${x.method} G${x.groupSize} per-${x.axis}`;
  return `K ${q(c.key)}, V ${q(c.value)}, R ${c.residualLength}`;
}

/** Perplexity and per-token log-probabilities of `text` under each cache config. */
export async function score(
  runner: ModelRunner,
  req: { text: string; configs: CacheConfig[]; prefillTokens?: number },
  ctx: OpContext,
): Promise<ScoreResult> {
  const prefillTokens = req.prefillTokens ?? defaults.prefillTokens;
  if (!Array.isArray(req.configs) || req.configs.length === 0) {
    throw new ModelError('invalid-request', 'No cache configurations were given to score.', 'Pick at least one configuration.');
  }
  if (!Number.isInteger(prefillTokens) || prefillTokens < 1) {
    throw new ModelError('invalid-request', `prefillTokens must be an integer ≥ 1, not ${prefillTokens}.`, 'Use 1 or more prefill tokens.');
  }
  const { ids, truncated } = tokenizePrompt(runner, req.text, runner.info.maxPositions, 'text');
  if (ids.length <= prefillTokens) {
    throw new ModelError(
      'empty-input',
      `The text has ${ids.length} tokens; scoring needs more than the ${prefillTokens} prefilled.`,
      'Use a longer text.',
    );
  }
  const scored = ids.length - prefillTokens;
  const exactIndex = req.configs.findIndex((c) => c.kind === 'exact');
  const keepDists = exactIndex >= 0 && req.configs.length > 1 && scored * runner.info.vocab <= defaults.klBudget;
  const order =
    exactIndex >= 0 ? [exactIndex, ...req.configs.map((_, i) => i).filter((i) => i !== exactIndex)] : req.configs.map((_, i) => i);
  const total = scored * req.configs.length;
  const results: ScoreConfigResult[] = new Array(req.configs.length);
  let reference: ForcedRun | null = null;

  for (const [k, index] of order.entries()) {
    const config = req.configs[index];
    const label = configLabel(config);
    const t0 = now();
    const isReference = config.kind === 'exact' && index === exactIndex;
    let run: ForcedRun;
    try {
      run = await teacherForced(
        runner,
        ids,
        prefillTokens,
        config,
        { keepDistributions: isReference && keepDists, reference },
        ctx,
        (done) => ctx.onProgress?.({ phase: 'score', loaded: k * scored + done, total, detail: label }),
      );
    } catch (err) {
      if (!(err instanceof TransformersUnsupported)) throw err;
      results[index] = {
        config,
        label,
        failure: { backend: err.backend, message: err.message, raises: err.raises, atTokens: err.atTokens },
        perplexity: NaN,
        meanNll: NaN,
        logProbs: new Float32Array(0),
        klToExact: null,
        top1AgreementToExact: null,
        klPerPosition: null,
        top1PerPosition: null,
        klDistribution: null,
        ms: now() - t0,
      };
      continue;
    }
    let nll = 0;
    for (const lp of run.logProbs) nll -= lp;
    nll /= scored;
    let kl: number | null = null;
    let agree: number | null = null;
    let klPerPosition: Float32Array | null = null;
    let top1PerPosition: Uint8Array | null = null;
    if (isReference) {
      reference = run;
      kl = 0;
      agree = 1;
      klPerPosition = new Float32Array(scored);
      top1PerPosition = new Uint8Array(scored).fill(1);
    } else if (run.top1) {
      top1PerPosition = run.top1;
      agree = run.top1.reduce((a, b) => a + b, 0) / scored;
      if (run.kl) {
        klPerPosition = run.kl;
        let sum = 0;
        for (const v of run.kl) sum += v;
        kl = sum / scored;
      }
    }
    results[index] = {
      config,
      label,
      failure: null,
      perplexity: Math.exp(nll),
      meanNll: nll,
      logProbs: run.logProbs,
      klToExact: kl,
      top1AgreementToExact: agree,
      klPerPosition,
      top1PerPosition,
      klDistribution: klPerPosition ? distributionOf(klPerPosition) : null,
      ms: now() - t0,
    };
  }
  return { kind: 'score', tokenIds: ids, tokens: runner.tokenStrings(ids), prefillTokens, results, truncated };
}
