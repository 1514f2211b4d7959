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
