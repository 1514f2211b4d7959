// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import node from '@astrojs/node';
import remarkMath from 'remark-math';
import rehypeKatex from 'rehype-katex';
import { remarkCitations } from './src/lib/content/remark-citations.mjs';

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
    worker: { format: 'es' },
    build: { assetsInlineLimit: 0 },
    optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
  },
});
