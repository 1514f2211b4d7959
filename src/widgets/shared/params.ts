/**
 * The URL parameters shared by every widget, declared once. A widget picks the
 * ones it uses with `defineCodec`, which derives `parse`, `serialize` and the
 * custom element's observed attributes from this table.
 * `parse` never throws: an invalid value falls back to the default and adds a
 * short note that the widget shows.
 */
import { AXES, BITS, METHODS } from '../../lib/quant/index';
import { DEFAULT_MODEL_ID, MODEL_IDS } from '../../lib/model/catalogue';

export const TENSORS = ['k', 'v'] as const;
export const THEMES = ['auto', 'light', 'dark'] as const;

type Scalar = string | number;

export type EnumSpec<T extends Scalar> = { kind: 'enum'; values: readonly T[]; default: T; doc: string };
export type IntSpec = { kind: 'int'; min: number; max: number; default: number; doc: string };
export type TextSpec = { kind: 'text'; maxLength: number; default: string; doc: string };
export type ListSpec = { kind: 'list'; default: readonly string[]; doc: string };
export type ParamSpec = EnumSpec<string> | EnumSpec<number> | IntSpec | TextSpec | ListSpec;

type ValueOf<S> = S extends EnumSpec<infer T> ? T : S extends IntSpec ? number : S extends TextSpec ? string : S extends ListSpec ? string[] : never;

export const enumSpec = <T extends Scalar>(values: readonly T[], def: T, doc: string): EnumSpec<T> => ({ kind: 'enum', values, default: def, doc });
export const intSpec = (min: number, max: number, def: number, doc: string): IntSpec => ({ kind: 'int', min, max, default: def, doc });

