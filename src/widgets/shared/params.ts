/**
 * The URL parameters shared by several widgets, declared once. A widget picks the
 * ones it uses with `defineCodec` and declares its own (used by it alone) in its
 * `state.ts` through the `own` option; `defineCodec` derives `parse`, `serialize`
 * and the custom element's observed attributes from both tables.
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

type ValueOf<S> =
  S extends EnumSpec<infer T> ? T : S extends IntSpec ? number : S extends TextSpec ? string : S extends ListSpec ? string[] : never;

export const enumSpec = <T extends Scalar>(values: readonly T[], def: T, doc: string): EnumSpec<T> => ({
  kind: 'enum',
  values,
  default: def,
  doc,
});
export const intSpec = (min: number, max: number, def: number, doc: string): IntSpec => ({ kind: 'int', min, max, default: def, doc });

/** Every shared parameter (used by two widgets or more): name → type, allowed values, default, meaning. */
export const PARAMS = {
  model: enumSpec<string>(
    MODEL_IDS,
    DEFAULT_MODEL_ID,
    'Which model produces the keys and values (the catalogue’s runnable models). Hub models need a network connection.',
  ),
  prompt: {
    kind: 'text',
    maxLength: 4000,
    default: '',
    doc: 'The text whose cache is shown (empty = the built-in example passage). Plain text; never rendered as HTML.',
  } as TextSpec,
  layer: intSpec(0, 63, 4, 'Transformer layer, counted from 0 (clamped to the model).'),
  head: intSpec(0, 63, 0, 'KV head, counted from 0 (clamped to the model). In the attention widget: the query head.'),
  tensor: enumSpec(TENSORS, 'k', 'Which tensor a single-tensor view shows: k (keys) or v (values).'),
  bits: enumSpec<number>(BITS, 4, 'Bits per quantized element.'),
  group: enumSpec<number>(
    [16, 32, 64, 128],
    64,
    'Group size: elements (per-token) or tokens (per-channel) sharing one scale and zero point.',
  ),
  kaxis: enumSpec(
    AXES,
    'token',
    'Grouping layout for keys: token (quanto axis 0 / HQQ axis 1), strided (HQQ axis 0), flat-channel (quanto axis −1) or channel (KIVI’s per-head channel groups, not available in Transformers).',
  ),
  vaxis: enumSpec(AXES, 'token', 'Grouping layout for values (same choices as kaxis).'),
  method: enumSpec(METHODS, 'minmax', 'Quantizer: minmax (quanto), hqq (half-quadratic optimizer) or absmax (symmetric).'),
  residual: intSpec(0, 1024, 128, 'Residual length R: newest tokens kept in full precision (Transformers default 128).'),
  tokens: intSpec(1, 10_000_000, 10_000, 'Context length in tokens (memory calculator).'),
  controls: { kind: 'list', default: [], doc: 'Comma-separated list of the controls to show (empty = all).' } as ListSpec,
  theme: enumSpec(THEMES, 'auto', 'Colour theme: auto (follow the system), light or dark.'),
} as const;

export type ParamName = keyof typeof PARAMS;

/** A widget's own parameters: name → spec (see `defineCodec`'s `own`). */
export type SpecTable = { readonly [name: string]: ParamSpec };
// Own names never repeat a shared name (defineCodec throws), so shared specs are looked up first.
type SpecOf<K, O> = K extends ParamName ? (typeof PARAMS)[K] : K extends keyof O ? O[K] : never;
/** The state a codec over names `N` (shared, or own from `O`) parses to. */
export type CodecState<N extends string, O extends SpecTable = Record<never, ParamSpec>> = { [K in N]: ValueOf<SpecOf<K, O>> };
export type StateOf<N extends ParamName> = CodecState<N>;

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
    notes.push(
      `${name}=${quoteForNote(raw)} is not valid (${describeAllowed(spec)}); using ${spec.kind === 'list' ? 'all' : String(spec.default) || 'the default'}.`,
    );
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
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
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

export interface Codec<N extends string, S = CodecState<N>> {
  names: readonly N[];
  defaults: S;
  /** Every parameter's spec (shared or the widget's own, with this widget's overrides): docs, allowed values. */
  specs: Readonly<Record<N, ParamSpec>>;
  /** The names the `controls` parameter accepts for this widget. */
  controlNames: readonly string[];
  parse(source: ParamSource, prefix?: string): ParseResult<S>;
  /** Only values that differ from the defaults (short, stable URLs). */
  serialize(state: S, prefix?: string): URLSearchParams;
}

/**
 * A codec for the parameters a widget uses. `overrides` changes a default for this
 * widget (e.g. the attention widget defaults to layer 2); `specs` replaces a whole
 * parameter spec where a widget allows other values (the memory calculator's `model`
 * takes published model presets, its `bits` includes 16); `controlNames` lists the
 * controls that `controls=` may name.
 */
export function defineCodec<N extends ParamName | (keyof O & string), O extends SpecTable = Record<never, ParamSpec>>(
  names: readonly N[],
  options: { own?: O; overrides?: Partial<CodecState<N, O>>; specs?: Partial<Record<N, ParamSpec>>; controlNames?: readonly string[] } = {},
): Codec<N, CodecState<N, O>> {
  const spec = (n: N): ParamSpec => {
    const own = options.own && Object.prototype.hasOwnProperty.call(options.own, n) ? options.own[n] : undefined;
    if (own && Object.prototype.hasOwnProperty.call(PARAMS, n))
      throw new RangeError(`own parameter "${n}" repeats a shared one; use \`specs\` to change a shared parameter`);
    const base = (options.specs?.[n] ?? own ?? PARAMS[n as ParamName]) as ParamSpec;
    if (!base) throw new RangeError(`parameter "${n}" is neither shared (PARAMS) nor declared in this widget's own specs`);
    const o = options.overrides?.[n];
    return o === undefined ? base : ({ ...base, default: o } as ParamSpec);
  };
  type S = CodecState<N, O>;
  const specs = Object.fromEntries(names.map((n) => [n, spec(n)])) as Record<N, ParamSpec>;
  const defaults = Object.fromEntries(names.map((n) => [n, specs[n].default])) as S;
  const controlNames = options.controlNames ?? names.filter((n) => n !== 'controls' && n !== 'theme');
  return {
    names,
    defaults,
    specs,
    controlNames,
    parse(source, prefix = '') {
      const notes: string[] = [];
      const state = {} as Record<string, unknown>;
      for (const n of names) state[n] = parseOne(n, spec(n), source.get(prefix + n), notes, n === 'controls' ? controlNames : undefined);
      return { state: state as S, notes };
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
export function observedAttributesOf(codec: Codec<string, unknown>): string[] {
  return [...codec.names];
}

/** Human-readable "4 bits, groups of 64" style text for aria-valuetext and summaries. */
export function describeQuant(bits: number, group: number, axis?: string): string {
  const unit = axis === 'channel' ? 'tokens' : 'elements';
  return `${bits} bit${bits === 1 ? '' : 's'}, groups of ${group} ${unit}`;
}
