import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transformersVerdict } from '../../../../src/lib/quant/index';
import { renderTransformersNote, transformersNote } from '../../../../src/widgets/shared/transformers-note';

/**
 * The unit tests run in Node without a DOM, so a minimal element stands in for document.createElement. Its
 * innerHTML and outerHTML setters throw: the note must build its text with textContent only.
 */
class FakeElement {
  tagName: string;
  children: (FakeElement | string)[] = [];
  attributes = new Map<string, string>();
  dataset: Record<string, string> = {};
  style: Record<string, string> = {};
  className = '';
  #text = '';
  constructor(tag: string) {
    this.tagName = tag.toUpperCase();
  }
  get classList() {
    const list = () => this.className.split(/\s+/).filter(Boolean);
    return {
      add: (c: string) => void (this.className = [...new Set([...list(), c])].join(' ')),
      toggle: (c: string, on: boolean) =>
        void (this.className = (on ? [...new Set([...list(), c])] : list().filter((x) => x !== c)).join(' ')),
      contains: (c: string) => list().includes(c),
    };
  }
  set textContent(t: string) {
    this.#text = t;
    this.children = [];
  }
  get textContent(): string {
    return this.#text + this.children.map((c) => (typeof c === 'string' ? c : c.textContent)).join('');
  }
  set innerHTML(_: string) {
    throw new Error('innerHTML used');
  }
  set outerHTML(_: string) {
    throw new Error('outerHTML used');
  }
  setAttribute(k: string, v: string) {
    this.attributes.set(k, v);
  }
  getAttribute(k: string) {
    return this.attributes.get(k) ?? null;
  }
  append(...nodes: (FakeElement | string)[]) {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes: (FakeElement | string)[]) {
    this.#text = '';
    this.children = nodes;
  }
  findAll(cls: string): FakeElement[] {
    const own = this.classList.contains(cls) ? [this] : [];
    return [...own, ...this.children.flatMap((c) => (typeof c === 'string' ? [] : c.findAll(cls)))];
  }
}

const g = globalThis as unknown as { document?: unknown };
let saved: unknown;
beforeAll(() => {
  saved = g.document;
  g.document = { createElement: (tag: string) => new FakeElement(tag) };
});
afterAll(() => {
  g.document = saved;
});

const SMOL = { batch: 1, kvHeads: 3, headDim: 64 };
const hqq4 = { backend: 'hqq', nbits: 4, axisKey: 1, axisValue: 1, qGroupSize: 64, residualLength: 128 };

describe('transformers-note', () => {
  it('a failing verdict: role note, "Fails in Transformers", the step and exception, the cause, the upstream file', () => {
    const v = transformersVerdict(hqq4, SMOL, { promptTokens: 5, decodeSteps: 3 });
    const node = transformersNote(v, { context: 'hqq, 4 bits' }) as unknown as FakeElement;
    expect(node.getAttribute('role')).toBe('note');
    expect(node.dataset.verdict).toBe('fails');
    expect(node.classList.contains('tf-note-fails')).toBe(true);
    expect(node.findAll('tf-note-heading')[0].textContent).toBe('Fails in Transformers');
    expect(node.findAll('tf-note-error')[0].textContent).toBe(`Fails at the prefill (5 prompt tokens, keys): ${v.failure!.error}`);
    expect(node.findAll('tf-note-source')[0].textContent).toContain('hqq/core/bitpack.py · BitPack.pack_4bit_u8');
    expect(node.textContent).toContain('hqq, 4 bits');
  });
  it('a running verdict re-renders the same element in place: "Runs in Transformers", no error line', () => {
    const node = transformersNote(transformersVerdict(hqq4, SMOL, { promptTokens: 5, decodeSteps: 3 })) as unknown as FakeElement;
    renderTransformersNote(node as unknown as HTMLElement, transformersVerdict(hqq4, SMOL, { promptTokens: 6, decodeSteps: 3 }));
    expect(node.dataset.verdict).toBe('runs');
    expect(node.classList.contains('tf-note-fails')).toBe(false);
    expect(node.findAll('tf-note-heading')[0].textContent).toBe('Runs in Transformers');
    expect(node.findAll('tf-note-error')).toEqual([]);
  });
  it('markup in the context stays text', () => {
    const node = transformersNote(transformersVerdict(hqq4, SMOL, { promptTokens: 6, decodeSteps: 0 }), {
      context: '<img src=x onerror=alert(1)>',
    }) as unknown as FakeElement;
    expect(node.textContent).toContain('<img src=x onerror=alert(1)>');
  });
  it('lists the further constructor errors after the first', () => {
    const v = transformersVerdict({ ...hqq4, backend: 'quanto', nbits: 3, axisKey: 1, axisValue: 0 }, SMOL, {
      promptTokens: 8,
      decodeSteps: 0,
    });
    const node = transformersNote(v) as unknown as FakeElement;
    expect(node.findAll('tf-note-more-item').map((n) => n.textContent)).toEqual([
      'Then, once that is fixed: ValueError: `axis_key` for `quanto` backend has to be one of [`0`, `-1`] but got 1',
    ]);
  });
});
