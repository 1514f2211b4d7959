import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AXES, allocateFakeQuantOutput, fakeQuantize, fakeQuantizeInto, setWasmEnabled } from '../../../../src/lib/quant/index';
import type { Axis, KVTensor, QuantConfig } from '../../../../src/lib/quant/index';
import { groupsChannel, groupsFlatChannel, groupsStrided, groupsToken, keyLikeTensor, refAbsmax, refMinmax } from './reference';

const small = (): KVTensor => ({ data: new Float32Array(2 * 3 * 4), heads: 2, tokens: 3, headDim: 4 });
const ok: QuantConfig = { bits: 4, groupSize: 4, axis: 'token', method: 'minmax' };

describe('fakeQuantize rejects impossible configurations with readable RangeErrors', () => {
  it.each<[string, Partial<QuantConfig> | Record<string, unknown>, RegExp]>([
    ['bits 5', { bits: 5 }, /bits = 5 is not allowed: expected one of 1, 2, 3, 4, 8/],
    ['bits 16', { bits: 16 }, /bits = 16 .*one of 1, 2, 3, 4, 8/],
    ['groupSize 0', { groupSize: 0 }, /groupSize = 0 .*positive integer/],
    ['groupSize −4', { groupSize: -4 }, /groupSize = -4 .*positive integer/],
    ['groupSize 2.5', { groupSize: 2.5 }, /groupSize = 2.5 .*positive integer/],
    ['groupSize NaN', { groupSize: NaN }, /groupSize = NaN .*positive integer/],
    ['groupSize not dividing', { groupSize: 5 }, /groupSize = 5 .*divisor of the element count .* = 24/],
    ['axis', { axis: 'row' }, /axis = "row" .*one of "token", "channel", "strided", "flat-channel"/],
    ['strided not dividing', { axis: 'strided', groupSize: 5 }, /groupSize = 5 .*"strided".*group_size should be divisble/],
    [
      'flat-channel not dividing',
      { axis: 'flat-channel', groupSize: 4 },
      /groupSize = 4 .*heads · tokens = 2 · 3 = 6 .*Group size \(4\) must be a divisor of \(6\)/,
    ],
    ['method', { method: 'gptq' }, /method = "gptq" .*one of "minmax", "hqq", "absmax"/],
    ['metaDtype', { metaDtype: 'bf16' }, /metaDtype = "bf16" .*one of "fp16", "fp32"/],
    ['absmax 1 bit', { method: 'absmax', bits: 1 }, /bits = 1 .*one of 2, 3, 4, 8 for method "absmax"/],
    ['hqq iters', { method: 'hqq', hqq: { iters: -1 } }, /hqq.iters = -1/],
    ['hqq beta', { method: 'hqq', hqq: { beta: 0 } }, /hqq.beta = 0/],
  ])('%s', (_name, patch, msg) => {
    expect(() => fakeQuantize(small(), { ...ok, ...patch } as QuantConfig)).toThrow(RangeError);
    expect(() => fakeQuantize(small(), { ...ok, ...patch } as QuantConfig)).toThrow(msg);
  });

  it('channel axis accepts any token count (partial group), token axis requires divisibility', () => {
    expect(() => fakeQuantize(small(), { ...ok, axis: 'channel', groupSize: 2 })).not.toThrow();
    expect(() => fakeQuantize(small(), { ...ok, groupSize: 48 })).toThrow(/groupSize = 48/);
  });

  it.each<[string, KVTensor, RegExp]>([
    [
      'length mismatch',
      { data: new Float32Array(10), heads: 2, tokens: 3, headDim: 4 },
      /tensor.data.length = 10 .*heads · tokens · headDim = 2 · 3 · 4 = 24/,
    ],
    ['heads 0', { data: new Float32Array(0), heads: 0, tokens: 3, headDim: 4 }, /tensor.heads = 0 .*positive integer/],
    ['tokens 1.5', { data: new Float32Array(8), heads: 1, tokens: 1.5, headDim: 4 }, /tensor.tokens = 1.5/],
    [
      'not Float32Array',
      { data: [1, 2] as unknown as Float32Array, heads: 1, tokens: 1, headDim: 2 },
      /tensor.data = .*Array.*Float32Array/,
    ],
  ])('tensor: %s', (_n, t, msg) => {
    expect(() => fakeQuantize(t, ok)).toThrow(RangeError);
    expect(() => fakeQuantize(t, ok)).toThrow(msg);
  });

  it.each(['minmax', 'hqq', 'absmax'] as const)('%s: NaN or ±Infinity data throw, naming the index', (method) => {
    for (const axis of AXES) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const pos of [0, 5, 23]) {
          const t = small();
          t.data.fill(0.5);
          t.data[pos] = bad;
          expect(() => fakeQuantize(t, { ...ok, method, axis, groupSize: axis === 'flat-channel' ? 2 : 4 })).toThrow(
            new RegExp(`tensor.data\\[${pos}\\] = ${bad} .*finite`),
          );
        }
      }
    }
  });

  it('fakeQuantizeInto checks buffer types and lengths', () => {
    const out = allocateFakeQuantOutput(small(), ok);
    expect(() => fakeQuantizeInto(small(), ok, { ...out, codes: new Uint8Array(3) })).toThrow(
      /out.codes = "Uint8Array\(3\)" .*Uint8Array of length ≥ 24/,
    );
    expect(() => fakeQuantizeInto(small(), ok, { ...out, scales: new Float64Array(6) as unknown as Float32Array })).toThrow(/out.scales/);
  });
});