/** Every shared parameter: name → type, allowed values, default, meaning. */
export const PARAMS = {
  model: enumSpec<string>(MODEL_IDS, DEFAULT_MODEL_ID, 'Which model produces the keys and values (the catalogue’s runnable models). Hub models need a network connection.'),
  prompt: { kind: 'text', maxLength: 4000, default: '', doc: 'The text whose cache is shown (empty = the built-in example passage). Plain text; never rendered as HTML.' } as TextSpec,
  layer: intSpec(0, 63, 4, 'Transformer layer, counted from 0 (clamped to the model).'),
  head: intSpec(0, 63, 0, 'KV head, counted from 0 (clamped to the model). In the attention widget: the query head.'),
  tensor: enumSpec(TENSORS, 'k', 'Which tensor a single-tensor view shows: k (keys) or v (values).'),
  bits: enumSpec<number>(BITS, 4, 'Bits per quantized element.'),
  group: enumSpec<number>([16, 32, 64, 128], 64, 'Group size: elements (per-token) or tokens (per-channel) sharing one scale and zero point.'),
  kaxis: enumSpec(AXES, 'token', 'Grouping axis for keys: token (quanto/Transformers default) or channel (KIVI).'),
  vaxis: enumSpec(AXES, 'token', 'Grouping axis for values.'),
  method: enumSpec(METHODS, 'minmax', 'Quantizer: minmax (quanto), hqq (half-quadratic optimizer) or absmax (symmetric).'),
  residual: intSpec(0, 1024, 128, 'Residual length R: newest tokens kept in full precision (Transformers default 128).'),
  tokens: intSpec(1, 10_000_000, 10_000, 'Context length in tokens (memory calculator).'),
  batch: intSpec(1, 4096, 1, 'Batch size (memory calculator).'),
  layers: intSpec(1, 512, 32, 'Custom model: number of layers (memory calculator, model=custom).'),
  kvheads: intSpec(1, 256, 8, 'Custom model: number of key-value heads (memory calculator, model=custom).'),
  headdim: intSpec(1, 1024, 128, 'Custom model: head dimension (memory calculator, model=custom).'),
  gpu: intSpec(1, 10_000, 80, 'GPU memory in GB (memory calculator: how many tokens fit).'),
  query: intSpec(-1, 100_000, -1, 'Attention widget: index of the query token, counted from 0; -1 = the last token (clamped to the prompt).'),
  strategy: enumSpec(['greedy', 'sample'] as const, 'greedy', 'Generation widget: decoding strategy, greedy or seeded top-k sampling.'),
  penalty: enumSpec<number>([1, 1.1, 1.2, 1.3, 1.5, 2], 1.3, 'Generation widget: repetition penalty (1 = off; Transformers repetition_penalty).'),
  temperature: enumSpec<number>([0.2, 0.5, 0.7, 0.8, 1, 1.2, 1.5], 0.8, 'Generation widget: sampling temperature (strategy=sample).'),
  seed: intSpec(0, 2_147_483_647, 0, 'Generation widget: sampling seed; both streams draw the same random numbers.'),
  maxnew: intSpec(8, 256, 48, 'Generation widget: new tokens to generate.'),
  configs: { kind: 'list', default: ['fp32', 'quanto-int4', 'quanto-int2', 'hqq-int4', 'hqq-int2', 'kivi-int2'], doc: 'Perplexity widget: comma-separated cache configurations to score (fp32, quanto-int8, quanto-int4, quanto-int2, hqq-int4, hqq-int2, kivi-int4, kivi-int2).' } as ListSpec,
  prefill: intSpec(1, 8192, 512, 'Prompt length in tokens before decoding starts (residual step-through).'),
  step: intSpec(0, 4096, 200, 'Decode step N: tokens generated after the prefill (residual step-through).'),
  scheme: enumSpec(['transformers', 'kivi'] as const, 'transformers', 'Residual scheme: transformers (QuantizedCache: residual flushed with a whole-cache re-quantization every R steps) or kivi (keys quantized in blocks of R, values a sliding window of R full-precision tokens).'),
  metric: enumSpec(['tensor', 'attention'] as const, 'tensor', 'Error shown on the trade-off chart: tensor (relative error of K or V) or attention (relative error of the attention output, needs exported queries).'),
  token: intSpec(0, 100_000, 0, 'Vector widget: index of the token whose key or value vector is quantized, counted from 0 (clamped to the prompt).'),
  backend: enumSpec(['quanto', 'hqq'] as const, 'quanto', 'Config generator: the Transformers quantized-cache backend, quanto or hqq.'),
  controls: { kind: 'list', default: [], doc: 'Comma-separated list of the controls to show (empty = all).' } as ListSpec,
  theme: enumSpec(THEMES, 'auto', 'Colour theme: auto (follow the system), light or dark.'),
} as const;

export type ParamName = keyof typeof PARAMS;
export type StateOf<N extends ParamName> = { [K in N]: ValueOf<(typeof PARAMS)[K]> };

export interface ParseResult<S> {
  state: S;
  /** One short sentence per replaced value, for the widget's visible note. */
  notes: string[];
}

/** A value source: URLSearchParams, or a plain record (element attributes). */
export type ParamSource = { get(name: string): string | null };

function describeAllowed(spec: ParamSpec): string {
  switch (spec.kind) {
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'int':
      return `a whole number from ${spec.min} to ${spec.max}`;
    case 'text':
      return `text of at most ${spec.maxLength} characters`;
    case 'list':
      return 'a comma-separated list';
  }
}

/** Shorten untrusted input for display in a note (it is set as textContent, never HTML). */
export function quoteForNote(raw: string): string {
  const s = raw.length > 24 ? `${raw.slice(0, 24)}…` : raw;
  return `"${s}"`;
}

