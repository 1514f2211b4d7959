/**
 * What Transformers 5.x does with a quantized-cache configuration, as a pure model: which grouping
 * layout each backend/axis gives, and whether `generate` accepts the configuration, and if not, at
 * which step it stops, with the exception Python prints and the upstream code that raises it.
 * No DOM; widgets render the result.
 *
 * Sources (open them to check every rule below):
 * - transformers 5.18.0 (PyPI wheel) `src/transformers/cache_utils.py`: `QuantizedCache.__init__`
 *   (backend check, then the full-attention-only check added by PR #47160, then one layer per
 *   `num_hidden_layers`), `get_layer_types_and_kwargs`, `QuantizedLayer.update` (prefill quantizes the
 *   prompt; a decode step flushes when the residual already holds ≥ 1 token and residual + 1 ≥ R),
 *   `QuantoQuantizedLayer.__init__` / `HQQQuantizedLayer.__init__` (allowed nbits and axes).
 * - transformers 5.18.0 `src/transformers/generation/utils.py` `_prepare_cache_for_generation`
 *   (`cache_implementation="quantized"`: `backend = cache_config.pop("backend", "quanto")`).
 * - optimum-quanto HEAD e33f820 `optimum/quanto/tensor/grouped.py` `group()` (no padding: raises
 *   "Group size (G) must be a divisor of (axis_numel)").
 * - hqq 0.2.8.post1 = mobiusml/hqq e0b1d00: `hqq/core/quantize.py` `Quantizer.quantize` (asserts
 *   numel % group_size == 0; reshapes to [-1, G] for axis 1 and [G, -1] for axis 0) and
 *   `Quantizer.dequantize` (3-bit rows trimmed with `shape[0] * shape[1] // group_size`, a 2-D formula);
 *   `hqq/core/bitpack.py` `pack_{4,2,1}bit_u8` (rows split into 8/b equal slices, OR-ed together).
 */

export type TransformersBackend = 'quanto' | 'hqq';

/**
 * Grouping layouts of the engine, named as in `src/lib/quant/enums.ts`:
 * - `token`: runs of G consecutive elements of the contiguous [B, H, T, D] cache (quanto axis 0, HQQ axis 1);
 * - `strided`: HQQ axis 0 reshapes the flattened cache to [G, N/G], a group is G elements N/G apart,
 *   and its members change whenever the cache grows (every flush);
 * - `flat-channel`: quanto axis −1, one channel over G consecutive rows of the flattened (batch, head, token) index;
 * - `channel`: KIVI's per-head channel groups, which no Transformers backend produces.
 */
export type TransformersLayout = 'token' | 'strided' | 'flat-channel' | 'channel';

/** `nbits` each backend's layer constructor accepts (`QuantoQuantizedLayer` / `HQQQuantizedLayer.__init__`). */
export const TRANSFORMERS_BITS: Readonly<Record<TransformersBackend, readonly number[]>> = { quanto: [2, 4], hqq: [1, 2, 3, 4, 8] };
/** `axis_key` / `axis_value` each backend accepts. */
export const TRANSFORMERS_AXES: Readonly<Record<TransformersBackend, readonly number[]>> = { quanto: [0, -1], hqq: [0, 1] };
/** Bit widths the Transformers docs (`docs/source/en/kv_cache.md`) list for hqq: int2, int4, int8. */
export const HQQ_DOCUMENTED_BITS: readonly number[] = [2, 4, 8];
/** The axis the Transformers docs recommend per backend (per-token groups). */
export const RECOMMENDED_AXIS: Readonly<Record<TransformersBackend, number>> = { quanto: 0, hqq: 1 };

/** The layout an axis gives with a backend, or null when the backend rejects that axis. */
export function layoutFor(backend: TransformersBackend, axis: number): TransformersLayout | null {
  if (backend === 'quanto') return axis === 0 ? 'token' : axis === -1 ? 'flat-channel' : null;
  return axis === 1 ? 'token' : axis === 0 ? 'strided' : null;
}

/** The axis value that gives a layout with a backend, or null when the backend cannot produce it. */
export function axisFor(backend: TransformersBackend, layout: TransformersLayout): number | null {
  for (const axis of TRANSFORMERS_AXES[backend]) if (layoutFor(backend, axis) === layout) return axis;
  return null;
}

