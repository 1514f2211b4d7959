/**
 * Each widget's URL codec, as its folder declares it (`src/widgets/<name>/widget.ts` → `codec`).
 * Used by the snippet builder (which parameters travel), the oEmbed route and the
 * instructors' page (which widget uses which parameter), so none of them can drift
 * from the widgets themselves. Pure: state modules import no DOM.
 */
import type { ParamName } from '../shared/params';
import { PARAMS } from '../shared/params';
import type { WidgetCodec } from '../shared/declare';
import { WIDGETS, WIDGET_NAMES, isWidgetName, type WidgetName } from '../registry';

type AnyCodec = WidgetCodec;

/** The codec of a widget, if its state.ts exists. */
export function codecOf(name: WidgetName): AnyCodec | undefined {
  return isWidgetName(name) ? WIDGETS[name].codec : undefined;
}

/** The URL parameters a widget accepts (all shared parameters when its codec is not known yet). */
export function paramNamesOf(name: WidgetName): readonly string[] {
  return codecOf(name)?.names ?? (Object.keys(PARAMS) as ParamName[]);
}

/**
 * Every URL parameter of the site with its meaning: the shared ones (`PARAMS`, in their order),
 * then each widget's own, in reading order. The instructors' page lists them from here.
 */
export function allParams(): { name: string; doc: string }[] {
  const out: { name: string; doc: string }[] = (Object.keys(PARAMS) as ParamName[]).map((name) => ({ name, doc: PARAMS[name].doc }));
  for (const w of WIDGET_NAMES) {
    const c = WIDGETS[w].codec;
    for (const name of c.names) if (!out.some((p) => p.name === name)) out.push({ name, doc: c.specs[name].doc });
  }
  return out;
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
  const spec = codec.specs[name];
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