function parseOne(name: string, spec: ParamSpec, raw: string | null, notes: string[], extra?: readonly string[]): unknown {
  if (raw === null) return spec.kind === 'list' ? [...spec.default] : spec.default;
  const bad = () => {
    notes.push(`${name}=${quoteForNote(raw)} is not valid (${describeAllowed(spec)}); using ${spec.kind === 'list' ? 'all' : String(spec.default) || 'the default'}.`);
    return spec.kind === 'list' ? [...spec.default] : spec.default;
  };
  switch (spec.kind) {
    case 'enum': {
      const numeric = typeof spec.values[0] === 'number';
      const value = numeric ? (raw.trim() === '' ? NaN : Number(raw)) : raw.trim().toLowerCase();
      return (spec.values as readonly Scalar[]).includes(value) ? value : bad();
    }
    case 'int': {
      if (!/^\s*-?\d+\s*$/.test(raw)) return bad();
      const n = Number(raw);
      if (n < spec.min || n > spec.max) return bad();
      return n;
    }
    case 'text': {
      if (raw.length > spec.maxLength) {
        notes.push(`${name} is longer than ${spec.maxLength} characters; it was cut.`);
        return raw.slice(0, spec.maxLength);
      }
      return raw;
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (!extra) return items;
      const unknown = items.filter((i) => !extra.includes(i));
      if (unknown.length) notes.push(`${name}: unknown ${unknown.map(quoteForNote).join(', ')} ignored (allowed: ${extra.join(', ')}).`);
      return items.filter((i) => extra.includes(i));
    }
  }
}

function serializeOne(spec: ParamSpec, value: unknown): string {
  return spec.kind === 'list' ? (value as string[]).join(',') : String(value);
}

export interface Codec<N extends ParamName> {
  names: readonly N[];
  defaults: StateOf<N>;
  /** The names the `controls` parameter accepts for this widget. */
  controlNames: readonly string[];
  parse(source: ParamSource, prefix?: string): ParseResult<StateOf<N>>;
  /** Only values that differ from the defaults (short, stable URLs). */
  serialize(state: StateOf<N>, prefix?: string): URLSearchParams;
}

/**
 * A codec for the parameters a widget uses. `overrides` changes a default for this
 * widget (e.g. the attention widget defaults to layer 2); `specs` replaces a whole
 * parameter spec where a widget allows other values (the memory calculator's `model`
 * takes published model presets, its `bits` includes 16); `controlNames` lists the
 * controls that `controls=` may name.
 */
export function defineCodec<N extends ParamName>(
  names: readonly N[],
  options: { overrides?: Partial<StateOf<N>>; specs?: Partial<Record<N, ParamSpec>>; controlNames?: readonly string[] } = {},
): Codec<N> {
  const spec = (n: N): ParamSpec => {
    const base = (options.specs?.[n] ?? PARAMS[n]) as ParamSpec;
    const o = options.overrides?.[n];
    return o === undefined ? base : ({ ...base, default: o } as ParamSpec);
  };
  const defaults = Object.fromEntries(names.map((n) => [n, spec(n).default])) as StateOf<N>;
  const controlNames = options.controlNames ?? names.filter((n) => n !== 'controls' && n !== 'theme');
  return {
    names,
    defaults,
    controlNames,
    parse(source, prefix = '') {
      const notes: string[] = [];
      const state = {} as Record<string, unknown>;
      for (const n of names) state[n] = parseOne(n, spec(n), source.get(prefix + n), notes, n === 'controls' ? controlNames : undefined);
      return { state: state as StateOf<N>, notes };
    },
    serialize(state, prefix = '') {
      const out = new URLSearchParams();
      for (const n of names) {
        const s = spec(n);
        const v = serializeOne(s, state[n]);
        if (v !== serializeOne(s, s.kind === 'list' ? s.default : s.default)) out.set(prefix + n, v);
      }
      return out;
    },
  };
}

/** Attribute names of a custom element: exactly the codec's parameter names. */
export function observedAttributesOf(codec: Codec<ParamName>): string[] {
  return [...codec.names];
}

/** Human-readable "4 bits, groups of 64" style text for aria-valuetext and summaries. */
export function describeQuant(bits: number, group: number, axis?: string): string {
  const unit = axis === 'channel' ? 'tokens' : 'elements';
  return `${bits} bit${bits === 1 ? '' : 's'}, groups of ${group} ${unit}`;
}
