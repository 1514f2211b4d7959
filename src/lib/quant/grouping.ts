/**
 * Validation of tensors and configurations, and the group layouts (`AXES` in enums.ts) of a row-major
 * `[heads, tokens, headDim]` tensor with N = heads · tokens · headDim elements and group size G.
 *
 * - `token` = quanto `group(base, axis=0, group_size)` (optimum-quanto HEAD `optimum/quanto/tensor/grouped.py`:
 *   `base.reshape([-1, G])`) = HQQ `axis=1` (hqq 0.2.8.post1 `hqq/core/quantize.py` `Quantizer.quantize`:
 *   `W.reshape([-1, group_size])`): group g = flat elements [g·G, (g+1)·G). With G ≤ headDim (headDim % G == 0) a
 *   group lies inside one token's head vector; with G > headDim it spans consecutive tokens of one head. No padding:
 *   N % G == 0.
 * - `channel` = KIVI per-channel keys (`quant/new_pack.py` quantizes `K.transpose(2, 3)` along its last dim): for
 *   each head and channel, groups of G consecutive tokens. Unlike KIVI (which keeps a partial trailing block in full
 *   precision) a trailing partial group of `tokens mod G` tokens is quantized as a group of its own. Group order
 *   `[heads, tokenGroups, headDim]`: index `(h · tokenGroups + tg) · headDim + d`.
 * - `strided` = HQQ `axis=0`: `W.reshape([group_size, -1])`, min/max (and the optimizer's mean) along dim 0, so group
 *   j ∈ [0, N/G) = elements {j + i·N/G : i ∈ [0, G)} (in that order). N % G == 0. Group membership depends on N.
 * - `flat-channel` = quanto `axis=-1`: `group()` reshapes to (R/G, G, headDim) with R = heads · tokens (the
 *   flattened (head, token) row index), permutes to (G, headDim, R/G) and reshapes to (G, headDim · R/G);
 *   `MaxOptimizer` then reduces dim 0. So group index c = d · (R/G) + a (quanto's column order) holds elements
 *   {(a·G + r) · headDim + d : r ∈ [0, G)}: channel d over G consecutive rows, straddling heads when tokens % G ≠ 0.
 *   R % G == 0 and G ≤ R (quanto raises otherwise).
 *
 * Every kernel reduces a group's elements in the member order given by `groupMembers` (this matters only for HQQ's
 * float32 mean).
 */
import { AXES, BITS, META_DTYPES, METHODS } from './enums';
import type { Axis, Bits, MetaDtype, Method } from './enums';
import { checkOneOf, checkPositiveInteger, optionError } from './errors';
import type { HqqParams, KVTensor, QuantConfig } from './types';

/**
 * Defaults for optional `QuantConfig` fields. `metaDtype` 'fp16' matches an fp16 cache; callers quantizing an fp32
 * cache should pass 'fp32' (the metadata follows the cache dtype). HQQ values are hqq 0.2.8.post1
 * `optimize_weights_proximal_legacy`'s `opt_params` (κ unused there).
 */
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
    throw optionError(`${name}.data.length`, t.data.length, `heads · tokens · headDim = ${t.heads} · ${t.tokens} · ${t.headDim} = ${n}`);
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
  checkLayoutSize(t, axis, groupSize, method);
  const hq = { ...defaults.hqq, ...(cfg.hqq ?? {}) };
  if (!Number.isInteger(hq.iters) || hq.iters < 0 || hq.iters > 1000) {
    throw optionError('hqq.iters', hq.iters, 'an integer from 0 to 1000');
  }
  if (!(hq.beta > 0) || !Number.isFinite(hq.beta)) throw optionError('hqq.beta', hq.beta, 'a finite number > 0');
  if (!(hq.kappa >= 1) || !Number.isFinite(hq.kappa)) throw optionError('hqq.kappa', hq.kappa, 'a finite number ≥ 1');
  if (!(hq.lpNorm > 0 && hq.lpNorm < 1)) throw optionError('hqq.lpNorm', hq.lpNorm, 'a number with 0 < lpNorm < 1');
  return { bits, groupSize, axis, method, metaDtype, hqq: hq };
}

/**
 * Throws the RangeError for a group size the layout cannot split the tensor into, quoting the upstream error
 * (quanto `group()`'s ValueError, HQQ `Quantizer.quantize`'s assertion) so a reader recognises it.
 */
export function checkLayoutSize(t: Shape, axis: Axis, groupSize: number, method?: Method): void {
  const n = t.heads * t.tokens * t.headDim;
  const rows = t.heads * t.tokens;
  const hqqText = `HQQ: "group_size should be divisble by the total tensor dimensions. shape: torch.Size([1, ${t.heads}, ${t.tokens}, ${t.headDim}]), group_size: ${groupSize}"`;
  const quantoText = (numel: number): string => `quanto: "Group size (${groupSize}) must be a divisor of (${numel})"`;
  if (axis === 'token' && n % groupSize !== 0) {
    throw optionError(
      'groupSize',
      groupSize,
      `a divisor of the element count heads · tokens · headDim = ${n} on the token axis (quanto/HQQ do not pad; ` +
        `${method === 'hqq' ? hqqText : quantoText(n)})`,
    );
  }
  if (axis === 'strided' && n % groupSize !== 0) {
    throw optionError(
      'groupSize',
      groupSize,
      `a divisor of the element count heads · tokens · headDim = ${n} for axis "strided" (HQQ axis=0 reshapes to [G, N/G]; ${hqqText})`,
    );
  }
  if (axis === 'flat-channel' && (rows % groupSize !== 0 || groupSize > rows)) {
    throw optionError(
      'groupSize',
      groupSize,
      `a divisor of heads · tokens = ${t.heads} · ${t.tokens} = ${rows} for axis "flat-channel" (quanto axis=-1; ${quantoText(rows)})`,
    );
  }
}