/**
 * The Transformers settings that give a pair of key/value layouts: one entry per backend that can produce both
 * (per token: quanto 0/0 and hqq 1/1; strided only hqq; flat-channel only quanto; KIVI `channel` none).
 */
export function settingsForLayouts(
  keyLayout: TransformersLayout,
  valueLayout: TransformersLayout,
): { backend: TransformersBackend; axisKey: number; axisValue: number }[] {
  const out: { backend: TransformersBackend; axisKey: number; axisValue: number }[] = [];
  for (const backend of ['quanto', 'hqq'] as const) {
    const axisKey = axisFor(backend, keyLayout);
    const axisValue = axisFor(backend, valueLayout);
    if (axisKey !== null && axisValue !== null) out.push({ backend, axisKey, axisValue });
  }
  return out;
}

/** The keyword arguments of `QuantizedCache(backend, config, …)` / the `cache_config` dict. */
export interface TransformersCacheConfig {
  /** As typed by the user: only lowercase "quanto" and "hqq" are accepted since 4.56 ("HQQ" raises). */
  backend: string;
  nbits: number;
  axisKey: number;
  axisValue: number;
  qGroupSize: number;
  residualLength: number;
}

/** What of the model's config and inputs the cache sees. */
export interface TransformersModelGeometry {
  /** Batch size of the cache (number of sequences). */
  batch: number;
  /** `num_key_value_heads`. */
  kvHeads: number;
  headDim: number;
  /** `config.layer_types` when the config has it (e.g. Gemma 2/3, gpt-oss, hybrids). */
  layerTypes?: readonly string[] | null;
  /** `config.sliding_window` (used only when `layerTypes` is absent, as upstream does). */
  slidingWindow?: number | null;
  /** `config.attention_chunk_size` (Llama 4), used when neither of the above is set. */
  attentionChunkSize?: number | null;
  /** dtype of the K/V states; only named in messages (HQQ dequantizes to it, quanto keeps scales in it). */
  cacheDtype?: 'float16' | 'bfloat16' | 'float32';
}

/** One `generate` call: prompt length and the number of single-token cache updates after the prefill. */
export interface TokenSchedule {
  promptTokens: number;
  /** Single-token updates after the prefill: `max_new_tokens − 1` for a run that does not stop early. */
  decodeSteps: number;
}

/** Decode updates a `generate(max_new_tokens=n)` run makes: the prefill forward already yields token 1. */
export function decodeStepsFor(maxNewTokens: number): number {
  return Math.max(0, Math.floor(maxNewTokens) - 1);
}

export type VerdictStage = 'construct' | 'prefill' | 'decode' | 'flush';

export interface UpstreamSource {
  repo: string;
  /** Release or commit the rule was read at. */
  ref: string;
  file: string;
  func: string;
}

export interface TransformersFailure {
  stage: VerdictStage;
  /** Decode step (1-based) where it raises; 0 for the prefill; null when raised while building the cache. */
  step: number | null;
  /** Tokens in the tensor being quantized or dequantized at that moment (null while building the cache). */
  tokens: number | null;
  /** Which tensor raises first (keys are quantized before values); null for construction errors. */
  tensor: 'keys' | 'values' | null;
  /** Exception class and message, as Python prints the last line of the traceback. */
  error: string;
  /** Plain-language reason. */
  cause: string;
  source: UpstreamSource;
}

export interface TransformersNote {
  level: 'warning' | 'info';
  text: string;
}

export interface QuantizeEvent {
  stage: 'prefill' | 'flush';
  /** 0 for the prefill, else the decode step that flushes. */
  step: number;
  /** Tokens in the tensor quantized at this event. */
  tokens: number;
}

export interface TransformersVerdict {
  /** True when the whole schedule runs without an exception. */
  runs: boolean;
  /** The exception Transformers raises first (what the user sees), or null. */
  failure: TransformersFailure | null;
  /**
   * Every independent reason the configuration is refused: all constructor-level problems (fixing the first
   * reveals the next), then the first runtime failure of the schedule. `failure` is errors[0].
   */
  errors: TransformersFailure[];
  notes: TransformersNote[];
  keyLayout: TransformersLayout | null;
  valueLayout: TransformersLayout | null;
  /** Quantization events of the schedule (prefill and flushes), in order. */
  events: QuantizeEvent[];
}

