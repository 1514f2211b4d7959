import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MARK_COLOURS, PALETTE_GROUPS, TEXT_COLOURS, colour, type PaletteName } from '../../../../src/widgets/shared/palette';

/**
 * Every chart colour against the widget background of each theme, both read from the real widget.css.
 * WCAG 2.2 (https://www.w3.org/TR/WCAG22/): SC 1.4.11 non-text contrast needs 3:1 for graphical objects
 * needed to understand a chart; SC 1.4.3 needs 4.5:1 for text (a label drawn in a series' colour).
 * Contrast ratio and relative luminance as the WCAG 2.2 definitions ("contrast ratio", "relative
 * luminance") give them: (L1 + 0.05) / (L2 + 0.05), L = 0.2126 R + 0.7152 G + 0.0722 B with each sRGB
 * channel c/255 linearized as c <= 0.04045 ? c/12.92 : ((c + 0.055)/1.055)^2.4.
 */
const css = readFileSync(new URL('../../../../src/widgets/shared/widget.css', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

function hexRgb(hex: string): [number, number, number] {
  const h = /^#([0-9a-f]{6})$/i.exec(hex.trim());
  if (!h) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [0, 2, 4].map((i) => parseInt(h[1].slice(i, i + 2), 16)) as [number, number, number];
}

function luminance(hex: string): number {
  const [r, g, b] = hexRgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The declarations of the rule whose selector list is exactly `selector`. */
function ruleBody(selector: string): string {
  const bodies = [...css.matchAll(/([^{}]+)\{([^{}]*)\}/g)]
    .filter((m) =>
      m[1]
        .split(',')
        .map((s) => s.trim())
        .includes(selector),
    )
    .map((m) => m[2]);
  if (bodies.length !== 1) throw new Error(`expected one rule for ${selector}, found ${bodies.length}`);
  return bodies[0];
}

function declared(body: string, prop: string): string {
  const m = new RegExp(`(?:^|;)\\s*${prop}\\s*:\\s*([^;]+);`).exec(body);
  if (!m) throw new Error(`${prop} not declared`);
  return m[1].trim();
}

const BG = {
  light: declared(ruleBody("[data-theme='light'] .kv-widget"), '--w-bg'),
  dark: declared(ruleBody("[data-theme='dark'] .kv-widget"), '--w-bg'),
};

/** `--kv-c-<name>: light-dark(<light>, <dark>)`, declared once in the whole file. */
function pair(name: PaletteName): { light: string; dark: string } {
  const found = [...css.matchAll(new RegExp(`--kv-c-${name}\\s*:\\s*([^;]+);`, 'g'))];
  if (found.length !== 1) throw new Error(`--kv-c-${name} declared ${found.length} times`);
  const m = /^light-dark\(\s*(#[0-9a-f]{6})\s*,\s*(#[0-9a-f]{6})\s*\)$/i.exec(found[0][1].trim());
  if (!m) throw new Error(`--kv-c-${name} is not light-dark(#rrggbb, #rrggbb): ${found[0][1]}`);
  return { light: m[1].toLowerCase(), dark: m[2].toLowerCase() };
}

describe('chart palette (widget.css --kv-c-*)', () => {
  it('reads the two theme backgrounds from widget.css', () => {
    // A light and a dark background (luminance far apart), not a copy of either value.
    expect(luminance(BG.light)).toBeGreaterThan(0.8);
    expect(luminance(BG.dark)).toBeLessThan(0.05);
  });

  it('computes WCAG contrast as the definition does (hand-checked pairs)', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 10);
    expect(contrast('#ffffff', '#ffffff')).toBeCloseTo(1, 10);
    // #777777: c = 119/255 = 0.46667 → ((0.46667 + 0.055)/1.055)^2.4 = 0.18447; (1.05)/(0.23447) = 4.478
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.478, 3);
  });

  it('names only colours that widget.css declares, and every declared one is named', () => {
    const names = [...MARK_COLOURS, ...TEXT_COLOURS];
    for (const n of names) expect(() => pair(n), n).not.toThrow();
    const declaredNames = [...css.matchAll(/--kv-c-([a-z0-9-]+)\s*:/g)].map((m) => m[1]);
    expect(new Set(declaredNames)).toEqual(new Set(names));
    expect(colour('blue')).toBe('var(--kv-c-blue)');
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`marks reach 3:1 against the ${theme} widget background (SC 1.4.11)`, () => {
      const low = MARK_COLOURS.map((n) => ({ n, c: pair(n)[theme], r: contrast(pair(n)[theme], BG[theme]) })).filter((x) => x.r < 3);
      expect(low).toEqual([]);
    });

    it(`text colours reach 4.5:1 against the ${theme} widget background (SC 1.4.3)`, () => {
      const low = TEXT_COLOURS.map((n) => ({ n, c: pair(n)[theme], r: contrast(pair(n)[theme], BG[theme]) })).filter((x) => x.r < 4.5);
      expect(low).toEqual([]);
    });

    it(`series of one chart keep distinct colours in the ${theme} theme`, () => {
      for (const [group, names] of Object.entries(PALETTE_GROUPS)) {
        const cs = names.map((n) => pair(n)[theme]);
        expect(new Set(cs).size, group).toBe(cs.length);
      }
    });
  }
});
