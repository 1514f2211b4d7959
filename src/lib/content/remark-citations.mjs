// Pandoc-style citations for the notebook's MDX: `[@kivi]` or `[@kivi; @hf-blog]`.
// Each key must exist in content/references.json; an unknown key fails the build
// with a message naming the key and the file, so a chapter can never ship a
// dangling citation. Cited keys are numbered in order of first appearance and
// exported as frontmatter `citations`, which the article layout renders as the
// reference list.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const referencesPath = fileURLToPath(new URL('../../../content/references.json', import.meta.url));

/** @returns {Record<string, unknown>} */
function loadReferences() {
  return JSON.parse(readFileSync(referencesPath, 'utf8'));
}

const CITATION = /\[(@[A-Za-z0-9_:-]+(?:\s*;\s*@[A-Za-z0-9_:-]+)*)\]/g;

/** @param {any} node @param {(node: any, index: number, parent: any) => void} fn */
function visitText(node, fn) {
  if (!node.children) return;
  for (let i = 0; i < node.children.length; i++) {
    const child = node.children[i];
    if (child.type === 'text') fn(child, i, node);
    else if (child.type !== 'code' && child.type !== 'inlineCode' && child.type !== 'math' && child.type !== 'inlineMath')
      visitText(child, fn);
  }
}

export function remarkCitations() {
  return (/** @type {any} */ tree, /** @type {any} */ file) => {
    const references = loadReferences();
    /** @type {string[]} */
    const order = [];
    /** @type {Array<{parent: any, index: number, nodes: any[]}>} */
    const replacements = [];
    visitText(tree, (node, index, parent) => {
      const value = String(node.value);
      if (!value.includes('[@')) return;
      const nodes = [];
      let last = 0;
      for (const match of value.matchAll(CITATION)) {
        const keys = match[1].split(';').map((k) => k.trim().slice(1));
        for (const key of keys) {
          if (!(key in references)) {
            throw new Error(
              `Unknown citation key "${key}" in ${file.path ?? 'an article'}: add it to content/references.json or fix the key.`,
            );
          }
          if (!order.includes(key)) order.push(key);
        }
        if (match.index > last) nodes.push({ type: 'text', value: value.slice(last, match.index) });
        const links = keys.map((key) => ({
          type: 'link',
          url: `#ref-${key}`,
          data: { hProperties: { className: ['citation'], 'data-cite': key } },
          children: [{ type: 'text', value: String(order.indexOf(key) + 1) }],
        }));
        const inner = [];
        links.forEach((link, i) => {
          if (i > 0) inner.push({ type: 'text', value: ', ' });
          inner.push(link);
        });
        nodes.push({ type: 'text', value: '[' }, ...inner, { type: 'text', value: ']' });
        last = match.index + match[0].length;
      }
      if (nodes.length === 0) return;
      if (last < value.length) nodes.push({ type: 'text', value: value.slice(last) });
      replacements.push({ parent, index, nodes });
    });
    // Replace from the end so earlier indices stay valid.
    for (const { parent, index, nodes } of replacements.reverse()) parent.children.splice(index, 1, ...nodes);
    file.data.astro ??= {};
    file.data.astro.frontmatter ??= {};
    file.data.astro.frontmatter.citations = order;
  };
}
