/**
 * Model worker (module worker): the `onmessage` glue around `createModelHandler`. No math here.
 *
 * Everything is served from the site's own origin: models from `<base>models/`, and ONNX Runtime's
 * WASM build from copies Vite emits into the build (imported with `?url`). Remote models are
 * allowed only for a request that explicitly asks for a Hub model (see `loadRunner`).
 */
import { env } from '@huggingface/transformers';
// The plain SIMD build: the site runs the WASM execution provider only (no WebGPU/JSEP), and this build is
// 14.3 MB (3.7 MB gzip) against 26.9 MB (6.6 MB gzip) for the asyncify build it replaced (bench/bytes.ts);
// tests/e2e/model.spec.ts checks the logits against Node with it.
import ortWasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { createModelHandler } from './engine/handler';
import type { ModelResponse } from '../lib/model/protocol';
import { fakeQuantizeDequantized } from './engine/quantize';
import { configureLocalModels, loadRunner } from './engine/runner';

const base = import.meta.env.BASE_URL.endsWith('/') ? import.meta.env.BASE_URL : `${import.meta.env.BASE_URL}/`;

// A path, not an absolute URL: transformers.js 4.3 `get_file_metadata` only probes local files whose
// path is not an http(s) URL, so with a URL here the tokenizer files are reported missing.
configureLocalModels(new URL(`${base}models/`, self.location.origin).pathname);
const onnx = env.backends.onnx as { wasm?: Record<string, unknown> };
if (onnx.wasm) {
  onnx.wasm.wasmPaths = {
    mjs: new URL(ortWasmMjs, self.location.href).href,
    wasm: new URL(ortWasm, self.location.href).href,
  };
  // No cross-origin isolation on this site, so no SharedArrayBuffer threads.
  onnx.wasm.numThreads = 1;
  onnx.wasm.proxy = false;
}

const scope = self as unknown as {
  postMessage(msg: ModelResponse, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
  addEventListener(type: 'unhandledrejection', fn: (e: PromiseRejectionEvent) => void): void;
};

const handler = createModelHandler({
  post: (msg, transfer) => scope.postMessage(msg, transfer),
  load: loadRunner,
  quantize: fakeQuantizeDequantized,
});

scope.onmessage = (e: MessageEvent) => {
  handler.handle(e.data).catch((err: unknown) => {
    // handle() answers every request itself; this only guards against a bug there.
    console.error('model worker:', err);
  });
};
scope.addEventListener('unhandledrejection', (e) => {
  console.error('model worker: unhandled rejection', e.reason);
  e.preventDefault();
});
