// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import node from '@astrojs/node';
import remarkMath from 'remark-math';
import rehypeKatex from 'rehype-katex';
import { remarkCitations } from './src/lib/content/remark-citations.mjs';
import { fileURLToPath } from 'node:url';

/**
 * The script-tag embed (src/widgets/embed-bundle.ts) as an extra entry of the client
 * build at a stable URL, /kv-cache-lab.js, so third-party pages can use one
 * <script type="module"> tag that survives rebuilds.
 * @returns {import('vite').Plugin}
 */
function scriptTagBundle() {
  let ssr = false;
  return {
    name: 'kv-cache-lab:script-tag-bundle',
    apply: 'build',
    configResolved(config) {
      ssr = !!config.build.ssr;
    },
    buildStart() {
      if (!ssr) this.emitFile({ type: 'chunk', id: fileURLToPath(new URL('./src/widgets/embed-bundle.ts', import.meta.url)), fileName: 'kv-cache-lab.js' });
    },
  };
}

/**
 * transformers.js fills in a CDN default for ONNX Runtime's WASM files when it is imported
 * (before our worker sets env.backends.onnx.wasm.wasmPaths to the site's own copies). The
 * default is never fetched, but the build should not name a CDN at all: point it at a
 * same-origin path instead.
 * @returns {import('vite').Plugin}
 */
function noCdnDefaults() {
  return {
    name: 'kv-cache-lab:no-cdn-defaults',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('@huggingface/transformers') || !code.includes('cdn.jsdelivr.net')) return null;
      return { code: code.replaceAll('https://cdn.jsdelivr.net/npm/', '/_cdn-disabled/'), map: null };
    },
  };
}

// Everything the site needs is built and served from its own origin: KaTeX's CSS
// and fonts are bundled by Vite, Shiki highlights at build time, and the model and
// ONNX Runtime's WASM are served from public/ and the build output.
export default defineConfig({
  site: 'http://127.0.0.1:4321',
  trailingSlash: 'ignore',
  // Every page is prerendered; the Node adapter only serves the one on-demand
  // route, /oembed.json?url=…, whose answer depends on the query string.
  output: 'static',
  adapter: node({ mode: 'standalone' }),
  integrations: [mdx()],
  markdown: {
    remarkPlugins: [remarkMath, remarkCitations],
    rehypePlugins: [[rehypeKatex, { output: 'htmlAndMathml', throwOnError: true }]],
    shikiConfig: {
      // Two themes switched by prefers-color-scheme in CSS (see src/styles/global.css).
      themes: { light: 'github-light-default', dark: 'github-dark-default' },
      defaultColor: false,
      wrap: false,
    },
  },
  vite: {
    plugins: [noCdnDefaults(), scriptTagBundle()],
    // Browser chunks find each other (and their CSS, workers, WASM) relative to their
    // own URL, so widgets loaded by /kv-cache-lab.js on another site fetch from this one.
    experimental: { renderBuiltUrl: (_file, { hostType, ssr }) => (hostType === 'js' && !ssr ? { relative: true } : undefined) },
    worker: { format: 'es', plugins: () => [noCdnDefaults()] },
    build: { assetsInlineLimit: 0 },
    optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
  },
});