const TF: Omit<UpstreamSource, 'func'> = { repo: 'huggingface/transformers', ref: 'v5.18.0', file: 'src/transformers/cache_utils.py' };
const QUANTO: Omit<UpstreamSource, 'func'> = {
  repo: 'huggingface/optimum-quanto',
  ref: 'e33f820',
  file: 'optimum/quanto/tensor/grouped.py',
};
const HQQ_Q: Omit<UpstreamSource, 'func'> = { repo: 'mobiusml/hqq', ref: '0.2.8.post1 (e0b1d00)', file: 'hqq/core/quantize.py' };
const HQQ_B: Omit<UpstreamSource, 'func'> = { repo: 'mobiusml/hqq', ref: '0.2.8.post1 (e0b1d00)', file: 'hqq/core/bitpack.py' };

function assertCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/** The tuple repr Python prints for a torch.Size. */
const torchSize = (shape: readonly number[]) => `torch.Size([${shape.join(', ')}])`;

/**
 * Decode steps (1-based, up to `decodeSteps`) at which `QuantizedLayer.update` flushes the residual.
 * After the prefill (and after each flush) the residual is the 1-D `torch.tensor([])`, so the next step only
 * appends; a step flushes when the residual holds ≥ 1 token and residual + 1 ≥ R. Hence a flush every
 * max(R, 2) steps: residual_length 0, 1 and 2 all flush every second step.
 */
export function flushSteps(residualLength: number, decodeSteps: number): number[] {
  const period = Math.max(2, Math.floor(residualLength));
  const out: number[] = [];
  for (let k = period; k <= decodeSteps; k += period) out.push(k);
  return out;
}

/** Prefill and flush events of a schedule, with the token count each quantizes (prompt + steps so far). */
export function quantizeEvents(schedule: TokenSchedule, residualLength: number): QuantizeEvent[] {
  const events: QuantizeEvent[] = [{ stage: 'prefill', step: 0, tokens: schedule.promptTokens }];
  for (const k of flushSteps(residualLength, schedule.decodeSteps))
    events.push({ stage: 'flush', step: k, tokens: schedule.promptTokens + k });
  return events;
}

/** Layer types as `get_layer_types_and_kwargs` infers them (5.18.0), before `QuantizedCache` checks them. */
export function inferredLayerTypes(model: TransformersModelGeometry, numLayers = 1): string[] {
  if (model.layerTypes) return [...model.layerTypes];
  const kind =
    model.slidingWindow != null ? 'sliding_attention' : model.attentionChunkSize != null ? 'chunked_attention' : 'full_attention';
  return Array.from({ length: numLayers }, () => kind);
}

/** torch broadcasting of one dimension: equal sizes, or one of them 1; null when torch raises. */
function broadcast(a: number, b: number): number | null {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  return null;
}

const sizeMismatch = (a: number, b: number) =>
  `RuntimeError: The size of tensor a (${a}) must match the size of tensor b (${b}) at non-singleton dimension 0`;

/**
 * HQQ `pack_{4,2,1}bit_u8` on a [rows, cols] code tensor: k = 8 / nbits slices of `floor(rows / k)` rows,
 * OR-ed left to right with torch broadcasting. For 4 and 2 bits the last slice is `W_q[(k-1)*step:]` and takes
 * the remainder (so a row count that is not a multiple of k raises, or broadcasts when step is 1); for 1 bit it is
 * `W_q[7*step : 8*step]`, so the remainder rows are dropped without an error and only the dequantization fails.
 * Returns the packed row count, or the torch error. (8 bits is a cast; 3 bits pads rows to a multiple of 10.)
 */
