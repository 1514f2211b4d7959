/**
 * What the worker does for `prefill`, `generate` and `score`, over any `ModelRunner`
 * (transformers.js in the worker and in Node tests, a synthetic model in unit tests).
 *
 * Cancellation is checked between forward steps (`ctx.signal.aborted`), and each step yields to
 * the event loop first so a `cancel` message can arrive.
 */
import { sliceTokens } from './kv';
import { CancelledError, ModelError } from './errors';
import type {
  CacheConfig,
  DecodingOptions,
  GenerateRequest,
  GenerateResult,
  PrefillResult,
  ProgressMessage,
  ScoreConfigResult,
  ScoreResult,
  TokenMessage,
  TruncationNotice,
} from './protocol';
import { QuantizedCacheSim, type FakeQuantizeFn } from './quantized-cache';
import type { ForwardOutput, ModelRunner } from './runner';
import { applyRepetitionPenalty, argMax, createRng, klDivergence, logSoftmax, sampleTopK } from './sampling';

export const defaults = {
  repetitionPenalty: 1.3,
  temperature: 0.8,
  topK: 40,
  prefillTokens: 1,
  /** Longest chunk forwarded at once while scoring (bounds the logits buffer). */
  scoreChunk: 128,
  /** KL to the exact cache is computed only if scored tokens × vocab stays under this. */
  klBudget: 8_000_000,
  maxNewTokens: 512,
} as const;

export interface OpContext {
  signal?: { readonly aborted: boolean };
  onProgress?: (p: Omit<ProgressMessage, 'type' | 'id'>) => void;
  onToken?: (t: Omit<TokenMessage, 'type' | 'id'>) => void;
  /** Fake quantizer for quantized caches (`fakeQuantize(...).dequantized`). */
  quantize: FakeQuantizeFn;
  /** Cap on tokens per scoring forward (default `defaults.scoreChunk`; 1 = strictly token by token). */
  maxChunk?: number;
}

const now = () => performance.now();

/** Let pending messages (a `cancel`) run, then throw if the request was cancelled. */
async function checkpoint(ctx: Pick<OpContext, 'signal'>): Promise<void> {
  await new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
  if (ctx.signal?.aborted) throw new CancelledError();
}

/**
 * Tokenize and keep at most `limit` tokens. Long prompts keep their END: the continuation and the
 * last tokens' attention depend on the most recent context.
 */
export function tokenizePrompt(
  runner: ModelRunner,
  text: string,
  limit: number,
  what = 'prompt',
): { ids: number[]; truncated: TruncationNotice | null } {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ModelError('empty-input', `The ${what} is empty.`, `Type a few words into the ${what} box and try again.`);
  }
  const ids = runner.encode(text);
  if (ids.length === 0) {
    throw new ModelError('empty-input', `The ${what} produced no tokens.`, `Type a few words and try again.`);
  }
  if (ids.length <= limit) return { ids, truncated: null };
  const kept = ids.slice(ids.length - limit);
  return {
    ids: kept,
    truncated: {
      originalTokens: ids.length,
      keptTokens: kept.length,
      kept: 'end',
      message: `The ${what} is ${ids.length} tokens long but the model reads at most ${limit} here, so only its last ${kept.length} tokens were used.`,
    },
  };
}

function lastRow(out: ForwardOutput, vocab: number): Float32Array {
  return out.logits.subarray((out.n - 1) * vocab, out.n * vocab);
}

/** Exact forward over the prompt: per-layer K/V (and queries), last logits, timings. */
export async function prefill(runner: ModelRunner, prompt: string, ctx: Partial<OpContext> = {}): Promise<PrefillResult> {
  const t0 = now();
  const { ids, truncated } = tokenizePrompt(runner, prompt, runner.info.maxPositions);
  const t1 = now();
  ctx.onProgress?.({ phase: 'prefill', loaded: 0, total: ids.length });
  const out = await runner.forward({ inputIds: ids, past: null });
  const t2 = now();
  return {
    kind: 'prefill',
    info: runner.info,
    tokenIds: ids,
    tokens: runner.tokenStrings(ids),
    keys: out.keys,
    values: out.values,
    queries: out.queries,
    lastLogits: lastRow(out, runner.info.vocab).slice(),
    timings: { tokenizeMs: t1 - t0, forwardMs: t2 - t1, totalMs: now() - t0 },
    truncated,
  };
}

function chooseToken(
  logits: Float32Array,
  context: readonly number[],
  decoding: DecodingOptions,
  rng: (() => number) | null,
): number {
  const penalty = decoding.repetitionPenalty ?? defaults.repetitionPenalty;
  const adjusted = applyRepetitionPenalty(logits, context, penalty);
  if (decoding.strategy === 'greedy') return argMax(adjusted);
  return sampleTopK(adjusted, decoding.temperature ?? defaults.temperature, decoding.topK ?? defaults.topK, rng!());
}

