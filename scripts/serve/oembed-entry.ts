/**
 * Entry of the oEmbed module that scripts/serve/postbuild.mjs bundles (with Vite, for the
 * registry's import.meta.glob) to dist/_server/oembed.mjs, so that plain-Node
 * scripts/serve.mjs answers /oembed.json with the same pure code the pages use.
 */
export { chapterWidgetsFromHtml, oembedResponse, oembedStaticFiles } from '../../src/widgets/embed/oembed';
export { loadersAvailable } from '../../src/widgets/loader';