export function hqqPackRows(rows: number, nbits: number): { rows: number } | { error: string } {
  if (nbits === 8) return { rows };
  if (nbits === 3) return { rows: Math.ceil(rows / 10) };
  const k = 8 / nbits;
  const step = Math.floor(rows / k);
  let acc = step;
  for (let i = 1; i < k; i++) {
    const next = i === k - 1 && nbits !== 1 ? rows - (k - 1) * step : step;
    const b = broadcast(acc, next);
    if (b === null) return { error: sizeMismatch(acc, next) };
    acc = b;
  }
  return { rows: acc };
}

export interface TensorShape {
  batch: number;
  kvHeads: number;
  tokens: number;
  headDim: number;
}

export interface TensorCheck {
  /**
   * 'quantize': raised by `_quantize` on this tensor; 'dequantize': raised by `_dequantize` at the next decode step;
   * 'silent': nothing raises but the dequantized values are wrong (a single row of codes broadcast over all groups).
   */
  when: 'quantize' | 'dequantize' | 'silent';
  error: string;
  cause: string;
  source: UpstreamSource;
}

/**
 * Whether one [B, H, T, D] tensor survives the backend's quantize and the next dequantize, for an nbits and
 * axis the backend accepts. Null when it does.
 */
export function checkTensor(
  backend: TransformersBackend,
  nbits: number,
  axis: number,
  groupSize: number,
  shape: TensorShape,
): TensorCheck | null {
  const { batch: B, kvHeads: H, tokens: T, headDim: D } = shape;
  const G = groupSize;
  const N = B * H * T * D;
  if (backend === 'quanto') {
    // group(): axis_numel = numel / shape[axis]; axis 0 is the batch dim, axis −1 the head dim.
    const axisNumel = axis === 0 ? H * T * D : B * H * T;
    if (G > axisNumel || axisNumel % G !== 0) {
      const what = axis === 0 ? `heads × tokens × head_dim = ${H}·${T}·${D}` : `batch × heads × tokens = ${B}·${H}·${T}`;
      return {
        when: 'quantize',
        error: `ValueError: Group size (${G}) must be a divisor of (${axisNumel})`,
        cause: `quanto axis ${axis} groups ${axis === 0 ? 'runs of the flattened cache' : 'each channel over rows of the flattened (batch, head, token) index'} without padding, so q_group_size must divide ${what} = ${axisNumel}.`,
        source: { ...QUANTO, func: 'group' },
      };
    }
    return null;
  }
  if (N % G !== 0) {
    return {
      when: 'quantize',
      error: `AssertionError: group_size should be divisble by the total tensor dimensions. shape: ${torchSize([B, H, T, D])}, group_size: ${G}`,
      cause: `HQQ does not pad: the ${N} numbers of the cache (batch × heads × tokens × head_dim) must split into groups of ${G}.`,
      source: { ...HQQ_Q, func: 'Quantizer.quantize' },
    };
  }
  // Rows of the code tensor that bitpack splits: N/G groups for axis 1 ([-1, G]), G for axis 0 ([G, -1]).
  const rows = axis === 1 ? N / G : G;
  const zeroRows = axis === 1 ? N / G : 1;
  const packed = hqqPackRows(rows, nbits);
  if ('error' in packed) {
    const k = 8 / nbits;
    return {
      when: 'quantize',
      error: packed.error,
      cause: `HQQ packs ${nbits}-bit codes by splitting the ${rows} rows of the [${axis === 1 ? `${rows}, ${G}` : `${G}, ${N / G}`}] code tensor into ${k} equal slices; ${rows} is not a multiple of ${k}.`,
      source: { ...HQQ_B, func: `BitPack.pack_${nbits}bit_u8` },
    };
  }
  let unpacked = nbits === 8 ? packed.rows : nbits === 3 ? packed.rows * 10 : packed.rows * (8 / nbits);
  if (nbits === 3) {
    // Quantizer.dequantize trims padded 3-bit rows to group_size (axis 0) or shape[0]*shape[1]//group_size (axis 1),
    // a weight-matrix formula: for a 4-D cache shape[0]*shape[1] is batch × heads, not the row count.
    const keep = axis === 0 ? G : Math.floor((B * H) / G);
    unpacked = Math.min(unpacked, keep);
  }
  const rowsOut = broadcast(unpacked, zeroRows);
  const dequantSource = { ...HQQ_Q, func: 'Quantizer.dequantize' };
  const trim3 = `Quantizer.dequantize keeps shape[0]·shape[1]//group_size = ${B}·${H}//${G} = ${unpacked} row${unpacked === 1 ? '' : 's'} of the 3-bit codes (a formula for 2-D weights), but the cache has ${zeroRows} groups`;
  if (rowsOut === null) {
    return {
      when: 'dequantize',
      error: sizeMismatch(unpacked, zeroRows),
      cause:
        nbits === 3 && axis === 1
          ? `${trim3}, so the first dequantization fails.`
          : nbits === 1
            ? `pack_1bit_u8 keeps 8 slices of ${Math.floor(rows / 8)} rows and drops the other ${rows % 8} of the ${rows} rows without an error, so the codes unpack to ${unpacked} rows against ${zeroRows} zero points.`
            : `pack_${nbits}bit_u8 broadcast its uneven slices of ${rows} rows without an error, so the codes unpack to ${unpacked} rows against ${zeroRows} zero points.`,
      source: dequantSource,
    };
  }
  if (rowsOut === zeroRows && unpacked !== zeroRows) {
    return {
      when: 'silent',
      error: '',
      cause: `${trim3}; that one row broadcasts over every group, so no error is raised but the dequantized cache is wrong.`,
      source: dequantSource,
    };
  }
  const cols = axis === 1 ? G : N / G;
  if (rowsOut * cols !== N) {
    return {
      when: 'dequantize',
      error: `RuntimeError: shape '[${B}, ${H}, ${T}, ${D}]' is invalid for input of size ${rowsOut * cols}`,
      cause: `The unpacked codes hold ${rowsOut * cols} numbers, not the ${N} of the cache.`,
      source: dequantSource,
    };
  }
  return null;
}

