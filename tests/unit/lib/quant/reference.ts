/**
 * Independent float64 reference for the tests, written the way the PyTorch code reads: reshape into a list of
 * groups (nested arrays), amin/amax per group, elementwise formulas, explicit loops. Shares no code with src.
 */

export type Groups = { values: number[][]; index: number[][] }; // index: flat position of each value

/** quanto axis=0 / HQQ axis=1: `flat.reshape([-1, G])`. */
export function groupsToken(flat: ArrayLike<number>, G: number): Groups {
  const values: number[][] = [];
  const index: number[][] = [];
  for (let g = 0; g < flat.length / G; g++) {
    const v: number[] = [];
    const ix: number[] = [];
    for (let j = 0; j < G; j++) {
      v.push(flat[g * G + j]);
      ix.push(g * G + j);
    }
    values.push(v);
    index.push(ix);
  }
  return { values, index };
}

/** HQQ axis=0: `flat.reshape([G, -1])`, a group is a column: elements j, j + N/G, j + 2N/G, … */
export function groupsStrided(flat: ArrayLike<number>, G: number): Groups {
  const cols = flat.length / G;
  const matrix: number[][] = [];
  for (let i = 0; i < G; i++) matrix.push(Array.from({ length: cols }, (_, j) => i * cols + j));
  const index = Array.from({ length: cols }, (_, j) => matrix.map((row) => row[j]));
  return { values: index.map((ix) => ix.map((i) => flat[i])), index };
}

/**
 * quanto axis=-1 (`group()`): reshape to (R/G, G, D) with R = heads·tokens, permute (1, 2, 0), reshape (G, D·R/G);
 * a group is a column c = d·(R/G) + a.
 */
export function groupsFlatChannel(flat: ArrayLike<number>, rows: number, D: number, G: number): Groups {
  const A = rows / G;
  const index: number[][] = [];
  for (let d = 0; d < D; d++) {
    for (let a = 0; a < A; a++) {
      const ix: number[] = [];
      for (let r = 0; r < G; r++) ix.push((a * G + r) * D + d);
      index.push(ix);
    }
  }
  return { values: index.map((ix) => ix.map((i) => flat[i])), index };
}

/** KIVI per-channel: nested[h][t][d]; groups ordered [h][tokenGroup][d], each holding up to G tokens. */
export function groupsChannel(flat: ArrayLike<number>, heads: number, tokens: number, D: number, G: number): Groups {
  const nested: number[][][] = [];
  for (let h = 0; h < heads; h++) {
    const rows: number[][] = [];
    for (let t = 0; t < tokens; t++) {
      const row: number[] = [];
      for (let d = 0; d < D; d++) row.push(flat[(h * tokens + t) * D + d]);
      rows.push(row);
    }
    nested.push(rows);
  }
  const values: number[][] = [];
  const index: number[][] = [];
  for (let h = 0; h < heads; h++) {
    for (let t0 = 0; t0 < tokens; t0 += G) {
      for (let d = 0; d < D; d++) {
        const v: number[] = [];
        const ix: number[] = [];
        for (let t = t0; t < Math.min(t0 + G, tokens); t++) {
          v.push(nested[h][t][d]);
          ix.push((h * tokens + t) * D + d);
        }
        values.push(v);
        index.push(ix);
      }
    }
  }
  return { values, index };
}

/** torch.round: round half to even, written with floor. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

export const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** All finite non-negative halves, ascending, decoded from bit patterns (sign 0, exponent 0..30). */
const HALVES: number[] = (() => {
  const out: number[] = [];
  for (let bits = 0; bits < 0x7c00; bits++) {
    const e = bits >> 10;
    const m = bits & 0x3ff;
    out.push(e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
  }
  return out;
})();

/** Nearest half by binary search in the table; ties go to the even mantissa; overflow → Infinity. */
export function refFp16(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? -1 : 1;
  const top = HALVES[HALVES.length - 1]; // 65504
  if (a >= top + 16) return sign * Infinity; // 65520 is the tie between 65504 and 65536 → even = 65536 → overflow
  let lo = 0;
  let hi = HALVES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALVES[mid] <= a) lo = mid;
    else hi = mid;
  }
  let r: number;
  if (a >= top) r = top;
  else {
    const dl = a - HALVES[lo];
    const dh = HALVES[hi] - a;
    r = dl < dh ? HALVES[lo] : dh < dl ? HALVES[hi] : lo % 2 === 0 ? HALVES[lo] : HALVES[hi];
  }
  return sign * r;
}

export function refMeta(x: number, meta: 'fp16' | 'fp32'): number {
  if (meta === 'fp32') return clamp(Math.fround(x), -3.4028234663852886e38, 3.4028234663852886e38);
  return clamp(refFp16(x), -65504, 65504);
}

export type RefOut = { deq: number[]; codes: number[]; scales: number[]; zeros: number[] };

