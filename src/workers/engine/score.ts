/**
 * Scoring a text under several caches (the `score` request): perplexity and per-token
 * log-probabilities, plus KL and top-1 agreement against the exact cache when it is scored too.
 *
 * Setup (as in the Transformers blog's perplexity runs, one token at a time): the first
 * `prefillTokens` tokens (default 1) are prefilled exactly, which quantizes them for quantized
 * caches; every later token is predicted with the cache semantics of `QuantizedLayer.update`.
 */
import { sliceTokens } from '../../lib/model/kv';
import { ModelError } from './errors';
import type { CacheConfig, ScoreConfigResult, ScoreResult } from '../../lib/model/protocol';
import { QuantizedCacheSim } from './quantized-cache';
import type { ModelRunner } from './runner';
import { argMax, klDivergence, logSoftmax } from '../../lib/model/sampling';
import { checkpoint, defaults, lastRow, tokenizePrompt, type OpContext } from './session';

const now = () => performance.now();

export function configLabel(c: CacheConfig): string {
  if (c.label) return c.label;
  if (c.kind === 'exact') return 'fp32 (exact)';
  const q = (x: typeof c.key) => `${x.bits}-bit ${x.method} G${x.groupSize} per-${x.axis}`;
  return `K ${q(c.key)}, V ${q(c.value)}, R ${c.residualLength}`;
}

interface ScoreRun {
  logProbs: Float32Array;
  /** Per scored position, the full log-distribution (only when `keepDistributions`). */
  dists: Float32Array[] | null;
  argmax: Int32Array;
}

/**
 * Score `ids[prefillTokens…]` under one cache. The first `prefillTokens` are prefilled exactly;
 * after that each token is scored with the cache semantics of `config` (for `exact`, the plain
 * cache). Tokens are forwarded in chunks that end at each flush, which equals feeding them one by
 * one (see quantized-cache.ts).
 */
async function scoreOne(
  runner: ModelRunner,
  ids: readonly number[],
  prefillTokens: number,
  config: CacheConfig,
  keepDistributions: boolean,
  ctx: OpContext,
  report: (done: number) => void,
): Promise<ScoreRun> {
  const { vocab, layers } = runner.info;
  const scored = ids.length - prefillTokens;
  const logProbs = new Float32Array(scored);
  const argmax = new Int32Array(scored);
  const dists: Float32Array[] | null = keepDistributions ? [] : null;
  let done = 0;
  const take = (row: Float32Array) => {
    const lp = logSoftmax(row);
    logProbs[done] = lp[ids[prefillTokens + done]];
    argmax[done] = argMax(row);
    if (dists) dists.push(Float32Array.from(lp));
    done++;
  };

  const pre = await runner.forward({ inputIds: ids.slice(0, prefillTokens), past: null });
  take(lastRow(pre, vocab));
  const sim =
    config.kind === 'quantized'
      ? new QuantizedCacheSim(layers, { key: config.key, value: config.value, residualLength: config.residualLength, quantize: ctx.quantize })
      : null;
  sim?.prefill(pre.keys, pre.values);
  let exactPast = { keys: pre.keys, values: pre.values };
  let pos = prefillTokens;
  while (done < scored) {
    await checkpoint(ctx);
    const remaining = ids.length - 1 - pos;
    const chunk = Math.min(remaining, ctx.maxChunk ?? defaults.scoreChunk, sim ? sim.tokensUntilFlush() : Infinity);
    const past = sim ? sim.past() : exactPast;
    const out = await runner.forward({ inputIds: ids.slice(pos, pos + chunk), past });
    for (let i = 0; i < chunk; i++) take(out.logits.subarray(i * vocab, (i + 1) * vocab));
    if (sim) {
      const pastLen = past.keys[0].tokens;
      sim.update(
        out.keys.map((k) => sliceTokens(k, pastLen)),
        out.values.map((v) => sliceTokens(v, pastLen)),
      );
    } else exactPast = { keys: out.keys, values: out.values };
    pos += chunk;
    report(done);
  }
  return { logProbs, dists, argmax };
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
    throw new ModelError('empty-input', `The text has ${ids.length} tokens; scoring needs more than the ${prefillTokens} prefilled.`, 'Use a longer text.');
  }
  const scored = ids.length - prefillTokens;
  const exactIndex = req.configs.findIndex((c) => c.kind === 'exact');
  const keepDists = exactIndex >= 0 && req.configs.length > 1 && scored * runner.info.vocab <= defaults.klBudget;
  const order = exactIndex >= 0 ? [exactIndex, ...req.configs.map((_, i) => i).filter((i) => i !== exactIndex)] : req.configs.map((_, i) => i);
  const total = scored * req.configs.length;
  const results: ScoreConfigResult[] = new Array(req.configs.length);
  let reference: ScoreRun | null = null;

  for (const [k, index] of order.entries()) {
    const config = req.configs[index];
    const label = configLabel(config);
    const t0 = now();
    const run = await scoreOne(runner, ids, prefillTokens, config, keepDists, ctx, (done) =>
      ctx.onProgress?.({ phase: 'score', loaded: k * scored + done, total, detail: label }),
    );
    let nll = 0;
    for (const lp of run.logProbs) nll -= lp;
    nll /= scored;
    let kl: number | null = null;
    let agree: number | null = null;
    if (config.kind === 'exact' && index === exactIndex) {
      reference = run;
      kl = 0;
      agree = 1;
    } else if (reference) {
      agree = 0;
      for (let i = 0; i < scored; i++) if (run.argmax[i] === reference.argmax[i]) agree++;
      agree /= scored;
      if (reference.dists && run.dists) {
        kl = 0;
        for (let i = 0; i < scored; i++) kl += klDivergence(reference.dists[i], run.dists[i]);
        kl /= scored;
      }
    }
    results[index] = { config, label, perplexity: Math.exp(nll), meanNll: nll, logProbs: run.logProbs, klToExact: kl, top1AgreementToExact: agree, ms: now() - t0 };
  }
  return { kind: 'score', tokenIds: ids, tokens: runner.tokenStrings(ids), prefillTokens, results, truncated };
}
