// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import remarkMath from 'remark-math';
import rehypeKatex from 'rehype-katex';
import { remarkCitations } from './src/lib/content/remark-citations.mjs';
import { fileURLToPath } from 'node:url';
import { kvlabPostBuild } from './scripts/serve/postbuild.mjs';

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
      if (!ssr)
        this.emitFile({
          type: 'chunk',
          id: fileURLToPath(new URL('./src/widgets/embed-bundle.ts', import.meta.url)),
          fileName: 'kv-cache-lab.js',
        });
    },
  };
}

/**
 * transformers.js fills in a remote default for ONNX Runtime's WASM files when it is imported
 * (before our worker sets env.backends.onnx.wasm.wasmPaths to the site's own copies). The
 * default is never fetched, but the build should name no remote host at all: any absolute
 * `https://…/npm/onnxruntime-web@` prefix becomes a same-origin path.
 * @returns {import('vite').Plugin}
 */
function noRemoteRuntimeDefaults() {
  const remoteRuntime = /https:\/\/[a-z0-9.-]+\/npm\/(?=onnxruntime-web@)/g;
  return {
    name: 'kv-cache-lab:no-remote-runtime-defaults',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('@huggingface/transformers') || !remoteRuntime.test(code)) return null;
      remoteRuntime.lastIndex = 0;
      return { code: code.replace(remoteRuntime, '/_remote-disabled/'), map: null };
    },
  };
}

// Everything the site needs is built and served from its own origin: KaTeX's CSS
// and fonts are bundled by Vite, Shiki highlights at build time, and the model and
// ONNX Runtime's WASM are served from public/ and the build output.
export default defineConfig({
  site: 'http://127.0.0.1:4321',
  trailingSlash: 'ignore',
  // Fully static: every page is prerendered and there is no adapter, so there are no
  // on-demand routes at all (in particular no /_image endpoint). scripts/serve.mjs
  // serves dist/ and answers the one dynamic URL, /oembed.json?url=…, itself.
  output: 'static',
  // kvlabPostBuild: after the build, the oEmbed module and prerendered answers for
  // scripts/serve.mjs and static hosts, and .br/.gz siblings of text, JS, WASM and JSON.
  integrations: [mdx(), kvlabPostBuild()],
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
    plugins: [noRemoteRuntimeDefaults(), scriptTagBundle()],
    // Browser chunks find each other (and their CSS, workers, WASM) relative to their
    // own URL, so widgets loaded by /kv-cache-lab.js on another site fetch from this one.
    experimental: { renderBuiltUrl: (_file, { hostType, ssr }) => (hostType === 'js' && !ssr ? { relative: true } : undefined) },
    worker: { format: 'es', plugins: () => [noRemoteRuntimeDefaults()] },
    build: { assetsInlineLimit: 0 },
    optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
  },
});