describe('fakeQuantizeInto', () => {
  it('reuses buffers, gives the same result as fakeQuantize, and works in place', () => {
    const x = keyLikeTensor(3, 2, 40, 16);
    for (const method of ['minmax', 'hqq', 'absmax'] as const) {
      for (const axis of AXES) {
        const cfg: QuantConfig = { bits: 3, groupSize: 8, axis, method };
        const a = fakeQuantize(x, cfg);
        const out = allocateFakeQuantOutput(x, cfg);
        const b = fakeQuantizeInto(x, cfg, out);
        expect(b.dequantized).toBe(out.dequantized);
        expect(b.dequantized).toEqual(a.dequantized);
        expect(b.codes).toEqual(a.codes);
        fakeQuantizeInto(x, { ...cfg, bits: 2 }, out); // different config, same buffers
        fakeQuantizeInto(x, cfg, out);
        expect(out.dequantized).toEqual(a.dequantized);
        const copy = { ...x, data: x.data.slice() };
        fakeQuantizeInto(copy, cfg, { ...out, dequantized: copy.data });
        expect(copy.data).toEqual(a.dequantized);
      }
    }
  });
});

describe('golden: minmax and absmax against the float64 reference', () => {
  const cases: Array<[string, number, Axis, number, 'fp16' | 'fp32']> = [];
  for (const method of ['minmax', 'absmax']) {
    for (const bits of [1, 2, 3, 4, 8]) {
      if (method === 'absmax' && bits === 1) continue;
      for (const axis of AXES) {
        for (const meta of ['fp16', 'fp32'] as const)
          cases.push([method, bits, axis, axis === 'token' || axis === 'strided' ? 64 : axis === 'flat-channel' ? 30 : 32, meta]);
      }
    }
  }
  afterEach(() => setWasmEnabled(true));
  it.each(cases)('%s %i-bit %s G %i %s (WASM and JS paths)', (method, bits, axis, G, meta) => {
    const x = keyLikeTensor(bits * 7 + G, 2, 75, 64);
    const groups =
      axis === 'token'
        ? groupsToken(x.data, G)
        : axis === 'strided'
          ? groupsStrided(x.data, G)
          : axis === 'flat-channel'
            ? groupsFlatChannel(x.data, 2 * 75, 64, G)
            : groupsChannel(x.data, 2, 75, 64, G);
    const ref = (method === 'minmax' ? refMinmax : refAbsmax)(groups, x.data.length, bits, meta);
    for (const wasm of [true, false]) {
      setWasmEnabled(wasm);
      const r = fakeQuantize(x, { bits: bits as 2, groupSize: G, axis, method: method as 'minmax', metaDtype: meta });
      expect(Array.from(r.scales)).toEqual(ref.scales.map(Math.fround));
      expect(Array.from(r.zeros)).toEqual(ref.zeros.map(Math.fround));
      expect(Array.from(r.codes)).toEqual(ref.codes);
      expect(Array.from(r.dequantized)).toEqual(ref.deq.map(Math.fround));
    }
  });

  it('metaDtype fp32 keeps every scale and zero exactly in float32, for every method and layout', () => {
    const x = keyLikeTensor(11, 2, 12, 16);
    for (const method of ['minmax', 'hqq', 'absmax'] as const) {
      for (const axis of AXES) {
        const r = fakeQuantize(x, { bits: 4, groupSize: axis === 'flat-channel' ? 8 : 16, axis, method, metaDtype: 'fp32' });
        const r16 = fakeQuantize(x, { bits: 4, groupSize: axis === 'flat-channel' ? 8 : 16, axis, method, metaDtype: 'fp16' });
        let finer = 0;
        for (let g = 0; g < r.groups; g++) {
          expect(Math.fround(r.scales[g])).toBe(r.scales[g]);
          expect(Math.fround(r.zeros[g])).toBe(r.zeros[g]);
          if (r.scales[g] !== r16.scales[g]) finer++; // fp32 is not secretly fp16
        }
        expect(finer).toBeGreaterThan(r.groups / 2);
      }
    }
  });
});

