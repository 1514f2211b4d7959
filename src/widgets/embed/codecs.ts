/**
 * Each widget's URL codec, found generically: every `src/widgets/<name>/state.ts`
 * whose folder is a registered widget name exports one codec (style anchor 2).
 * Used by the snippet builder (which parameters travel), the oEmbed route and the
 * instructors' page (which widget uses which parameter), so none of them can drift
 * from the widgets themselves. Pure: state modules import no DOM.
 */
import type { Codec, ParamName } from '../shared/params';
import { PARAMS } from '../shared/params';
import { WIDGET_NAMES, type WidgetName } from '../registry';

type AnyCodec = Codec<ParamName>;

const modules = import.meta.glob<Record<string, unknown>>('../*/state.ts', { eager: true });

function isCodec(x: unknown): x is AnyCodec {
  return !!x && typeof x === 'object' && Array.isArray((x as AnyCodec).names) && typeof (x as AnyCodec).parse === 'function' && typeof (x as AnyCodec).serialize === 'function';
}

const CODECS: Partial<Record<WidgetName, AnyCodec>> = {};
for (const [path, mod] of Object.entries(modules)) {
  const name = path.split('/')[1];
  if (!(WIDGET_NAMES as readonly string[]).includes(name)) continue;
  const codec = Object.values(mod).find(isCodec);
  if (codec) CODECS[name as WidgetName] = codec;
}

/** The codec of a widget, if its state.ts exists. */
export function codecOf(name: WidgetName): AnyCodec | undefined {
  return CODECS[name];
}

/** The URL parameters a widget accepts (all shared parameters when its codec is not known yet). */
export function paramNamesOf(name: WidgetName): readonly string[] {
  return codecOf(name)?.names ?? (Object.keys(PARAMS) as ParamName[]);
}

export interface ParamUse {
  widget: WidgetName;
  /** Allowed values in words, as the widget's own codec states them in its notes. */
  allowed: string;
  /** The widget's default, as it appears in a URL ('' = empty). */
  default: string;
}

/**
 * How a widget's codec treats a parameter, read from the codec itself: the default
 * from `defaults`, the allowed values from the note `parse` gives for an invalid
 * value (so widget-specific specs, e.g. the memory calculator's model presets, are
 * reported exactly, and this can't drift from the codec).
 */
export function paramUse(widget: WidgetName, name: string): ParamUse | undefined {
  const codec = codecOf(widget);
  if (!codec || !(codec.names as readonly string[]).includes(name)) return undefined;
  const spec = PARAMS[name as ParamName];
  const raw = (codec.defaults as Record<string, unknown>)[name];
  const def = Array.isArray(raw) ? raw.join(',') : String(raw ?? '');
  let allowed: string;
  if (spec?.kind === 'text') allowed = `text of at most ${spec.maxLength} characters`;
  else if (name === 'controls') allowed = `comma-separated names from: ${codec.controlNames.join(', ')}`;
  else {
    const { notes } = codec.parse({ get: (n) => (n === name ? '\u2007invalid\u2007' : null) });
    const m = notes.join(' ').match(/is not valid \((.*)\); using/);
    allowed = m ? m[1] : spec?.kind === 'list' ? 'a comma-separated list' : 'see the widget';
  }
  return { widget, allowed, default: def };
}
