/**
 * What the worker does for `prefill` and `generate` (scoring is in `score.ts`), over any `ModelRunner`
 * (transformers.js in the worker and in Node tests, a synthetic model in unit tests).
 *
 * Cancellation is checked between forward steps (`ctx.signal.aborted`), and each step yields to
 * the event loop first so a `cancel` message can arrive.
 */
import { sliceTokens, type KVTensor } from '../../lib/model/kv';

/** An own copy of a tensor (batched outputs are views into one shared buffer). */
const copyKV = (t: KVTensor): KVTensor => ({ ...t, data: t.data.slice() });
import { CancelledError, ModelError } from './errors';
import type {
  DecodingOptions,
  GenerateRequest,
  GenerateResult,
  PrefillResult,
  ProgressMessage,
  TokenMessage,
  TruncationNotice,
} from '../../lib/model/protocol';
import { QuantizedCacheSim, type FakeQuantizeFn } from './quantized-cache';
import type { ForwardOutput, ModelRunner } from './runner';
import { applyRepetitionPenalty, argMax, createRng, distributionOf, klDivergence, logSoftmax, sampleTopK } from '../../lib/model/sampling';
import { teacherForced, withCacheMeta } from './teacher-forced';

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
export async function checkpoint(ctx: Pick<OpContext, 'signal'>): Promise<void> {
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

export function lastRow(out: ForwardOutput, vocab: number): Float32Array {
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

function chooseToken(logits: Float32Array, context: readonly number[], decoding: DecodingOptions, rng: (() => number) | null): number {
  const penalty = decoding.repetitionPenalty ?? defaults.repetitionPenalty;
  const adjusted = applyRepetitionPenalty(logits, context, penalty);
  if (decoding.strategy === 'greedy') return argMax(adjusted);
  return sampleTopK(adjusted, decoding.temperature ?? defaults.temperature, decoding.topK ?? defaults.topK, rng!());
}

function validateGenerate(req: Pick<GenerateRequest, 'maxNewTokens' | 'residualLength' | 'decoding'>): void {
  if (!Number.isInteger(req.maxNewTokens) || req.maxNewTokens < 1 || req.maxNewTokens > defaults.maxNewTokens) {
    throw new ModelError(
      'invalid-request',
      `maxNewTokens must be an integer from 1 to ${defaults.maxNewTokens}, not ${req.maxNewTokens}.`,
      'Pick a smaller number of tokens.',
    );
  }
  if (!Number.isInteger(req.residualLength) || req.residualLength < 0) {
    throw new ModelError(
      'invalid-request',
      `residualLength must be an integer ≥ 0, not ${req.residualLength}.`,
      'Pick a residual length of 0 or more.',
    );
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
 * emits end-of-sequence. Sampling draws the same uniforms in both streams (one seeded PRNG each).
 *
 * Free-running streams part at the first differing token and from then on read different texts,
 * so their per-step KL mixes the cache's effect with the context's. Afterwards the quantized
 * cache is therefore also teacher-forced over the exact continuation (`teacherForced`), which
 * gives KL and top-1 agreement in the same context at every step — the comparison llama.cpp's
 * `--kl-divergence` makes.
 */
export async function generate(
  runner: ModelRunner,
  req: Pick<GenerateRequest, 'prompt' | 'key' | 'value' | 'residualLength' | 'maxNewTokens' | 'decoding' | 'backend'>,
  ctx: OpContext,
): Promise<GenerateResult> {
  validateGenerate(req);
  const { vocab, layers, maxPositions } = runner.info;
  const decoding: DecodingOptions = req.decoding ?? { strategy: 'greedy' };
  const { ids, truncated } = tokenizePrompt(runner, req.prompt, Math.max(1, maxPositions - req.maxNewTokens));
  const t0 = now();
  ctx.onProgress?.({ phase: 'prefill', loaded: 0, total: ids.length });
  const pre = await runner.forward({ inputIds: ids, past: null });
  const key = withCacheMeta(req.key, runner.info.dtype);
  const value = withCacheMeta(req.value, runner.info.dtype);
  const sim = new QuantizedCacheSim(layers, {
    key,
    value,
    residualLength: req.residualLength,
    quantize: ctx.quantize,
    backend: req.backend,
  });
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
  /** The exact run's next-token log-distributions and arg-maxes: the teacher-forced pass's reference. */
  const refDists: Float32Array[] = [];
  const refArgmax: number[] = [];

  for (let step = 0; step < req.maxNewTokens; step++) {
    await checkpoint(ctx);
    const logpE = logSoftmax(logitsE);
    const logpQ = logSoftmax(logitsQ);
    const kl = klDivergence(logpE, logpQ);
    const top1Agree = argMax(logitsE) === argMax(logitsQ);
    refDists.push(Float32Array.from(logpE));
    refArgmax.push(argMax(logitsE));
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

    // Both streams in one batched forward where the runner supports it (their pasts always have
    // the same length: prompt + steps), else one forward each.
    const past = sim.past();
    const exactInput = { inputIds: [tokE], past: exactPast };
    const quantInput = { inputIds: [tokQ], past };
    const [e, q] = runner.forwardBatch
      ? await runner.forwardBatch([exactInput, quantInput])
      : [await runner.forward(exactInput), await runner.forward(quantInput)];
    exactPast = { keys: e.keys.map(copyKV), values: e.values.map(copyKV) };
    logitsE = lastRow(e, vocab).slice();

    const pastLen = past.keys[0].tokens;
    sim.update(
      q.keys.map((k) => sliceTokens(k, pastLen)),
      q.values.map((v) => sliceTokens(v, pastLen)),
    );
    logitsQ = lastRow(q, vocab).slice();
  }
  const t2 = now();
  const forced = await teacherForced(
    runner,
    [...ids, ...outE],
    ids.length,
    { kind: 'quantized', key, value, residualLength: req.residualLength, backend: req.backend },
    { keepDistributions: false, reference: { argmax: refArgmax, dists: refDists } },
    ctx,
  );
  const tfKl = forced.kl!;
  const tfTop1 = forced.top1!;
  return {
    kind: 'generate',
    promptTokens: ids.length,
    exact: { tokenIds: outE, text: runner.decode(outE) },
    quantized: { tokenIds: outQ, text: runner.decode(outQ) },
    meanKl: steps ? klSum / steps : 0,
    top1Agreement: steps ? agree / steps : 1,
    firstDivergence,
    teacherForced: {
      kl: tfKl,
      top1: tfTop1,
      top1Agreement: tfTop1.length ? tfTop1.reduce((a, b) => a + b, 0) / tfTop1.length : 1,
      klDistribution: distributionOf(tfKl),
    },
    flushes: sim.flushes,
    timings: { prefillMs: t1 - t0, decodeMs: t2 - t1, tokensPerSecond: steps > 1 ? (steps - 1) / ((t2 - t1) / 1000) : 0 },
    truncated,
  };
}
