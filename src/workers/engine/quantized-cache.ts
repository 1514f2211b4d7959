/**
 * Simulation of Transformers' quantized KV cache (`QuantizedLayer.update` in
 * `transformers/cache_utils.py`, kv-quant-facts §1d) on plain tensors, one object per layer:
 *
 * - prefill: attention uses the exact K/V, then the whole prefill is quantized; residual empty.
 * - decode step: attention sees `dequant(Q) ‖ residual ‖ new` (the new token's own K/V are exact:
 *   the graph computes them). If the residual already holds ≥ 1 token (Transformers' `dim() == 4`
 *   check: an emptied residual is a 1-D `torch.tensor([])`) and `residual + 1 ≥ R`, everything is
 *   re-quantized from that concatenation and the residual emptied; otherwise the new token joins
 *   the residual.
 *
 * We keep the *dequantized* quantized part and the fp residual, and feed their concatenation as
 * the past of the next forward. Between two flushes the past's quantized part does not change, so
 * several tokens may be forwarded together as long as only the last of them flushes
 * (`tokensUntilFlush`): causal attention then gives exactly the token-by-token result.
 */
import { concatTokens, emptyKV, type KVTensor, type QuantConfig } from '../../lib/model/kv';
import { checkDequantize, checkLayerConfig, checkQuantize, type Backend } from './transformers-check';

/** Quantize then dequantize (`fakeQuantize(t, cfg).dequantized` from `src/lib/quant`). */
export type FakeQuantizeFn = (t: KVTensor, cfg: QuantConfig) => Float32Array;

export interface QuantizedLayerOptions {
  key: QuantConfig;
  value: QuantConfig;
  /** Transformers' `residual_length` (≥ 0). */
  residualLength: number;
  quantize: FakeQuantizeFn;
  /**
   * Run as Transformers' `QuantizedCache(backend=…)` would: stop with `TransformersUnsupported`
   * wherever that backend raises (see transformers-check.ts). Omitted: a scheme of our own (KIVI).
   */
  backend?: Backend;
}

/** Whether a decode step that finds `residualTokens` in the residual flushes. */
export function flushesAt(residualTokens: number, residualLength: number): boolean {
  return residualTokens >= 1 && residualTokens + 1 >= residualLength;
}

/**
 * Flush schedule of one layer: for `decoded` single-token steps after a prefill, the 1-based
 * steps that flush, and the residual size after the last step.
 */
export function residualSchedule(decoded: number, residualLength: number): { flushSteps: number[]; residual: number } {
  const flushSteps: number[] = [];
  let r = 0;
  for (let step = 1; step <= decoded; step++) {
    if (flushesAt(r, residualLength)) {
      flushSteps.push(step);
      r = 0;
    } else r++;
  }
  return { flushSteps, residual: r };
}

export class QuantizedLayerSim {
  readonly options: QuantizedLayerOptions;
  /** Dequantized values of the quantized part, `[kvHeads, quantizedTokens, headDim]`. */
  quantizedKeys: KVTensor | null = null;
  quantizedValues: KVTensor | null = null;
  /** Full-precision residual. */
  residualKeys: KVTensor | null = null;
  residualValues: KVTensor | null = null;
  /** Flushes so far (the prefill's quantization is not counted). */
  flushes = 0;
  /** Transformers' `cumulative_length`. */
  cumulativeLength = 0;

  constructor(options: QuantizedLayerOptions) {
    if (!Number.isInteger(options.residualLength) || options.residualLength < 0) {
      throw new RangeError(`invalid residualLength: ${options.residualLength}; allowed: an integer ≥ 0`);
    }
    this.options = options;
    if (options.backend) checkLayerConfig(options.backend, options.key, options.value);
  }

  get initialized(): boolean {
    return this.quantizedKeys !== null;
  }

  get residualTokens(): number {
    return this.residualKeys?.tokens ?? 0;
  }

  /** First call: quantize the exact prefill K/V (the prefill's own attention already used them exactly). */
  prefill(keys: KVTensor, values: KVTensor): void {
    if (this.initialized) throw new Error('prefill called twice on one quantized layer');
    this.cumulativeLength = keys.tokens;
    this.quantizedKeys = this.fakeQuantize(keys, this.options.key);
    this.quantizedValues = this.fakeQuantize(values, this.options.value);
    this.residualKeys = emptyKV(keys.heads, keys.headDim);
    this.residualValues = emptyKV(values.heads, values.headDim);
  }

