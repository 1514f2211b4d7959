import * as Plot from '@observablehq/plot';
import { el } from '../shared/controls';
import { stepAreaPath, type ChartSpec } from './view';

type PlotElement = ReturnType<typeof Plot.plot>;

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * One chart of <kv-attention> (a `div.plot` holding one Plot SVG), redrawn as cheaply as what changed allows:
 * - same axes and same values (the original attention when only the quantizer moved, if the shared y maximum
 *   stayed): nothing to do;
 * - same axes, new values: only the area paths' `d` (from the drawn plot's own scales) and the SVG's aria-label;
 * - otherwise a new Plot, without its hover tip.
 * The tip (Plot.tip with pointerX over every token, whose titles are a good part of a chart's cost at 1,024
 * tokens) is added the first time a pointer comes over the chart after its values changed: the chart is rendered
 * again with it and the pointer event handed on, so hovering shows the same tip as before.
 */
export class LazyTipChart {
  readonly root = el('div', { className: 'plot' });
  #spec: ChartSpec | null = null;
  #svg: PlotElement | null = null;
  #paths: SVGPathElement[] = [];
  #tipped = false;

  constructor() {
    const arm = (e: PointerEvent) => this.#arm(e);
    for (const type of ['pointerover', 'pointermove', 'pointerdown'] as const) this.root.addEventListener(type, arm, { capture: true });
  }

  render(spec: ChartSpec): void {
    const old = this.#spec;
    this.#spec = spec;
    const svg = this.#svg;
    if (old && svg && old.axes === spec.axes && old.areas.length === spec.areas.length && this.#paths.length === spec.areas.length) {
      const same = spec.tokens === old.tokens && spec.areas.every((a, i) => sameValues(a.values, old.areas[i].values));
      if (same || !this.#tipped) {
        if (!same) {
          const x = svg.scale('x')!.apply as (v: number) => number;
          const y = svg.scale('y')!.apply as (v: number) => number;
          spec.areas.forEach((a, i) => this.#paths[i].setAttribute('d', stepAreaPath(a, x, y)));
        }
        if (svg.getAttribute('aria-label') !== spec.ariaLabel) svg.setAttribute('aria-label', spec.ariaLabel);
        return;
      }
    }
    this.#draw(false);
  }

  clear(): void {
    this.#spec = null;
    this.#svg = null;
    this.#paths = [];
    this.#tipped = false;
    this.root.replaceChildren();
  }

  /** Whether the rendered chart has its tip (for tests). */
  get tipped(): boolean {
    return this.#tipped;
  }

  #draw(tip: boolean): PlotElement {
    const svg = Plot.plot(this.#spec!.options(tip));
    this.#svg = svg;
    this.#paths = Array.from(svg.querySelectorAll<SVGPathElement>(':scope > g[aria-label="area"] > path'));
    this.#tipped = tip;
    this.root.replaceChildren(svg);
    return svg;
  }

  #arm(e: PointerEvent): void {
    if (this.#tipped || !this.#spec) return;
    const svg = this.#draw(true);
    // Plot's pointer listens on its own SVG, which did not exist when this event started: hand the position on.
    svg.dispatchEvent(
      new PointerEvent('pointermove', {
        clientX: e.clientX,
        clientY: e.clientY,
        screenX: e.screenX,
        screenY: e.screenY,
        pointerId: e.pointerId,
        pointerType: e.pointerType,
        isPrimary: e.isPrimary,
        buttons: e.buttons,
      }),
    );
  }
}
