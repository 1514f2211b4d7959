/**
 * Every widget, collected from the declarations the widget folders make of themselves
 * (`src/widgets/<name>/widget.ts`, see `shared/declare.ts`). Nothing here names a widget:
 * adding one takes a folder with `state.ts`, `element.ts` and `widget.ts`, and the embed
 * routes, the instructors' page, the script-tag bundle, oEmbed and the tests follow.
 */
import type { WidgetDeclaration } from './shared/declare';

export type { WidgetDeclaration } from './shared/declare';
/** A registered widget's name (its folder). Checked at run time with `isWidgetName`. */
export type WidgetName = string;
/** Kept for callers that predate declarations: a widget's static facts. */
export type WidgetInfo = WidgetDeclaration;

/**
 * Builds the registry from `[path, module]` pairs of `./<folder>/widget.ts` modules. Throws when a
 * declaration's name differs from its folder or two widgets share a name or tag (pure; tested).
 */
export function collectWidgets(entries: Iterable<readonly [string, { default?: WidgetDeclaration }]>): WidgetDeclaration[] {
  const out: WidgetDeclaration[] = [];
  for (const [path, mod] of entries) {
    const folder = /(?:^|\/)([^/]+)\/widget\.ts$/.exec(path)?.[1];
    const d = mod.default;
    if (!d) throw new Error(`${path} has no default export (declareWidget({...}))`);
    if (d.name !== folder) throw new Error(`${path} declares name "${d.name}"; it must equal its folder "${folder}"`);
    if (out.some((o) => o.name === d.name || o.tag === d.tag)) throw new Error(`two widgets share the name "${d.name}" or tag "${d.tag}"`);
    out.push(d);
  }
  return out.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

const declarations = collectWidgets(Object.entries(import.meta.glob<{ default: WidgetDeclaration }>('./*/widget.ts', { eager: true })));

/** Every widget name, in reading order. */
export const WIDGET_NAMES: readonly WidgetName[] = Object.freeze(declarations.map((d) => d.name));

/** Widgets by name. */
export const WIDGETS: Readonly<Record<WidgetName, WidgetDeclaration>> = Object.freeze(
  Object.fromEntries(declarations.map((d) => [d.name, d])),
);

/** The widgets with an embed route and a script-tag element, in reading order. */
export const EMBEDDABLE: readonly WidgetName[] = Object.freeze(declarations.filter((d) => d.embeddable).map((d) => d.name));

export function isWidgetName(s: string): s is WidgetName {
  return Object.prototype.hasOwnProperty.call(WIDGETS, s);
}

/** The widget whose custom element has this tag. */
export function widgetByTag(tag: string): WidgetDeclaration | undefined {
  const t = tag.toLowerCase();
  return declarations.find((d) => d.tag === t);
}
