import { describe, expect, it } from 'vitest';
import { decodeFloat16, decodePrecomputed, encodeFloat16, encodePrecomputed } from '../../../../src/lib/model/precomputed';
import { prefill } from '../../../../src/workers/engine/session';
import { createToyRunner } from '../../workers/engine/toy-runner';

describe('precomputed codec', () => {
  it('float16 encode/decode stays within half precision', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const y = decodeFloat16(encodeFloat16(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 2 ** -24);
  });
  it('round-trips a prefill result through manifest + binary', async () => {
    const r = await prefill(createToyRunner(), 'hello there');
    const { manifest, bin } = encodePrecomputed({ id: 'toy', title: 'Toy', prompt: 'hello there', generator: 'test' }, r);
    const back = decodePrecomputed(JSON.parse(JSON.stringify(manifest)), bin.slice().buffer);
    expect(back.tokens).toEqual(r.tokens);
    expect(back.keys.map((k) => [k.heads, k.tokens, k.headDim])).toEqual(r.keys.map((k) => [k.heads, k.tokens, k.headDim]));
    for (const [a, b] of [...r.keys.map((k, i) => [k, back.keys[i]]), ...r.queries!.map((k, i) => [k, back.queries![i]])]) {
      for (let i = 0; i < a.data.length; i++)
        expect(Math.abs(b.data[i] - a.data[i])).toBeLessThanOrEqual(Math.abs(a.data[i]) * 2 ** -11 + 2 ** -24);
    }
    expect(back.lastLogits).toHaveLength(r.lastLogits.length);
    expect(() => decodePrecomputed(manifest, bin.slice(0, 10).buffer)).toThrow(/truncated/);
  });
});
