/**
 * Throughput of quantizeFormat (engine cache formats) on a cache the size of the bundled model's at 1,024 tokens:
 * 16 tensors of [2 heads, 1024 tokens, 64] = 131,072 elements each (2,097,152 total), next to a plain Float32Array
 * copy (.set) of the same data timed in the same run. Each format runs on the JS reference path
 * (setWasmEnabled(false)) and, where it has a kernel, on the WebAssembly SIMD path (bit-identical results).
 * Target (issue 13): WASM ≥ 0.2× the copy. Ratios are printed, not asserted.
 * Run: npx tsx bench/formats.ts   (writes bench/results/formats.json; BENCH_RUNS=n)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_FORMATS, quantizeFormat, setWasmEnabled, wasmActive } from '../src/lib/quant/index';
import type { EngineFormat, FormatScale, KVTensor } from '../src/lib/quant/index';
import { formatHasWasmKernel } from '../src/lib/quant/wasm/formats';
import { createRng } from '../src/lib/model/sampling';

const HEADS = 2;
const TOKENS = 1024;
const HEAD_DIM = 64;
const TENSORS = 16;
const PER = HEADS * TOKENS * HEAD_DIM;
const TOTAL = PER * TENSORS;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

// Seeded data as bench/quant.ts: key-like tensors with a few ×10 outlier channels on every other tensor.
const rnd = createRng(1234);
const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
const tensors: KVTensor[] = [];
for (let k = 0; k < TENSORS; k++) {
  const data = new Float32Array(PER);
  const outliers = new Set([3, 17, 42]);
  for (let i = 0; i < PER; i++) data[i] = gauss() * (k % 2 === 0 && outliers.has(i % HEAD_DIM) ? 10 : 1);
  tensors.push({ data, heads: HEADS, tokens: TOKENS, headDim: HEAD_DIM });
}
const copyDst = new Float32Array(PER);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function timeBoth(fn: (t: KVTensor) => void, runs = RUNS): { median: number; best: number } {
  const samples: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    for (const t of tensors) fn(t);
    const dt = performance.now() - t0;
    if (r > 0) samples.push(dt);
  }
  return { median: median(samples), best: Math.min(...samples) };
}
for (let i = 0; i < 20; i++) timeBoth((t) => copyDst.set(t.data), 1);

type Row = {
  format: EngineFormat;
  scale: string;
  path: 'js' | 'wasm';
  ms: number;
  mElemPerS: number;
  copyMElemPerS: number;
  ratio: number;
  bestRatio: number;
};
const rows: Row[] = [];
const hasWasm = wasmActive();
const configs: [EngineFormat, FormatScale | undefined][] = [];
for (const f of ENGINE_FORMATS) {
  configs.push([f.id, undefined]);
  if (f.id === 'fp8_e4m3') configs.push([f.id, 'tensor'], [f.id, 'head']);
}
for (const [format, scale] of configs) {
  // the output buffer is reused (opts.out), as a widget redrawing the same tensor would
  const opts = scale === undefined ? { out: new Float32Array(PER) } : { scale, out: new Float32Array(PER) };
  const paths: ('js' | 'wasm')[] = hasWasm && formatHasWasmKernel(format) ? ['js', 'wasm'] : ['js'];
  for (const path of paths) {
    setWasmEnabled(path === 'wasm');
    for (let w = 0; w < 3; w++) for (const t of tensors) quantizeFormat(t, format, opts);
    const c1 = timeBoth((t) => copyDst.set(t.data));
    const { median: ms, best } = timeBoth((t) => quantizeFormat(t, format, opts));
    const c2 = timeBoth((t) => copyDst.set(t.data));
    const copyRate = TOTAL / (Math.min(c1.median, c2.median) * 1e3);
    const bestCopyRate = TOTAL / (Math.min(c1.best, c2.best) * 1e3);
    const rate = TOTAL / (ms * 1e3);
    rows.push({
      format,
      scale: scale ?? 'default',
      path,
      ms,
      mElemPerS: rate,
      copyMElemPerS: copyRate,
      ratio: rate / copyRate,
      bestRatio: TOTAL / (best * 1e3) / bestCopyRate,
    });
  }
}
setWasmEnabled(true);

const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(
  `quantizeFormat over ${TENSORS} tensors × [${HEADS}, ${TOKENS}, ${HEAD_DIM}] = ${TOTAL.toLocaleString('en')} elements; median of ${RUNS} runs; Node ${process.version}; WASM SIMD ${hasWasm ? 'on' : 'unavailable'}`,
);
console.log(
  `${'format'.padEnd(9)} ${'scale'.padEnd(8)} ${'path'.padEnd(5)} ${pad('ms', 8)} ${pad('M el/s', 8)} ${pad('copy M/s', 9)} ${pad('ratio', 7)} ${pad('best', 7)}  (target: wasm ≥ 0.2× copy)`,
);
for (const r of rows) {
  console.log(
    `${r.format.padEnd(9)} ${r.scale.padEnd(8)} ${r.path.padEnd(5)} ${pad(r.ms.toFixed(2), 8)} ${pad(r.mElemPerS.toFixed(0), 8)} ${pad(r.copyMElemPerS.toFixed(0), 9)} ${pad(r.ratio.toFixed(3), 7)} ${pad(r.bestRatio.toFixed(3), 7)}`,
  );
}
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'formats.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, wasmSimd: hasWasm, elements: TOTAL, runs: RUNS, rows }, null, 2) +
    '\n',
);
console.log(`Wrote ${join('bench', 'results', 'formats.json')}`);