function validateGenerate(req: Pick<GenerateRequest, 'maxNewTokens' | 'residualLength' | 'decoding'>): void {
  if (!Number.isInteger(req.maxNewTokens) || req.maxNewTokens < 1 || req.maxNewTokens > defaults.maxNewTokens) {
    throw new ModelError('invalid-request', `maxNewTokens must be an integer from 1 to ${defaults.maxNewTokens}, not ${req.maxNewTokens}.`, 'Pick a smaller number of tokens.');
  }
  if (!Number.isInteger(req.residualLength) || req.residualLength < 0) {
    throw new ModelError('invalid-request', `residualLength must be an integer ≥ 0, not ${req.residualLength}.`, 'Pick a residual length of 0 or more.');
  }
  const d = req.decoding;
  if (d?.strategy === 'sample' && d.temperature !== undefined && !(d.temperature > 0)) {
    throw new ModelError('invalid-request', `temperature must be above 0, not ${d.temperature}.`, 'Pick a temperature above 0.');
  }
}

/**
 * Two continuations side by side from one exact prefill: one decodes with the exact cache, the
 * other with the simulated quantized cache. Both see the same first distribution (prefill
 * attention is exact in Transformers too). Stops after `maxNewTokens` or when either stream
 * emits end-of-sequence.
 */
export async function generate(
  runner: ModelRunner,
  req: Pick<GenerateRequest, 'prompt' | 'key' | 'value' | 'residualLength' | 'maxNewTokens' | 'decoding'>,
  ctx: OpContext,
): Promise<GenerateResult> {
  validateGenerate(req);
  const { vocab, layers, maxPositions } = runner.info;
  const decoding: DecodingOptions = req.decoding ?? { strategy: 'greedy' };
  const { ids, truncated } = tokenizePrompt(runner, req.prompt, Math.max(1, maxPositions - req.maxNewTokens));
  const t0 = now();
  ctx.onProgress?.({ phase: 'prefill', loaded: 0, total: ids.length });
  const pre = await runner.forward({ inputIds: ids, past: null });
  const sim = new QuantizedCacheSim(layers, { key: req.key, value: req.value, residualLength: req.residualLength, quantize: ctx.quantize });
  sim.prefill(pre.keys, pre.values);
  let exactPast = { keys: pre.keys, values: pre.values };
  let logitsE = lastRow(pre, vocab).slice();
  let logitsQ = logitsE;
  const t1 = now();

  const seed = decoding.strategy === 'sample' ? decoding.seed : 0;
  const rngE = decoding.strategy === 'sample' ? createRng(seed) : null;
  const rngQ = decoding.strategy === 'sample' ? createRng(seed) : null;
  const ctxE = [...ids];
  const ctxQ = [...ids];
  const outE: number[] = [];
  const outQ: number[] = [];
  let klSum = 0;
  let agree = 0;
  let steps = 0;
  let firstDivergence: number | null = null;
  const eos = new Set(runner.eosTokenIds);

  for (let step = 0; step < req.maxNewTokens; step++) {
    await checkpoint(ctx);
    const logpE = logSoftmax(logitsE);
    const logpQ = logSoftmax(logitsQ);
    const kl = klDivergence(logpE, logpQ);
    const top1Agree = argMax(logitsE) === argMax(logitsQ);
    const sameContext = firstDivergence === null;
    const tokE = chooseToken(logitsE, ctxE, decoding, rngE);
    const tokQ = chooseToken(logitsQ, ctxQ, decoding, rngQ);
    if (tokE !== tokQ && firstDivergence === null) firstDivergence = step;
    klSum += kl;
    agree += top1Agree ? 1 : 0;
    steps++;
    outE.push(tokE);
    outQ.push(tokQ);
    ctxE.push(tokE);
    ctxQ.push(tokQ);
    ctx.onToken?.({
      step,
      exact: { id: tokE, text: runner.tokenStrings([tokE])[0] },
      quantized: { id: tokQ, text: runner.tokenStrings([tokQ])[0] },
      kl,
      top1Agree,
      sameContext,
    });
    ctx.onProgress?.({ phase: 'generate', loaded: step + 1, total: req.maxNewTokens });
    if (step === req.maxNewTokens - 1 || eos.has(tokE) || eos.has(tokQ)) break;

    const e = await runner.forward({ inputIds: [tokE], past: exactPast });
    exactPast = { keys: e.keys, values: e.values };
    logitsE = lastRow(e, vocab).slice();

    const past = sim.past();
    const q = await runner.forward({ inputIds: [tokQ], past });
    const pastLen = past.keys[0].tokens;
    sim.update(
      q.keys.map((k) => sliceTokens(k, pastLen)),
      q.values.map((v) => sliceTokens(v, pastLen)),
    );
    logitsQ = lastRow(q, vocab).slice();
  }
  const t2 = now();
  return {
    kind: 'generate',
    promptTokens: ids.length,
    exact: { tokenIds: outE, text: runner.decode(outE) },
    quantized: { tokenIds: outQ, text: runner.decode(outQ) },
    meanKl: steps ? klSum / steps : 0,
    top1Agreement: steps ? agree / steps : 1,
    firstDivergence,
    flushes: sim.flushes,
    timings: { prefillMs: t1 - t0, decodeMs: t2 - t1, tokensPerSecond: steps > 1 ? (steps - 1) / ((t2 - t1) / 1000) : 0 },
    truncated,
  };
}

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