function scatter(
  groups: Groups,
  n: number,
  per: (g: number[], gi: number) => { q: number[]; x: number[]; scale: number; zero: number },
): RefOut {
  const deq = new Array<number>(n).fill(NaN);
  const codes = new Array<number>(n).fill(-1);
  const scales: number[] = [];
  const zeros: number[] = [];
  groups.values.forEach((g, gi) => {
    const r = per(g, gi);
    scales.push(r.scale);
    zeros.push(r.zero);
    groups.index[gi].forEach((pos, j) => {
      codes[pos] = r.q[j];
      deq[pos] = r.x[j];
    });
  });
  return { deq, codes, scales, zeros };
}

/** quanto MaxOptimizer + quantize_affine + dequantize, meta rounded to `meta` and used for both directions. */
export function refMinmax(groups: Groups, n: number, bits: number, meta: 'fp16' | 'fp32'): RefOut {
  return scatter(groups, n, (g) => {
    const rmin = Math.min(...g);
    const rmax = Math.max(...g);
    const scale = refMeta((rmax - rmin) / (2 ** bits - 1), meta);
    const zero = refMeta(rmin, meta);
    const q = g.map((x) => (scale === 0 ? 0 : clamp(roundHalfEven((x - zero) / scale), 0, 2 ** bits - 1)));
    return { q, x: q.map((c) => c * scale + zero), scale, zero };
  });
}

export function refAbsmax(groups: Groups, n: number, bits: number, meta: 'fp16' | 'fp32'): RefOut {
  const qmax = 2 ** (bits - 1) - 1;
  return scatter(groups, n, (g) => {
    const amax = Math.max(...g.map(Math.abs));
    const scale = refMeta(amax / qmax, meta);
    const qs = g.map((x) => (scale === 0 ? 0 : clamp(roundHalfEven(x / scale), -qmax, qmax)));
    return { q: qs.map((c) => c + 2 ** (bits - 1)), x: qs.map((c) => c * scale), scale, zero: 0 };
  });
}

/**
 * HQQ Quantizer.quantize + optimize_weights_proximal_legacy of hqq 0.2.8.post1 (mobiusml/hqq e0b1d00), line by line,
 * in float64: β constant (κ unused since hqq a566c78), best_error starts at +∞, the zero of the breaking step kept.
 */
export function refHqq(
  groups: Groups,
  n: number,
  bits: number,
  meta: 'fp16' | 'fp32',
  opt = { lpNorm: 0.7, beta: 10, kappa: 1.01, iters: 20 },
): RefOut & { itersRun: number } {
  const maxV = 2 ** bits - 1;
  const W = groups.values;
  const scale = W.map((g) => {
    const denom = Math.max(...g) - Math.min(...g);
    let s = maxV / denom;
    if (Math.abs(denom) <= 1e-4) s = 1.0;
    return Math.min(s, 2e4);
  });
  let zero = W.map((g, i) => -Math.min(...g) * scale[i]);
  const shrink = (x: number, beta: number, p: number): number =>
    Math.sign(x) * Math.max(0, Math.abs(x) - (1 / beta) * Math.pow(Math.abs(x), p - 1));
  const beta = opt.beta;
  let bestError = Infinity;
  let itersRun = 0;
  for (let i = 0; i < opt.iters; i++) {
    itersRun++;
    const Wq = W.map((g, gi) => g.map((w) => clamp(roundHalfEven(w * scale[gi] + zero[gi]), 0, maxV)));
    const Wr = Wq.map((g, gi) => g.map((q) => (q - zero[gi]) / scale[gi]));
    const We = W.map((g, gi) => g.map((w, j) => shrink(w - Wr[gi][j], beta, opt.lpNorm)));
    zero = W.map((g, gi) => g.reduce((acc, w, j) => acc + (Wq[gi][j] - (w - We[gi][j]) * scale[gi]), 0) / g.length);
    let err = 0;
    W.forEach((g, gi) => g.forEach((w, j) => (err += Math.abs(w - Wr[gi][j]))));
    err /= n;
    if (err < bestError) bestError = err;
    else break;
  }
  const out = scatter(groups, n, (g, gi) => {
    const q = g.map((w) => clamp(roundHalfEven(w * scale[gi] + zero[gi]), 0, maxV));
    const sc = refMeta(1 / scale[gi], meta);
    const z = refMeta(zero[gi], meta);
    return { q, x: q.map((c) => (c - z) * sc), scale: sc, zero: z };
  });
  return { ...out, itersRun };
}

/** Seeded PRNG for test data (mulberry32; one implementation, in the model's sampling code). */
import { createRng as mulberry32 } from '../../../../src/lib/model/sampling';
export { mulberry32 };

export function keyLikeTensor(seed: number, heads: number, tokens: number, headDim: number, outlierChannels = [1, 5]) {
  const r = mulberry32(seed);
  const data = new Float32Array(heads * tokens * headDim);
  for (let i = 0; i < data.length; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    data[i] = g * (outlierChannels.includes(i % headDim) ? 10 : 1) + 0.3;
  }
  return { data, heads, tokens, headDim };
}
