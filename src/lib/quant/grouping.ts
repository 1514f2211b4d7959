/**
 * Validation of tensors and configurations, and the group layout for both axes.
 *
 * Token axis = quanto `group(base, axis=0, group_size)` (`optimum/quanto/tensor/grouped.py`: `base.reshape([-1, G])`)
 * = HQQ `axis=1` (`W.reshape([-1, group_size])`): groups are runs of G consecutive elements of the row-major
 * `[heads, tokens, headDim]` tensor. With G ≤ headDim (and headDim % G == 0) each group lies inside one token's head
 * vector; with G > headDim a group spans consecutive tokens of one head. Like quanto and HQQ there is no padding:
 * the element count must be divisible by G.
 *
 * Channel axis = KIVI per-channel keys (`quant/new_pack.py` quantizes `K.transpose(2, 3)` along its last dim):
 * for each head and channel, groups of G consecutive tokens. Unlike KIVI (which keeps a partial trailing block in
 * full precision) a trailing partial group of `tokens mod G` tokens is quantized as a group of its own.
 * Group order: `[heads, tokenGroups, headDim]`, i.e. index `(h · tokenGroups + tg) · headDim + d`.
 */
import { AXES, BITS, META_DTYPES, METHODS } from './enums';
import type { Axis, Bits, MetaDtype, Method } from './enums';
import { checkOneOf, checkPositiveInteger, optionError } from './errors';
import type { HqqParams, KVTensor, QuantConfig } from './types';

/** Defaults for optional `QuantConfig` fields; HQQ values are `optimize_weights_proximal_legacy`'s `opt_params`. */
export const defaults = {
  metaDtype: 'fp16' as MetaDtype,
  hqq: { lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 } as HqqParams,
};

/** A config with every field filled and checked. */
export type ResolvedConfig = {
  bits: Bits;
  groupSize: number;
  axis: Axis;
  method: Method;
  metaDtype: MetaDtype;
  hqq: HqqParams;
};

/** Checks shape fields and `data.length === heads · tokens · headDim`. */
export function validateTensor(t: KVTensor, name = 'tensor'): void {
  if (t === null || typeof t !== 'object') throw optionError(name, t, 'an object { data, heads, tokens, headDim }');
  if (!(t.data instanceof Float32Array)) {
    throw optionError(`${name}.data`, Object.prototype.toString.call(t.data), 'a Float32Array');
  }
  checkPositiveInteger(`${name}.heads`, t.heads);
  checkPositiveInteger(`${name}.tokens`, t.tokens);
  checkPositiveInteger(`${name}.headDim`, t.headDim);
  const n = t.heads * t.tokens * t.headDim;
  if (t.data.length !== n) {
    throw optionError(
      `${name}.data.length`,
      t.data.length,
      `heads · tokens · headDim = ${t.heads} · ${t.tokens} · ${t.headDim} = ${n}`,
    );
  }
}

/** Fills defaults and checks every field of `cfg` against `t`. Throws RangeError naming the option. */
export function resolveConfig(t: KVTensor, cfg: QuantConfig): ResolvedConfig {
  if (cfg === null || typeof cfg !== 'object') throw optionError('config', cfg, 'an object { bits, groupSize, axis, method }');
  const bits = checkOneOf('bits', cfg.bits, BITS);
  const axis = checkOneOf('axis', cfg.axis, AXES);
  const method = checkOneOf('method', cfg.method, METHODS);
  const metaDtype = checkOneOf('metaDtype', cfg.metaDtype ?? defaults.metaDtype, META_DTYPES);
  const groupSize = checkPositiveInteger('groupSize', cfg.groupSize);
  if (method === 'absmax' && bits < 2) {
    throw optionError('bits', bits, 'one of 2, 3, 4, 8 for method "absmax" (symmetric quantization needs a sign bit)');
  }
  const n = t.heads * t.tokens * t.headDim;
  if (axis === 'token' && n % groupSize !== 0) {
    throw optionError(
      'groupSize',
      groupSize,
      `a divisor of the element count heads · tokens · headDim = ${n} on the token axis (quanto/HQQ do not pad)`,
    );
  }
  const hq = { ...defaults.hqq, ...(cfg.hqq ?? {}) };
  if (!Number.isInteger(hq.iters) || hq.iters < 0 || hq.iters > 1000) {
    throw optionError('hqq.iters', hq.iters, 'an integer from 0 to 1000');
  }
  if (!(hq.beta > 0) || !Number.isFinite(hq.beta)) throw optionError('hqq.beta', hq.beta, 'a finite number > 0');
  if (!(hq.kappa >= 1) || !Number.isFinite(hq.kappa)) throw optionError('hqq.kappa', hq.kappa, 'a finite number ≥ 1');
  if (!(hq.lpNorm > 0 && hq.lpNorm < 1)) throw optionError('hqq.lpNorm', hq.lpNorm, 'a number with 0 < lpNorm < 1');
  return { bits, groupSize, axis, method, metaDtype, hqq: hq };
}

/** Number of token groups per head on the channel axis: ceil(tokens / G). */
export function tokenGroups(tokens: number, groupSize: number): number {
  return Math.ceil(tokens / groupSize);
}

/** Number of groups (= length of `scales` and `zeros`) for a tensor shape and a config. */
export function groupCount(t: Pick<KVTensor, 'heads' | 'tokens' | 'headDim'>, cfg: Pick<QuantConfig, 'axis' | 'groupSize'>): number {
  if (cfg.axis === 'channel') return t.heads * tokenGroups(t.tokens, cfg.groupSize) * t.headDim;
  return Math.floor((t.heads * t.tokens * t.headDim) / cfg.groupSize);
}

/** Group index of element `(head, token, channel)`, following the group order documented above. */
export function groupIndexOf(
  t: Pick<KVTensor, 'heads' | 'tokens' | 'headDim'>,
  cfg: Pick<QuantConfig, 'axis' | 'groupSize'>,
  head: number,
  token: number,
  channel: number,
): number {
  if (cfg.axis === 'channel') {
    const tg = Math.floor(token / cfg.groupSize);
    return (head * tokenGroups(t.tokens, cfg.groupSize) + tg) * t.headDim + channel;
  }
  return Math.floor(((head * t.tokens + token) * t.headDim + channel) / cfg.groupSize);
}
