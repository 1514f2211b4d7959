/**
 * The layout's import rules, checked on the real import graph (static `import`/`export … from`
 * and dynamic `import()`; `new Worker(new URL(…))` is a separate bundle and deliberately not an edge):
 *
 * 1. Nothing a page loads reaches the model engine: no file under `src/pages`, `src/widgets`,
 *    `src/components`, `src/layouts` or `src/lib` imports, directly or through other files,
 *    anything under `src/workers/` or `@huggingface/transformers` / `onnxruntime-web`.
 *    The engine runs only in the model worker, so transformers.js can never land in a page bundle.
 * 2. `src/lib/quant` is pure: it imports nothing outside `src/lib/quant` (no DOM modules,
 *    widgets, workers or packages), so the math runs the same in page, worker and Node.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const src = path.join(root, 'src');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts|mjs|js|astro)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Script text of a file: all of it for TS/JS, the frontmatter and `<script>` bodies for `.astro`. */
function scriptText(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.astro')) return text;
  const parts: string[] = [];
  const fm = /^---\n([\s\S]*?)\n---/.exec(text);
  if (fm) parts.push(fm[1]);
  for (const m of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) parts.push(m[1]);
  return parts.join('\n');
}

function importsOf(file: string): string[] {
  return ts.preProcessFile(scriptText(file), true, true).importedFiles.map((f) => f.fileName);
}

const EXTENSIONS = ['', '.ts', '.mts', '.mjs', '.js', '.astro', '/index.ts'];
function resolveRelative(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec.replace(/\?.*$/, ''));
  for (const ext of EXTENSIONS) {
    const p = base + ext;
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

type Edge = { to: string; external: boolean };
const edgeCache = new Map<string, Edge[]>();
function edges(file: string): Edge[] {
  let e = edgeCache.get(file);
  if (!e) {
    e = importsOf(file).flatMap((spec): Edge[] => {
      if (spec.startsWith('.')) {
        const r = resolveRelative(file, spec);
        return r ? [{ to: r, external: false }] : [];
      }
      return [{ to: spec, external: true }];
    });
    edgeCache.set(file, e);
  }
  return e;
}

/** Every import chain from `start` that ends at a node `bad` accepts (one chain per bad node). */
function forbiddenChains(start: string, bad: (node: string, external: boolean) => boolean): string[][] {
  const chains: string[][] = [];
  const seen = new Set<string>([start]);
  const stack: string[][] = [[start]];
  while (stack.length) {
    const chain = stack.pop()!;
    for (const { to, external } of edges(chain[chain.length - 1])) {
      if (seen.has(to)) continue;
      seen.add(to);
      const next = [...chain, to];
      if (bad(to, external)) chains.push(next);
      else if (!external) stack.push(next);
    }
  }
  return chains;
}

const rel = (p: string) => (path.isAbsolute(p) ? path.relative(root, p) : p);
const ENGINE_PACKAGES = /^(@huggingface\/transformers|onnxruntime-web|onnxruntime-node)(\/|$)/;
const workersDir = path.join(src, 'workers') + path.sep;

describe('page code never reaches the model engine', () => {
  const pageSide = ['pages', 'widgets', 'components', 'layouts', 'lib']
    .map((d) => path.join(src, d))
    .filter((d) => existsSync(d))
    .flatMap(walk);

  it('finds the files it checks', () => {
    expect(pageSide.length).toBeGreaterThan(50);
    expect(pageSide.some((f) => f.endsWith(path.join('widgets', 'quantizer', 'element.ts')))).toBe(true);
  });

  it.each(pageSide.map((f) => [rel(f), f]))('%s', (_name, file) => {
    const chains = forbiddenChains(file, (node, external) => (external ? ENGINE_PACKAGES.test(node) : node.startsWith(workersDir)));
    expect(chains.map((c) => c.map(rel).join(' → '))).toEqual([]);
  });

  it('the rule does catch an engine import (the checker itself works)', () => {
    const handler = path.join(src, 'workers', 'engine', 'handler.ts');
    const chains = forbiddenChains(handler, (node, external) => external && ENGINE_PACKAGES.test(node));
    expect(chains.length).toBeGreaterThan(0); // handler → runner → @huggingface/transformers
  });
});

describe('src/lib/quant is pure', () => {
  const quantDir = path.join(src, 'lib', 'quant') + path.sep;
  const files = walk(quantDir);
  it.each(files.map((f) => [rel(f), f]))('%s imports only src/lib/quant', (_name, file) => {
    const outside = edges(file)
      .filter((e) => (e.external ? true : !e.to.startsWith(quantDir)))
      .map((e) => rel(e.to));
    expect(outside).toEqual([]);
  });
});
