/**
 * How many tokens of a quantized cache are quantized and how many are still full precision.
 *
 * `residualSplit` follows transformers' `QuantizedLayer.update` (`cache_utils.py`; old `QuantizedCache.update`):
 * - prefill (first call): all P tokens are quantized at once, the residual is `torch.tensor([])` (1-D, empty);
 * - each decode step: if `self.keys.dim() == 4 and self.keys.shape[-2] + 1 >= residual_length` the whole cache
 *   (dequantized ‖ residual ‖ new token) is re-quantized and the residual reset to the 1-D empty tensor;
 *   otherwise the new token is appended to the residual.
 * Because an emptied residual is 1-D again, the step right after a flush (and the first decode step) always
 * appends, whatever R is. Consequences, with period `p = max(R, 2)`:
 * - R ≥ 2: flushes at decode steps R, 2R, …; after N steps the residual holds `N mod R` tokens.
 * - R = 0 and R = 1 behave exactly like R = 2: the condition `len + 1 >= R` is always true, but it is only checked
 *   when the residual is 4-D (non-empty), so steps alternate append, flush, append, flush…; the residual holds
 *   `N mod 2` tokens (never more than one).
 *
 * `kiviResidualSplit` follows KIVI's streaming cache (`models/llama_kivi.py`): keys are quantized in blocks of R
 * tokens (prefill keeps `L mod R` in full precision; during decode the block is quantized as soon as the
 * full-precision part reaches R), values keep a sliding window of the R newest tokens in full precision.
 */
import { checkNonNegativeInteger, checkPositiveInteger } from './errors';

export const defaults = { decoded: 0, residualLength: 128 };

export type ResidualSplitOptions = { prefill: number; decoded?: number; residualLength?: number };

export type ResidualSplit = {
  /** Tokens stored quantized (prefill + flushed decode tokens). */
  quantized: number;
  /** Tokens in the full-precision residual. */
  residual: number;
  /** Number of flushes (whole-cache re-quantizations) during decoding. */
  flushes: number;
  /** prefill + decoded. */
  total: number;
  /** Whether the last decode step flushed (false when decoded = 0). */
  flushedLastStep: boolean;
  /** Decode steps until the next flush (1 = the next step flushes). */
  stepsUntilFlush: number;
  /** Flush period in decode steps: max(R, 2). */
  period: number;
};

/** Tokens quantized vs full precision after a prefill and `decoded` decode steps (Transformers' QuantizedLayer). */
export function residualSplit(o: ResidualSplitOptions): ResidualSplit {
  const prefill = checkPositiveInteger('prefill', o?.prefill);
  const decoded = checkNonNegativeInteger('decoded', o.decoded ?? defaults.decoded);
  const R = checkNonNegativeInteger('residualLength', o.residualLength ?? defaults.residualLength);
  const period = R < 2 ? 2 : R;
  const residual = decoded % period;
  const flushes = (decoded - residual) / period;
  return {
    quantized: prefill + decoded - residual,
    residual,
    flushes,
    total: prefill + decoded,
    flushedLastStep: decoded > 0 && residual === 0,
    stepsUntilFlush: period - residual,
    period,
  };
}

export type KiviSplitOptions = { prefill: number; decoded?: number; residualLength?: number };

export type KiviPart = { quantized: number; residual: number };

export type KiviResidualSplit = {
  keys: KiviPart & { flushes: number; flushedLastStep: boolean };
  values: KiviPart;
  total: number;
};

/** KIVI streaming split: keys flushed in blocks of R, values a sliding window of R full-precision tokens. */
export function kiviResidualSplit(o: KiviSplitOptions): KiviResidualSplit {
  const prefill = checkPositiveInteger('prefill', o?.prefill);
  const decoded = checkNonNegativeInteger('decoded', o.decoded ?? defaults.decoded);
  const R = checkPositiveInteger('residualLength', o.residualLength ?? defaults.residualLength);
  const total = prefill + decoded;
  const keyStart = prefill % R; // full-precision keys left after prefill
  const keyResidual = (keyStart + decoded) % R;
  const keyFlushes = Math.floor((keyStart + decoded) / R);
  const valueResidual = Math.min(total, R);
  return {
    keys: {
      quantized: total - keyResidual,
      residual: keyResidual,
      flushes: keyFlushes,
      flushedLastStep: decoded > 0 && keyResidual === 0,
    },
    values: { quantized: total - valueResidual, residual: valueResidual },
    total,
  };
}
