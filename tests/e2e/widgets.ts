/**
 * The widget registry for Playwright specs. Playwright does not run Vite, so the registry's
 * `import.meta.glob` is not available here; this reads the same declarations
 * (`src/widgets/<name>/widget.ts`) from the folder, so specs cover every widget the site builds.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { WidgetDeclaration } from '../../src/widgets/shared/declare';

const dir = new URL('../../src/widgets/', import.meta.url);
const folders = readdirSync(dir).filter((n) => existsSync(new URL(`${n}/widget.ts`, dir)));
const declarations: WidgetDeclaration[] = (
  await Promise.all(folders.map((n) => import(new URL(`${n}/widget.ts`, dir).href) as Promise<{ default: WidgetDeclaration }>))
)
  .map((m) => m.default)
  .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));

export const WIDGETS: Readonly<Record<string, WidgetDeclaration>> = Object.fromEntries(declarations.map((d) => [d.name, d]));
/** Widgets with an embed route, in reading order (what `loadersAvailable()` returns in the site). */
export const EMBEDDABLE: readonly string[] = declarations.filter((d) => d.embeddable).map((d) => d.name);
