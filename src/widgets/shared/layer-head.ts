/**
 * The Layer and KV head sliders that widgets showing one layer's one KV head build the same way (quantizer,
 * rotation), and `range`, the 0…n−1 step list those sliders (and others) take once the model's shape is known.
 */
import { rangeControl, type RangeControl } from './controls';

/** 0, 1, …, n − 1. */
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Builds the Layer slider, then the KV head slider (in that order, which fixes their generated ids).
 * `layers` / `heads` are the steps offered until the model is loaded (then `setValues(range(n), v)`);
 * `describeLayer` gives the layer's aria-valuetext; `set` applies a change.
 */
export function layerHeadSliders(o: {
  layer: number;
  head: number;
  layers: readonly number[];
  heads: readonly number[];
  describeLayer: (layer: number) => string;
  set: (patch: { layer?: number; head?: number }) => void;
}): { layer: RangeControl<number>; head: RangeControl<number> } {
  const layer = rangeControl({
    name: 'layer',
    label: 'Layer',
    values: o.layers,
    value: o.layer,
    describe: o.describeLayer,
    onChange: (v) => o.set({ layer: v }),
  });
  const head = rangeControl({
    name: 'head',
    label: 'KV head',
    values: o.heads,
    value: o.head,
    describe: (v) => `KV head ${v}`,
    onChange: (v) => o.set({ head: v }),
  });
  return { layer, head };
}