// ---------- properties ----------

const BITS = [1, 2, 3, 4, 8] as const;
/** Random shape + token-axis-compatible group size + data. */
const arbCase = (values: fc.Arbitrary<number>) =>
  fc
    .record({
      heads: fc.integer({ min: 1, max: 3 }),
      tokens: fc.integer({ min: 1, max: 9 }),
      headDim: fc.constantFrom(1, 2, 4, 8, 16),
      bits: fc.constantFrom(...BITS),
      axis: fc.constantFrom(...AXES),
      method: fc.constantFrom('minmax' as const, 'hqq' as const, 'absmax' as const),
      metaDtype: fc.constantFrom('fp16' as const, 'fp32' as const),
      gPick: fc.nat(),
      seed: fc.nat(),
    })
    .chain((c) => {
      const n = c.heads * c.tokens * c.headDim;
      const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
      const rows = c.heads * c.tokens;
      const rowDivisors = Array.from({ length: rows }, (_, i) => i + 1).filter((d) => rows % d === 0);
      const groupSize =
        c.axis === 'token' || c.axis === 'strided'
          ? divisors[c.gPick % divisors.length]
          : c.axis === 'flat-channel'
            ? rowDivisors[c.gPick % rowDivisors.length]
            : (c.gPick % (c.tokens + 2)) + 1;
      const bits = c.method === 'absmax' && c.bits === 1 ? 2 : c.bits;
      return fc.array(values, { minLength: n, maxLength: n }).map((arr) => ({
        t: { data: Float32Array.from(arr), heads: c.heads, tokens: c.tokens, headDim: c.headDim } as KVTensor,
        cfg: { bits, groupSize, axis: c.axis, method: c.method, metaDtype: c.metaDtype } as QuantConfig,
      }));
    });

const anyFinite = fc.float({ noNaN: true, noDefaultInfinity: true });
const moderate = fc.integer({ min: -8000, max: 8000 }).map((i) => i / 8);

/** Min and max of each group, computed independently of src. */
function groupRanges(t: KVTensor, cfg: QuantConfig): Array<{ mn: number; mx: number; idx: number[] }> {
  const G = cfg.groupSize;
  const g =
    cfg.axis === 'token'
      ? groupsToken(t.data, G)
      : cfg.axis === 'strided'
        ? groupsStrided(t.data, G)
        : cfg.axis === 'flat-channel'
          ? groupsFlatChannel(t.data, t.heads * t.tokens, t.headDim, G)
          : groupsChannel(t.data, t.heads, t.tokens, t.headDim, G);
  return g.values.map((v, i) => ({ mn: Math.min(...v), mx: Math.max(...v), idx: g.index[i] }));
}