type Shape = Pick<KVTensor, 'heads' | 'tokens' | 'headDim'>;
type Grouping = Pick<QuantConfig, 'axis' | 'groupSize'>;

/** Number of token groups per head on the channel axis: ceil(tokens / G). */
export function tokenGroups(tokens: number, groupSize: number): number {
  return Math.ceil(tokens / groupSize);
}

/** Number of groups (= length of `scales` and `zeros`) for a tensor shape and a config. */
export function groupCount(t: Shape, cfg: Grouping): number {
  if (cfg.axis === 'channel') return t.heads * tokenGroups(t.tokens, cfg.groupSize) * t.headDim;
  return Math.floor((t.heads * t.tokens * t.headDim) / cfg.groupSize);
}

/** Group index of element `(head, token, channel)`, following the group order documented above. */
export function groupIndexOf(t: Shape, cfg: Grouping, head: number, token: number, channel: number): number {
  const G = cfg.groupSize;
  if (cfg.axis === 'channel') {
    const tg = Math.floor(token / G);
    return (head * tokenGroups(t.tokens, G) + tg) * t.headDim + channel;
  }
  const flat = (head * t.tokens + token) * t.headDim + channel;
  if (cfg.axis === 'strided') return flat % ((t.heads * t.tokens * t.headDim) / G);
  if (cfg.axis === 'flat-channel') return channel * ((t.heads * t.tokens) / G) + Math.floor((head * t.tokens + token) / G);
  return Math.floor(flat / G);
}

/**
 * Flat indices (into the row-major `[heads, tokens, headDim]` data) of the elements of group `group` under
 * `layout`, in the order the kernels reduce them (see the header). For a widget drawing which elements share a
 * group. Throws RangeError for a group size the layout rejects or a group index out of range.
 */
export function groupMembers(layout: Axis, shape: Shape, groupSize: number, group: number): Int32Array {
  checkOneOf('layout', layout, AXES);
  checkPositiveInteger('shape.heads', shape.heads);
  checkPositiveInteger('shape.tokens', shape.tokens);
  checkPositiveInteger('shape.headDim', shape.headDim);
  const G = checkPositiveInteger('groupSize', groupSize);
  checkLayoutSize(shape, layout, G);
  const groups = groupCount(shape, { axis: layout, groupSize: G });
  if (!Number.isInteger(group) || group < 0 || group >= groups) {
    throw optionError('group', group, `an integer from 0 to ${groups - 1}`);
  }
  const { heads, tokens, headDim: D } = shape;
  const n = heads * tokens * D;
  if (layout === 'token') return Int32Array.from({ length: G }, (_, i) => group * G + i);
  if (layout === 'strided') return Int32Array.from({ length: G }, (_, i) => group + i * (n / G));
  if (layout === 'flat-channel') {
    const A = (heads * tokens) / G;
    const d = Math.floor(group / A);
    const a = group % A;
    return Int32Array.from({ length: G }, (_, r) => (a * G + r) * D + d);
  }
  const tgs = tokenGroups(tokens, G);
  const d = group % D;
  const tg = Math.floor(group / D) % tgs;
  const h = Math.floor(group / (D * tgs));
  const t0 = tg * G;
  const len = Math.min(G, tokens - t0);
  return Int32Array.from({ length: len }, (_, r) => (h * tokens + t0 + r) * D + d);
}

/**
 * All groups at once, for kernels that work on contiguous groups: `idx[k]` = flat element at gathered position k,
 * groups in group order, each group's elements in `groupMembers` order; group g = positions [off[g], off[g+1]).
 * The last result is cached (widgets re-quantize the same shape on every slider move). Assumes a checked config.
 */
export type GatherPlan = { key: string; groups: number; idx: Int32Array; off: Int32Array };
let lastPlan: GatherPlan | null = null;

export function gatherPlan(layout: Axis, shape: Shape, G: number): GatherPlan {
  const { heads, tokens, headDim: D } = shape;
  const key = `${layout}:${heads}:${tokens}:${D}:${G}`;
  if (lastPlan !== null && lastPlan.key === key) return lastPlan;
  const n = heads * tokens * D;
  const groups = groupCount(shape, { axis: layout, groupSize: G });
  const idx = new Int32Array(n);
  const off = new Int32Array(groups + 1);
  let k = 0;
  if (layout === 'token') {
    for (let i = 0; i < n; i++) idx[i] = i;
    for (let g = 0; g <= groups; g++) off[g] = g * G;
  } else if (layout === 'strided') {
    const cols = n / G;
    for (let j = 0; j < cols; j++) {
      off[j] = k;
      for (let i = 0; i < G; i++) idx[k++] = j + i * cols;
    }
    off[cols] = k;
  } else if (layout === 'flat-channel') {
    const A = (heads * tokens) / G;
    for (let d = 0, g = 0; d < D; d++) {
      for (let a = 0; a < A; a++, g++) {
        off[g] = k;
        for (let r = 0; r < G; r++) idx[k++] = (a * G + r) * D + d;
      }
    }
    off[groups] = k;
  } else {
    const tgs = tokenGroups(tokens, G);
    let g = 0;
    for (let h = 0; h < heads; h++) {
      for (let tg = 0; tg < tgs; tg++) {
        const t0 = tg * G;
        const len = Math.min(G, tokens - t0);
        for (let d = 0; d < D; d++) {
          off[g++] = k;
          for (let r = 0; r < len; r++) idx[k++] = (h * tokens + t0 + r) * D + d;
        }
      }
    }
    off[groups] = k;
  }
  return (lastPlan = { key, groups, idx, off });
}
