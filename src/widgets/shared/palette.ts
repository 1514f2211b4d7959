/**
 * The chart colours every widget draws with, by name. The values live in one place, widget.css
 * (`--kv-c-<name>: light-dark(<light>, <dark>)` on `.kv-widget`), so a chart follows the widget's
 * theme (`?theme=`, `data-theme` on the page, or prefers-color-scheme) without a redraw, the SVG/PNG
 * export inlines the computed colour, and tests/unit/widgets/shared/palette.test.ts checks each pair
 * against the theme backgrounds (WCAG 2.2 SC 1.4.11 non-text contrast, 3:1; SC 1.4.3 text, 4.5:1).
 *
 * Plot (0.6.17 src/options.js `isColor`) takes `var(...)` as a constant colour and passes scale ranges
 * through, so these strings go straight into marks, scale ranges and legend swatches.
 */

/** Colours of marks (dots, lines, bars, rules): at least 3:1 against the widget background. */
export const MARK_COLOURS = [
  'blue',
  'orange',
  'grey',
  'red',
  'purple',
  'green',
  'gain',
  'loss',
  'state-quantized',
  'state-residual',
  'state-new',
  'flush',
  'method-minmax',
  'method-absmax',
  'method-hqq',
  'method-fp8',
  'method-nvfp4',
  'method-ggml',
  'method-ggml-rot',
  'ppl-fp32',
  'ppl-quanto-int4',
  'ppl-quanto-int2',
  'ppl-quanto-int4-fp16',
  'ppl-quanto-int2-fp16',
  'ppl-hqq-int8',
  'ppl-hqq-int4',
  'ppl-hqq-int2',
  'ppl-hqq-int4-axis1',
  'ppl-hqq-int2-axis1',
  'ppl-quanto-int4-axis-1',
  'ppl-quanto-int2-axis-1',
  'ppl-quanto-int8',
  'ppl-kivi-int4',
  'ppl-kivi-int2',
] as const;

/** Colours also drawn as text (a label in the series' colour): at least 4.5:1 against the widget background. */
export const TEXT_COLOURS = ['gold'] as const;

export type PaletteName = (typeof MARK_COLOURS)[number] | (typeof TEXT_COLOURS)[number];

/** The CSS colour of a palette entry, for Plot marks, scale ranges and inline styles. */
export function colour(name: PaletteName): string {
  return `var(--kv-c-${name})`;
}

/** Groups whose colours tell series apart on one chart: each must stay distinct in both themes. */
export const PALETTE_GROUPS: Readonly<Record<string, readonly PaletteName[]>> = {
  'tradeoff methods': ['method-minmax', 'method-absmax', 'method-hqq', 'method-fp8', 'method-nvfp4', 'method-ggml', 'method-ggml-rot'],
  'residual token states': ['state-quantized', 'state-residual', 'state-new', 'flush'],
  'memory breakdown': ['blue', 'orange', 'grey'],
  'attention gain/loss': ['gain', 'loss'],
  'series pairs': ['blue', 'orange', 'red', 'purple', 'green', 'gold', 'grey'],
  perplexity: MARK_COLOURS.filter((n) => n.startsWith('ppl-')),
};
