/**
 * A widget's declaration of itself: each `src/widgets/<name>/widget.ts` default-exports one,
 * and `src/widgets/registry.ts` collects them. The embed routes, the instructors' page, the
 * script-tag bundle, oEmbed and the tests all read the registry, so adding a widget touches
 * its own folder and nothing else.
 */
import type { ParamSpec, ParamSource, ParseResult } from './params';

/**
 * What the registry needs of a widget's codec (`defineCodec` in `params.ts`): any `Codec<N>` is one.
 * Widgets use different parameter sets, so the registry keeps this read-only view rather than `Codec<N>`.
 */
export interface WidgetCodec {
  readonly names: readonly string[];
  readonly specs: Readonly<Record<string, ParamSpec>>;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly controlNames: readonly string[];
  parse(source: ParamSource, prefix?: string): ParseResult<Record<string, unknown>>;
}

export interface WidgetDeclaration {
  /** Folder name under `src/widgets/` and embed route `/embed/<name>/`. */
  readonly name: string;
  /** Custom element tag (`kv-` prefix). */
  readonly tag: `kv-${string}`;
  readonly title: string;
  /** What the widget shows, one sentence (instructors' page, oEmbed). */
  readonly description: string;
  /** Slug of the chapter that explains it (`content/articles/<slug>.mdx`). */
  readonly chapter: string;
  /** Default iframe height in CSS pixels. */
  readonly height: number;
  /** Position in lists (instructors' page, 404 page): reading order of the chapters. */
  readonly order: number;
  /** Whether `/embed/<name>/` exists and the script-tag bundle defines the element. */
  readonly embeddable: boolean;
  /** The widget's URL-state codec (its `state.ts`): which parameters travel in links and embeds. */
  readonly codec: WidgetCodec;
  /** Loads the element's module (defines the custom element); code-split by Vite. */
  readonly load: () => Promise<unknown>;
}

/** Checks a declaration's fields once, at startup, so a typo fails loudly instead of a silent missing widget. */
export function declareWidget<D extends WidgetDeclaration>(d: D): D {
  if (!/^[a-z][a-z0-9-]*$/.test(d.name)) throw new RangeError(`widget name "${d.name}" must be lowercase letters, digits and dashes`);
  if (!/^kv-[a-z0-9-]+$/.test(d.tag)) throw new RangeError(`widget "${d.name}": tag "${d.tag}" must start with "kv-"`);
  if (!(d.height > 0)) throw new RangeError(`widget "${d.name}": height must be positive`);
  return Object.freeze(d);
}
