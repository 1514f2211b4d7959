import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The script-tag bundle injects widget.css into third-party pages (src/widgets/embed-bundle.ts), so no
 * selector may match the host's own elements: every compound selector list entry must go through the
 * widget root class `.kv-widget` or a `kv-*` element. (WordPress sidebars are `<div class="widget">`.)
 */
function selectors(css: string): string[] {
  const plain = css.replace(/\/\*[\s\S]*?\*\//g, '');
  const out: string[] = [];
  for (const m of plain.matchAll(/([^{}]+)\{/g)) {
    const sel = m[1].trim();
    if (sel.startsWith('@')) continue;
    for (const part of sel.split(',')) {
      const p = part.trim();
      if (p === 'from' || p === 'to' || /^\d+%$/.test(p)) continue; // keyframes
      out.push(p);
    }
  }
  return out;
}

describe('widget.css', () => {
  const css = readFileSync(new URL('../../../../src/widgets/shared/widget.css', import.meta.url), 'utf8');
  const all = selectors(css);

  it('has rules to check', () => expect(all.length).toBeGreaterThan(50));

  it('scopes every selector to .kv-widget or a kv-* element', () => {
    const unscoped = all.filter((s) => !/(^|[\s>+~(,])(\.kv-widget\b|kv-[a-z-]+)/.test(s));
    expect(unscoped).toEqual([]);
  });

  it('no longer has a bare .widget class selector', () => {
    expect(all.filter((s) => /\.widget(?![-\w])/.test(s))).toEqual([]);
  });
});
