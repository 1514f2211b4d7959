/**
 * One teacher-forced pass of a cache over a fixed token sequence: the first `prefillTokens` are
 * prefilled exactly (and, for a quantized cache, quantized at once, as Transformers does at the
 * first `update`), then every later token is read with the cache semantics of `config`, and the
 * next-token distribution at each position is kept as a log-probability of the actual next
 * token, an arg-max and, against a reference run of the same sequence, KL(reference ‖ this) and
 * top-1 agreement. Scoring a text (score.ts) and comparing the generation widget's quantized
 * cache with the exact one in the same context (session.ts) both run through here.
 *
 * Tokens are forwarded in chunks that end at each flush, which equals feeding them one by one
 * (see quantized-cache.ts).
 */
import { sliceTokens, type QuantConfig } from '../../lib/model/kv';
import type { CacheConfig } from '../../lib/model/protocol';
import { argMax, klDivergence, logSoftmax } from '../../lib/model/sampling';
import { QuantizedCacheSim } from './quantized-cache';
import type { ModelRunner } from './runner';
import { checkpoint, defaults, lastRow, type OpContext } from './session';

export interface ForcedRun {
  /** Natural-log probability of each next token (`ids[prefillTokens…]`). */
  logProbs: Float32Array;
  argmax: Int32Array;
  /** Per position, the full log-distribution (only with `keepDistributions`). */
  dists: Float32Array[] | null;
  /** KL(reference ‖ this) per position, when the reference kept its distributions. */
  kl: Float32Array | null;
  /** 1 where the arg-max equals the reference's, when a reference was given. */
  top1: Uint8Array | null;
}

export interface Reference {
  argmax: ArrayLike<number>;
  dists: readonly ArrayLike<number>[] | null;
}

/**
 * The scale and zero are stored in the cache's dtype in Transformers (quanto asserts
 * `scale.dtype == base.dtype`; the HQQ layer casts its meta to the keys' dtype): fp32 for an fp32
 * model, fp16 for an fp16 one. An explicit `metaDtype` (e.g. 'fp16' to show what an fp16 model
 * does) is kept.
 */
export function withCacheMeta(c: QuantConfig, kvDtype: string): QuantConfig {
  if (c.metaDtype) return c;
  return { ...c, metaDtype: kvDtype === 'float32' ? 'fp32' : 'fp16' };
}

export async function teacherForced(
  runner: ModelRunner,
  ids: readonly number[],
  prefillTokens: number,
  config: CacheConfig,
  opts: { keepDistributions: boolean; reference: Reference | null },
  ctx: OpContext,
  report: (done: number) => void = () => undefined,
): Promise<ForcedRun> {
  const { vocab, layers, dtype } = runner.info;
  const scored = ids.length - prefillTokens;
  const logProbs = new Float32Array(scored);
  const argmax = new Int32Array(scored);
  const dists: Float32Array[] | null = opts.keepDistributions ? [] : null;
  const ref = opts.reference;
  const kl = ref?.dists ? new Float32Array(scored) : null;
  const top1 = ref ? new Uint8Array(scored) : null;
  // Created before the prefill, like Transformers' cache: a configuration its backend rejects fails here.
  const sim =
    config.kind === 'quantized'
      ? new QuantizedCacheSim(layers, {
          key: withCacheMeta(config.key, dtype),
          value: withCacheMeta(config.value, dtype),
          residualLength: config.residualLength,
          quantize: ctx.quantize,
          backend: config.backend,
        })
      : null;
  let done = 0;
  const take = (row: Float32Array) => {
    const lp = logSoftmax(row);
    logProbs[done] = lp[ids[prefillTokens + done]];
    const am = argMax(row);
    argmax[done] = am;
    if (top1 && ref) top1[done] = am === ref.argmax[done] ? 1 : 0;
    // Reference distributions are kept in float32; compare in the same precision so that two equal
    // distributions give KL = 0 exactly rather than float32 rounding noise (~1e-8 nats).
    const lp32 = kl || dists ? Float32Array.from(lp) : null;
    if (kl && ref?.dists) kl[done] = klDivergence(ref.dists[done], lp32!);
    if (dists) dists.push(lp32!);
    done++;
  };

  const pre = await runner.forward({ inputIds: ids.slice(0, prefillTokens), past: null });
  take(lastRow(pre, vocab));
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
  return { logProbs, argmax, dists, kl, top1 };
}