describe('properties (fast-check)', () => {
  it('never NaN or ±Infinity, codes in range, group count matches, for any finite float32 data', () => {
    fc.assert(
      fc.property(arbCase(anyFinite), ({ t, cfg }) => {
        const r = fakeQuantize(t, cfg);
        const top = (1 << cfg.bits) - 1;
        for (let i = 0; i < t.data.length; i++) {
          expect(Number.isFinite(r.dequantized[i])).toBe(true);
          expect(r.codes[i]).toBeLessThanOrEqual(top);
          if (cfg.method === 'absmax') expect(r.codes[i]).toBeGreaterThanOrEqual(1);
        }
        for (let g = 0; g < r.groups; g++) {
          expect(Number.isFinite(r.scales[g])).toBe(true);
          expect(Number.isFinite(r.zeros[g])).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('minmax: |x − x̂| ≤ scale/2 per group (fp32 meta; + rounding slack), and fp16 meta within its rounding', () => {
    fc.assert(
      fc.property(arbCase(moderate), ({ t, cfg: c0 }) => {
        const cfg = { ...c0, method: 'minmax' as const };
        const r = fakeQuantize(t, cfg);
        groupRanges(t, cfg).forEach(({ mn, mx, idx }) => {
          const exactScale = (mx - mn) / ((1 << cfg.bits) - 1);
          // fp16: the stored min and scale are each within a relative 2^-11 of the exact ones (values ≤ 1000).
          const slack =
            cfg.metaDtype === 'fp32'
              ? 1e-6 * (Math.abs(mn) + Math.abs(mx) + 1)
              : 2 ** -10 * (Math.abs(mn) + Math.abs(mx) + 1) * (1 << cfg.bits);
          for (const i of idx) expect(Math.abs(t.data[i] - r.dequantized[i])).toBeLessThanOrEqual(exactScale / 2 + slack);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('minmax, token axis, fp32 meta: re-quantizing the dequantized tensor keeps every code and (to float32 rounding) every value', () => {
    fc.assert(
      fc.property(arbCase(moderate), ({ t, cfg: c0 }) => {
        const cfg = { ...c0, method: 'minmax' as const, axis: 'token' as const, metaDtype: 'fp32' as const };
        const n = t.data.length;
        if (n % cfg.groupSize !== 0) cfg.groupSize = t.headDim;
        const a = fakeQuantize(t, cfg);
        const b = fakeQuantize({ ...t, data: a.dequantized }, cfg);
        expect(b.codes).toEqual(a.codes);
        expect(b.zeros).toEqual(a.zeros);
        for (let i = 0; i < n; i++)
          expect(Math.abs(b.dequantized[i] - a.dequantized[i])).toBeLessThanOrEqual(4e-7 * (1000 + Math.abs(a.dequantized[i])));
      }),
      { numRuns: 300 },
    );
  });

  it('minmax, fp32 meta: grids for 1 → 2 → 4 → 8 bits are nested (2^b − 1 divides 2^(2b) − 1), so no element’s error grows', () => {
    fc.assert(
      fc.property(arbCase(moderate), ({ t, cfg: c0 }) => {
        let prev: Float32Array | null = null;
        const big = t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (const bits of [1, 2, 4, 8] as const) {
          const r = fakeQuantize(t, { ...c0, bits, method: 'minmax', metaDtype: 'fp32' });
          if (prev !== null) {
            for (let i = 0; i < t.data.length; i++) {
              const before = Math.abs(t.data[i] - prev[i]);
              const after = Math.abs(t.data[i] - r.dequantized[i]);
              expect(after).toBeLessThanOrEqual(before + 1e-6 * (1 + big));
            }
          }
          prev = r.dequantized;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('… but 2 → 3 bits is not nested: x = 1 in [0, 1, 3] is exact at 2 bits and off by 1/7 at 3 bits', () => {
    const t = { data: Float32Array.from([0, 1, 3]), heads: 1, tokens: 1, headDim: 3 };
    const r2 = fakeQuantize(t, { bits: 2, groupSize: 3, axis: 'token', method: 'minmax', metaDtype: 'fp32' });
    const r3 = fakeQuantize(t, { bits: 3, groupSize: 3, axis: 'token', method: 'minmax', metaDtype: 'fp32' });
    expect(r2.dequantized[1]).toBe(1);
    expect(r3.dequantized[1]).toBeCloseTo(6 / 7, 6);
  });

  it('the worst-case error bound scale/2 = (max − min)/(2(2^b − 1)) strictly shrinks with more bits', () => {
    fc.assert(
      fc.property(arbCase(moderate), ({ t, cfg }) => {
        const r = BITS.map((bits) => fakeQuantize(t, { ...cfg, bits, method: 'minmax', metaDtype: 'fp32' }));
        for (let g = 0; g < r[0].groups; g++) {
          for (let k = 1; k < BITS.length; k++) {
            if (r[0].scales[g] === 0) expect(r[k].scales[g]).toBe(0);
            else expect(r[k].scales[g]).toBeLessThan(r[k - 1].scales[g]);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('hqq and absmax errors stay within one grid step (+ fp16 slack) on moderate data', () => {
    fc.assert(
      fc.property(arbCase(moderate), ({ t, cfg: c0 }) => {
        for (const method of ['hqq', 'absmax'] as const) {
          const cfg = { ...c0, method, metaDtype: 'fp32' as const, bits: c0.bits === 1 && method === 'absmax' ? (2 as const) : c0.bits };
          const r = fakeQuantize(t, cfg);
          groupRanges(t, cfg).forEach(({ mn, mx, idx }) => {
            const step =
              method === 'absmax'
                ? Math.max(Math.abs(mn), Math.abs(mx)) / ((1 << (cfg.bits - 1)) - 1)
                : Math.max(mx - mn, 0) / ((1 << cfg.bits) - 1);
            const tol = method === 'hqq' && mx - mn <= 1e-4 ? 1e-4 : 0;
            for (const i of idx)
              expect(Math.abs(t.data[i] - r.dequantized[i])).toBeLessThanOrEqual(step + tol + 1e-5 * (1 + Math.abs(mx) + Math.abs(mn)));
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});
