/**
 * Defines the custom elements present in a page, loading each widget's code only
 * when its tag is used (code-split by Vite). Used by embed pages and by the
 * single script-tag bundle for third-party pages.
 */
import type { WidgetName } from './registry';
import { WIDGETS } from './registry';

const LOADERS: Partial<Record<WidgetName, () => Promise<unknown>>> = {
  memory: () => import('./memory/element'),
  'kv-explorer': () => import('./kv-explorer/element'),
  quantizer: () => import('./quantizer/element'),
  residual: () => import('./residual/element'),
  tradeoff: () => import('./tradeoff/element'),
  attention: () => import('./attention/element'),
  generation: () => import('./generation/element'),
  perplexity: () => import('./perplexity/element'),
};

export function loadersAvailable(): WidgetName[] {
  return Object.keys(LOADERS) as WidgetName[];
}

/** Load the elements whose tags appear under `root` (now and, if `watch`, later). */
export function defineUsedWidgets(root: ParentNode = document, watch = true): void {
  const scan = () => {
    for (const [name, load] of Object.entries(LOADERS) as [WidgetName, () => Promise<unknown>][]) {
      const tag = WIDGETS[name].tag;
      if (!customElements.get(tag) && root.querySelector(tag)) void load();
    }
  };
  scan();
  if (watch && typeof MutationObserver !== 'undefined') new MutationObserver(scan).observe(root as Node, { childList: true, subtree: true });
}
