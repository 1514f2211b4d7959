/**
 * The bits / group size / key and value grouping / method controls that several widgets build the same way
 * (attention, generation, rotation): one definition, so labels, steps and aria-valuetext stay alike.
 */
import type { Axis, Method } from '../../lib/quant/index';
import { axisOptions } from './axis-labels';
import { rangeControl, selectControl, type RangeControl, type SelectControl } from './controls';
import { describeQuant } from './params';

/** The part of a widget's state these controls read and write. */
export interface QuantControlState {
  bits: number;
  group: number;
  kaxis: Axis;
  vaxis: Axis;
  method: Method;
}

/** The same without value grouping, for a widget that quantizes keys only (rotation). */
export type KeyQuantControlState = Omit<QuantControlState, 'vaxis'>;

export interface QuantControls {
  bits: RangeControl<number>;
  group: RangeControl<number>;
  kaxis: SelectControl<Axis>;
  vaxis: SelectControl<Axis>;
  method: SelectControl<Method>;
}

export const METHOD_OPTIONS = [
  { value: 'minmax' as const, label: 'min-max (quanto)' },
  { value: 'hqq' as const, label: 'HQQ' },
  { value: 'absmax' as const, label: 'abs-max (symmetric)' },
];

/**
 * `read()` gives the widget's current state (for the live aria-valuetext); `set` applies a change.
 * With `{ valueGrouping: false }` the Value grouping select is not built at all (so the controls built after it
 * keep the generated ids they had when a widget built this set itself without it).
 */
export function quantControls(read: () => QuantControlState, set: (patch: Partial<QuantControlState>) => void): QuantControls;
export function quantControls(
  read: () => KeyQuantControlState,
  set: (patch: Partial<KeyQuantControlState>) => void,
  options: { valueGrouping: false },
): Omit<QuantControls, 'vaxis'>;
export function quantControls(
  read: () => KeyQuantControlState & { vaxis?: Axis },
  set: (patch: Partial<QuantControlState>) => void,
  options: { valueGrouping: boolean } = { valueGrouping: true },
): Omit<QuantControls, 'vaxis'> & { vaxis?: SelectControl<Axis> } {
  const s = read();
  const bits = rangeControl({
    name: 'bits',
    label: 'Bits',
    values: [1, 2, 3, 4, 8],
    value: s.bits,
    describe: (v) => describeQuant(v, read().group, read().kaxis),
    short: (v) => `${v} bit${v === 1 ? '' : 's'}`,
    onChange: (v) => set({ bits: v }),
  });
  const group = rangeControl({
    name: 'group',
    label: 'Group size',
    values: [16, 32, 64, 128],
    value: s.group,
    describe: (v) => describeQuant(read().bits, v, read().kaxis),
    short: (v) => `G${v}`,
    onChange: (v) => set({ group: v }),
  });
  // Every grouping layout the engine offers, under the name Transformers (or KIVI) gives it.
  const layouts = axisOptions<Axis>();
  const kaxis = selectControl({
    name: 'kaxis',
    label: 'Key grouping',
    options: layouts,
    value: s.kaxis,
    onChange: (v) => set({ kaxis: v }),
  });
  const vaxis = options.valueGrouping
    ? selectControl({
        name: 'vaxis',
        label: 'Value grouping',
        options: layouts,
        value: s.vaxis ?? layouts[0].value,
        onChange: (v) => set({ vaxis: v }),
      })
    : undefined;
  const method = selectControl({
    name: 'method',
    label: 'Method',
    options: METHOD_OPTIONS,
    value: s.method,
    onChange: (v) => set({ method: v }),
  });
  return vaxis ? { bits, group, kaxis, vaxis, method } : { bits, group, kaxis, method };
}
