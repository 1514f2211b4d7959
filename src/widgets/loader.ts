/**
 * Defines the custom elements present in a page, loading each widget's code only
 * when its tag is used (code-split by Vite). Used by embed pages and by the
 * single script-tag bundle for third-party pages. The loaders are the widgets' own
 * (`widget.ts` `load`), read from the registry.
 */
import { EMBEDDABLE, WIDGETS, type WidgetName } from './registry';

/** The widgets that embed routes and the script-tag bundle can load, in reading order. */
export function loadersAvailable(): WidgetName[] {
  return [...EMBEDDABLE];
}

/** Load the elements whose tags appear under `root` (now and, if `watch`, later). */
export function defineUsedWidgets(root: ParentNode = document, watch = true): void {
  const scan = () => {
    for (const name of EMBEDDABLE) {
      const { tag, load } = WIDGETS[name];
      if (!customElements.get(tag) && root.querySelector(tag)) void load();
    }
  };
  scan();
  if (watch && typeof MutationObserver !== 'undefined')
    new MutationObserver(scan).observe(root as Node, { childList: true, subtree: true });
}
