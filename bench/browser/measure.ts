/**
 * Redraw timing of a widget in the page: from just before a trusted keyboard event
 * reaches a slider (a capture-phase keydown listener takes performance.now()) to the
 * widget's `kv-rendered` event, which widgets dispatch after their synchronous redraw.
 * A widget opts in by dispatching `kv-rendered` (and setting `data-rendered`) when
 * its redraw has finished; then `measureRedraw(page, { selector, slider })` measures it.
 */
import type { Page } from '@playwright/test';

export interface RedrawOptions {
  /** CSS selector of the widget element (e.g. 'kv-quantizer'). */
  selector: string;
  /** Accessible name of the slider to operate (e.g. 'Bits'). */
  slider: string;
  /** Measured key presses (after `warmup` unmeasured ones). */
  steps?: number;
  warmup?: number;
  /** Keys pressed in turn; the default oscillates one step right and back. */
  pattern?: readonly string[];
}

export interface RedrawStats {
  samples: number[];
  median: number;
  p95: number;
  min: number;
  max: number;
  /** Presses that produced no redraw (value at the end of the range). */
  missed: number;
  /** Median of each phase the widget reports in `kv-rendered`'s detail.phases (ms), if any. */
  phases: Record<string, number>;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export async function measureRedraw(page: Page, o: RedrawOptions): Promise<RedrawStats> {
  const steps = o.steps ?? 40;
  const warmup = o.warmup ?? 4;
  const pattern = o.pattern ?? ['ArrowRight', 'ArrowLeft'];
  const widget = page.locator(o.selector).first();
  const slider = widget.getByRole('slider', { name: o.slider, exact: true });
  await slider.focus();
  await slider.evaluate((input, sel) => {
    const host = input.closest(sel) as HTMLElement & { __bench?: { t0: number; times: number[]; phases: Record<string, number>[] } };
    const state = { t0: NaN, times: [] as number[], phases: [] as Record<string, number>[] };
    host.__bench = state;
    input.addEventListener('keydown', () => (state.t0 = performance.now()), { capture: true });
    host.addEventListener('kv-rendered', (e) => {
      if (!Number.isNaN(state.t0)) {
        state.times.push(performance.now() - state.t0);
        state.phases.push((e as CustomEvent).detail?.phases ?? {});
      }
      state.t0 = NaN;
    });
  }, o.selector);
  const read = () => widget.evaluate((host) => (host as HTMLElement & { __bench: { times: number[] } }).__bench.times.slice());
  let missed = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const before = (await read()).length;
    await page.keyboard.press(pattern[i % pattern.length]);
    // Let the frame finish (and any queued work run) before the next press.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    if ((await read()).length === before) missed++;
  }
  const all = await read();
  const samples = all.slice(Math.min(warmup, all.length));
  const sorted = [...samples].sort((a, b) => a - b);
  const phaseList = (
    await widget.evaluate((host) => (host as HTMLElement & { __bench: { phases: Record<string, number>[] } }).__bench.phases)
  ).slice(Math.min(warmup, all.length));
  const phases: Record<string, number> = {};
  for (const k of Object.keys(phaseList[0] ?? {}))
    phases[k] = quantile(
      phaseList.map((p) => p[k]).sort((a, b) => a - b),
      0.5,
    );
  return {
    samples,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    missed,
    phases,
  };
}

/** The example of the precomputed index with `tokens` tokens, or the longest one (say so in the results). */
export function pickExample(items: { id: string; tokens: number }[], tokens: number): { id: string; tokens: number; exact: boolean } {
  const exact = items.find((i) => i.tokens === tokens);
  if (exact) return { ...exact, exact: true };
  const longest = [...items].sort((a, b) => b.tokens - a.tokens)[0];
  return { ...longest, exact: false };
}