function constructionErrors(config: TransformersCacheConfig, model: TransformersModelGeometry): TransformersFailure[] {
  const errors: TransformersFailure[] = [];
  const at = (error: string, cause: string, source: UpstreamSource): TransformersFailure => ({
    stage: 'construct',
    step: null,
    tokens: null,
    tensor: null,
    error,
    cause,
    source,
  });
  const backend = config.backend;
  if (backend !== 'quanto' && backend !== 'hqq') {
    errors.push(
      at(
        `ValueError: Unknown quantization backend \`${backend}\``,
        backend.toLowerCase() === 'hqq' || backend.toLowerCase() === 'quanto'
          ? `Backend names are lowercase since Transformers 4.56 ("${backend.toLowerCase()}"); before 4.56 generate mapped "HQQ" instead.`
          : 'QuantizedCache knows only the "quanto" and "hqq" backends.',
        { ...TF, func: 'QuantizedCache.__init__' },
      ),
    );
    return errors; // nothing else is checked before this raises, and the layer class is unknown
  }
  const invalid = [...new Set(inferredLayerTypes(model))].filter((t) => t !== 'full_attention').sort();
  if (invalid.length > 0) {
    errors.push(
      at(
        `ValueError: \`QuantizedCache\` is only supported for models with only full attention layers. We found the following invalid layer types: {${invalid.map((t) => `'${t}'`).join(', ')}}`,
        'Since Transformers PR #47160 (5.x) the quantized cache refuses models with sliding-window, chunked or linear-attention layers (Mistral with sliding_window, Gemma 2/3, gpt-oss, hybrids).',
        { ...TF, func: 'QuantizedCache.__init__' },
      ),
    );
  }
  const b = backend as TransformersBackend;
  const name = b === 'quanto' ? 'quanto' : 'HQQ';
  const layerFunc = b === 'quanto' ? 'QuantoQuantizedLayer.__init__' : 'HQQQuantizedLayer.__init__';
  const list = (xs: readonly number[]) => `[${xs.map((x) => `\`${x}\``).join(', ')}]`;
  if (!TRANSFORMERS_BITS[b].includes(config.nbits)) {
    errors.push(
      at(
        `ValueError: \`nbits\` for \`${name}\` backend has to be one of ${list(TRANSFORMERS_BITS[b])} but got ${config.nbits}`,
        b === 'quanto'
          ? 'quanto stores the cache only as qint2 or qint4: choose 2 or 4 bits, or the hqq backend (1, 2, 3, 4 or 8 bits).'
          : 'HQQ accepts 1, 2, 3, 4 or 8 bits here.',
        { ...TF, func: layerFunc },
      ),
    );
  }
  for (const [arg, v] of [
    ['axis_key', config.axisKey],
    ['axis_value', config.axisValue],
  ] as const) {
    if (!TRANSFORMERS_AXES[b].includes(v)) {
      errors.push(
        at(
          `ValueError: \`${arg}\` for \`${name}\` backend has to be one of ${list(TRANSFORMERS_AXES[b])} but got ${v}`,
          b === 'quanto'
            ? 'quanto groups along axis 0 (per token) or −1 (per channel over rows).'
            : 'HQQ groups along axis 1 (per token) or 0 (strided).',
          { ...TF, func: layerFunc },
        ),
      );
    }
  }
  return errors;
}

