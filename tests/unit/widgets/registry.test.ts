import { readdirSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDABLE, WIDGETS, WIDGET_NAMES, collectWidgets, isWidgetName, widgetByTag } from '../../../src/widgets/registry';
import { declareWidget, type WidgetDeclaration } from '../../../src/widgets/shared/declare';

const widgetsDir = path.resolve(__dirname, '../../../src/widgets');
const folders = readdirSync(widgetsDir).filter((n) => existsSync(path.join(widgetsDir, n, 'element.ts')));

describe('the widget registry is the widget folders', () => {
  it('every folder with an element.ts declares itself, and nothing else is registered', () => {
    expect(folders.length).toBe(11);
    expect([...WIDGET_NAMES].sort()).toEqual([...folders].sort());
  });

  it.each(folders)('%s: the declared tag is the tag its element.ts defines; the codec is its state.ts codec', async (name) => {
    const d = WIDGETS[name];
    const element = readFileSync(path.join(widgetsDir, name, 'element.ts'), 'utf8');
    expect(element).toContain(`customElements.define('${d.tag}'`);
    const state = (await import(path.join(widgetsDir, name, 'state.ts'))) as Record<string, unknown>;
    expect(Object.values(state)).toContain(d.codec);
    expect(widgetByTag(d.tag.toUpperCase())?.name).toBe(name);
  });

  it('all eleven widgets embed', () => {
    expect([...EMBEDDABLE].sort()).toEqual([...folders].sort());
  });

  it('every chapter named by a widget exists', () => {
    for (const name of WIDGET_NAMES) {
      expect(existsSync(path.resolve(widgetsDir, '../../content/articles', `${WIDGETS[name].chapter}.mdx`)), name).toBe(true);
    }
  });

  it('isWidgetName rejects inherited keys and unknown names', () => {
    expect(isWidgetName('quantizer')).toBe(true);
    expect(isWidgetName('toString')).toBe(false);
    expect(isWidgetName('nope')).toBe(false);
  });
});

describe('collectWidgets', () => {
  const base = WIDGETS.memory;
  const as = (o: Partial<WidgetDeclaration>): WidgetDeclaration => ({ ...base, ...o });
  it('rejects a name that is not its folder', () => {
    expect(() => collectWidgets([['./foo/widget.ts', { default: as({ name: 'bar' }) }]])).toThrow(/must equal its folder "foo"/);
  });
  it('rejects duplicate tags', () => {
    expect(() =>
      collectWidgets([
        ['./a/widget.ts', { default: as({ name: 'a', tag: 'kv-x' }) }],
        ['./b/widget.ts', { default: as({ name: 'b', tag: 'kv-x' }) }],
      ]),
    ).toThrow(/share/);
  });
  it('rejects a module without a declaration', () => {
    expect(() => collectWidgets([['./a/widget.ts', {}]])).toThrow(/no default export/);
  });
  it('orders by `order`, then name', () => {
    const out = collectWidgets([
      ['./b/widget.ts', { default: as({ name: 'b', tag: 'kv-b', order: 1 }) }],
      ['./a/widget.ts', { default: as({ name: 'a', tag: 'kv-a', order: 1 }) }],
      ['./c/widget.ts', { default: as({ name: 'c', tag: 'kv-c', order: 0 }) }],
    ]);
    expect(out.map((d) => d.name)).toEqual(['c', 'a', 'b']);
  });
  it('declareWidget rejects a tag without the kv- prefix', () => {
    expect(() => declareWidget(as({ tag: 'x-foo' as `kv-${string}` }))).toThrow(/must start with "kv-"/);
  });
});
