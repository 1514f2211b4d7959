/**
 * The script-tag embed, built as its own entry at a stable URL, /kv-cache-lab.js
 * (see the `scriptTagBundle` Vite plugin in astro.config.mjs):
 *
 *   <script type="module" src="https://<site>/kv-cache-lab.js"></script>
 *   <kv-quantizer bits="2" group="32"></kv-quantizer>
 *
 * It injects the widget CSS once and defines the custom elements used in the page
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

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => defineUsedWidgets(document.body ?? document));
  else defineUsedWidgets(document.body ?? document);
}