/** The first runtime failure of the schedule, walking prefill, decode steps and flushes in order. */
function firstRuntimeFailure(
  config: TransformersCacheConfig,
  model: TransformersModelGeometry,
  schedule: TokenSchedule,
): TransformersFailure | null {
  const b = config.backend as TransformersBackend;
  const shapeAt = (tokens: number): TensorShape => ({ batch: model.batch, kvHeads: model.kvHeads, tokens, headDim: model.headDim });
  const tensors = [
    ['keys', config.axisKey],
    ['values', config.axisValue],
  ] as const;
  const events = quantizeEvents(schedule, config.residualLength);
  for (let e = 0; e < events.length; e++) {
    const ev = events[e];
    const checks = tensors.map(
      ([tensor, axis]) => [tensor, checkTensor(b, config.nbits, axis, config.qGroupSize, shapeAt(ev.tokens))] as const,
    );
    // _quantize runs for keys, then values; the first that raises stops the run.
    for (const [tensor, c] of checks) {
      if (c && c.when === 'quantize')
        return { stage: ev.stage, step: ev.step, tokens: ev.tokens, tensor, error: c.error, cause: c.cause, source: c.source };
    }
    // Quantized without error: the next decode step dequantizes keys, then values.
    const next = ev.step + 1;
    if (next > schedule.decodeSteps) continue;
    for (const [tensor, c] of checks) {
      if (c && c.when === 'dequantize')
        return { stage: 'decode', step: next, tokens: ev.tokens, tensor, error: c.error, cause: c.cause, source: c.source };
    }
  }
  return null;
}

function notesFor(config: TransformersCacheConfig, model: TransformersModelGeometry, schedule: TokenSchedule): TransformersNote[] {
  const notes: TransformersNote[] = [];
  const b = config.backend as TransformersBackend;
  const known = b === 'quanto' || b === 'hqq';
  if (known && b === 'hqq' && TRANSFORMERS_BITS.hqq.includes(config.nbits) && !HQQ_DOCUMENTED_BITS.includes(config.nbits)) {
    notes.push({
      level: 'warning',
      text: `HQQ accepts nbits=${config.nbits} in the code, but the Transformers docs list only int2, int4 and int8 for hqq.`,
    });
  }
  if (known) {
    for (const [arg, axis] of [
      ['axis_key', config.axisKey],
      ['axis_value', config.axisValue],
    ] as const) {
      const layout = layoutFor(b, axis);
      if (layout === 'strided')
        notes.push({
          level: 'info',
          text: `${arg}=0 with hqq groups G elements spaced across the whole flattened cache; the members of each group change at every flush.`,
        });
      if (layout === 'flat-channel')
        notes.push({
          level: 'info',
          text: `${arg}=-1 with quanto groups each channel over ${config.qGroupSize} consecutive (head, token) rows; groups straddle heads and shift at every flush.`,
        });
      if (layout === 'token' && config.qGroupSize > model.headDim)
        notes.push({
          level: 'info',
          text: `${arg}: a group of ${config.qGroupSize} is wider than head_dim ${model.headDim}, so each group spans ${config.qGroupSize / model.headDim} tokens.`,
        });
      if (layout !== null && axis !== RECOMMENDED_AXIS[b])
        notes.push({ level: 'info', text: `The Transformers docs recommend ${arg}=${RECOMMENDED_AXIS[b]} for ${b}.` });
    }
  }
  notes.push({
    level: 'info',
    text: 'The whole prompt is quantized at the first update (prefill attention still uses the exact keys and values; every later step reads the dequantized prompt). Transformers issue #35185; PR #35760 would keep it in the residual.',
  });
  if (flushSteps(config.residualLength, schedule.decodeSteps).length > 0) {
    notes.push({
      level: 'info',
      text: 'Each flush re-quantizes the whole cache from its dequantized values, not from the original keys and values.',
    });
  }
  if (config.residualLength < 2)
    notes.push({
      level: 'info',
      text: `residual_length=${config.residualLength} behaves like 2: the cache flushes every second decode step.`,
    });
  return notes;
}