  /** What the next forward attends to before its own tokens: `dequant(Q) ‖ residual`. */
  past(): { keys: KVTensor; values: KVTensor } {
    if (!this.quantizedKeys || !this.quantizedValues || !this.residualKeys || !this.residualValues) {
      throw new Error('quantized layer used before prefill');
    }
    const b = this.options.backend;
    if (b) {
      checkDequantize(b, this.quantizedKeys, this.options.key);
      checkDequantize(b, this.quantizedValues, this.options.value);
    }
    return {
      keys: concatTokens(this.quantizedKeys, this.residualKeys),
      values: concatTokens(this.quantizedValues, this.residualValues),
    };
  }

  /** How many tokens the next forward may hold: up to and including the next flush. */
  tokensUntilFlush(): number {
    let r = this.residualTokens;
    for (let n = 1; ; n++) {
      if (flushesAt(r, this.options.residualLength)) return n;
      r++;
    }
  }

  /**
   * Record the exact K/V of the tokens just forwarded (`[kvHeads, n, headDim]`). Only the last of
   * them may trigger a flush; otherwise the forward attended over the wrong past and we throw.
   */
  update(newKeys: KVTensor, newValues: KVTensor): void {
    if (!this.initialized) throw new Error('quantized layer used before prefill');
    const n = newKeys.tokens;
    let r = this.residualTokens;
    let flush = false;
    for (let i = 0; i < n; i++) {
      if (flushesAt(r, this.options.residualLength)) {
        if (i !== n - 1) {
          throw new RangeError(`a flush falls inside a ${n}-token chunk; forward at most tokensUntilFlush() tokens`);
        }
        flush = true;
      } else r++;
    }
    this.cumulativeLength += n;
    const keys = concatTokens(this.quantizedKeys!, this.residualKeys!, newKeys);
    const values = concatTokens(this.quantizedValues!, this.residualValues!, newValues);
    if (flush) {
      this.quantizedKeys = this.fakeQuantize(keys, this.options.key);
      this.quantizedValues = this.fakeQuantize(values, this.options.value);
      this.residualKeys = emptyKV(newKeys.heads, newKeys.headDim);
      this.residualValues = emptyKV(newValues.heads, newValues.headDim);
      this.flushes++;
    } else {
      this.residualKeys = concatTokens(this.residualKeys!, newKeys);
      this.residualValues = concatTokens(this.residualValues!, newValues);
    }
  }

  private fakeQuantize(t: KVTensor, cfg: QuantConfig): KVTensor {
    if (t.tokens === 0) return emptyKV(t.heads, t.headDim);
    // The whole [heads, tokens, headDim] tensor of the layer at once, as Transformers quantizes it
    // (B = 1): layouts whose groups depend on the element count (HQQ axis 0) regroup at every flush.
    if (this.options.backend) checkQuantize(this.options.backend, t, cfg);
    return { data: this.options.quantize(t, cfg), heads: t.heads, tokens: t.tokens, headDim: t.headDim };
  }
}

/** One `QuantizedLayerSim` per layer. */
export class QuantizedCacheSim {
  readonly layers: QuantizedLayerSim[];

  constructor(layers: number, options: QuantizedLayerOptions) {
    this.layers = Array.from({ length: layers }, () => new QuantizedLayerSim(options));
  }

  prefill(keys: KVTensor[], values: KVTensor[]): void {
    this.layers.forEach((l, i) => l.prefill(keys[i], values[i]));
  }

  past(): { keys: KVTensor[]; values: KVTensor[] } {
    const parts = this.layers.map((l) => l.past());
    return { keys: parts.map((p) => p.keys), values: parts.map((p) => p.values) };
  }

  tokensUntilFlush(): number {
    return this.layers[0].tokensUntilFlush();
  }

  update(newKeys: KVTensor[], newValues: KVTensor[]): void {
    this.layers.forEach((l, i) => l.update(newKeys[i], newValues[i]));
  }

  get flushes(): number {
    return this.layers[0]?.flushes ?? 0;
  }
}
