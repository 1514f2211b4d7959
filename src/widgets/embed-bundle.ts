/**
 * The script-tag embed, built as its own entry at a stable URL, /kv-cache-lab.js
 * (see the `scriptTagBundle` Vite plugin in astro.config.mjs):
 *
 *   <script type="module" src="https://<site>/kv-cache-lab.js"></script>
 *   <kv-quantizer bits="2" group="32"></kv-quantizer>
 *
 * It injects the widget CSS once (every rule scoped to `.kv-widget` or a kv-* tag, so none matches
 * the host page's own elements) and defines the custom elements used in the page
 * (now and later), loading each widget's code on demand from the site's origin.
 * Attributes mirror the URL parameters; the page's URL is left alone (url="none").
 * Everything (code, precomputed tensors, the model) is fetched relative to this
 * module's URL, so it comes from the site's origin; the site must answer with
 * Access-Control-Allow-Origin (scripts/serve.mjs does). On another origin the live
 * model's Web Worker cannot start; widgets then show the precomputed tensors and
 * say to open the page directly.
 */
import css from './shared/widget.css?inline';
import { defineUsedWidgets, loadersAvailable } from './loader';
import { WIDGETS } from './registry';

const STYLE_ID = 'kv-cache-lab-style';

if (typeof document !== 'undefined' && !document.getElementById(STYLE_ID)) {
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = css;
  document.head.append(style);
}

/** The tags this bundle can define (for pages that want to check). */
export const tags = loadersAvailable().map((n) => WIDGETS[n].tag);

/**
 * Load widgets whose tags are added to the page later. A host page may mutate its DOM thousands of
 * times (feeds, editors, ads), so each batch costs only a look at the added elements: a tag test
 * for each, one `querySelector` over an added subtree only when it has children, nothing for text
 * nodes, and the observer disconnects once every widget is loaded. (The generic loader's observer
 * re-queries the whole document for every tag on every batch: O(page size × tags) per mutation.)
 */
export function watchForWidgets(root: Node): MutationObserver | null {
  const pending = new Map<string, () => unknown>(loadersAvailable().map((n) => [WIDGETS[n].tag, WIDGETS[n].load]));
  for (const tag of [...pending.keys()]) if (customElements.get(tag)) pending.delete(tag);
  if (!pending.size || typeof MutationObserver === 'undefined') return null;
  let selector = [...pending.keys()].join(',');
  const load = (tag: string) => {
    const fn = pending.get(tag);
    if (!fn) return;
    pending.delete(tag);
    selector = [...pending.keys()].join(',');
    void fn();
  };
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType !== 1) continue;
        const e = node as Element;
        if (pending.has(e.localName)) load(e.localName);
        if (e.firstElementChild && selector) {
          const found = e.querySelector(selector);
          if (found) load(found.localName);
        }
        if (!pending.size) {
          observer.disconnect();
          return;
        }
      }
    }
  });
  observer.observe(root, { childList: true, subtree: true });
  return observer;
}

if (typeof document !== 'undefined') {
  const start = () => {
    const root = document.body ?? document;
    defineUsedWidgets(root, false);
    watchForWidgets(root);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}