/** A warning when a quantized tensor of the schedule dequantizes to wrong values without raising (see TensorCheck 'silent'). */
function silentCorruption(config: TransformersCacheConfig, model: TransformersModelGeometry, schedule: TokenSchedule): string | null {
  const b = config.backend as TransformersBackend;
  for (const ev of quantizeEvents(schedule, config.residualLength)) {
    if (ev.step + 1 > schedule.decodeSteps) continue;
    for (const [name, axis] of [
      ['keys', config.axisKey],
      ['values', config.axisValue],
    ] as const) {
      const c = checkTensor(b, config.nbits, axis, config.qGroupSize, {
        batch: model.batch,
        kvHeads: model.kvHeads,
        tokens: ev.tokens,
        headDim: model.headDim,
      });
      if (c?.when === 'silent') return `Runs without an error but the ${name} come back wrong from decode step ${ev.step + 1}: ${c.cause}`;
    }
  }
  return null;
}

/**
 * What Transformers 5.x would do with `config` on a model of this geometry over this schedule.
 * Inputs must be integers (batch, heads, head_dim, group size ≥ 1; prompt ≥ 1; decode steps ≥ 0).
 */
export function transformersVerdict(
  config: TransformersCacheConfig,
  model: TransformersModelGeometry,
  schedule: TokenSchedule,
): TransformersVerdict {
  assertCount('batch', model.batch, 1);
  assertCount('kvHeads', model.kvHeads, 1);
  assertCount('headDim', model.headDim, 1);
  assertCount('qGroupSize', config.qGroupSize, 1);
  assertCount('promptTokens', schedule.promptTokens, 1);
  assertCount('decodeSteps', schedule.decodeSteps, 0);
  const known = config.backend === 'quanto' || config.backend === 'hqq';
  const b = config.backend as TransformersBackend;
  const errors = constructionErrors(config, model);
  if (errors.length === 0) {
    const runtime = firstRuntimeFailure(config, model, schedule);
    if (runtime) errors.push(runtime);
  }
  const notes = notesFor(config, model, schedule);
  if (errors.length === 0) {
    const silent = silentCorruption(config, model, schedule);
    if (silent) notes.unshift({ level: 'warning', text: silent });
  }
  return {
    runs: errors.length === 0,
    failure: errors[0] ?? null,
    errors,
    notes,
    keyLayout: known ? layoutFor(b, config.axisKey) : null,
    valueLayout: known ? layoutFor(b, config.axisValue) : null,
    events: quantizeEvents(schedule, config.residualLength),
  };
}

/** One line for a failure: where it stops, then the exception (plain text for `textContent`). */
export function describeFailure(f: TransformersFailure): string {
  const where =
    f.stage === 'construct'
      ? 'when the cache is built'
      : f.stage === 'prefill'
        ? `at the prefill (${f.tokens} prompt tokens, ${f.tensor})`
        : f.stage === 'flush'
          ? `at the flush of decode step ${f.step} (${f.tokens} tokens, ${f.tensor})`
          : `at decode step ${f.step} (dequantizing ${f.tokens} tokens of ${f.tensor})`;
  return `Fails ${where}: ${f.error}`;
}

/** "file · function (repo ref)" for a citation line. */
export function describeSource(s: UpstreamSource): string {
  return `${s.file} · ${s.func} (${s.repo} ${s.ref})`;
}
