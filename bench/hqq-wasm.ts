/**
 * Throughput of HQQ (default optimizer params, fp16 meta) on the JS reference kernels (`hqqToken`/`hqqChannel`,
 * float64) and on the WebAssembly SIMD kernel (`hqqWasm`, f32), on the same cache as bench/quant.ts:
 * 16 tensors of [2 heads, 1024 tokens, 64] (key-like data with ×10 outlier channels in every other tensor), next to
 * a plain Float32Array copy (.set) of the same data measured in the same run. Target: hqq ≥ 0.02× copy.
 * Run: npx tsx bench/hqq-wasm.ts   (BENCH_RUNS=n for more wasm samples, WASM_ONLY=1 to skip the slow js rows;
 * prints a table, writes nothing)
 * The machine may be shared: every figure is the best of its runs ('ratio' = best run vs best copy).
 */
import { hqqChannel, hqqToken } from '../src/lib/quant/hqq';
import { metaRounder } from '../src/lib/quant/fp16';
import { hqqWasm, hqqWasmActive } from '../src/lib/quant/wasm/hqq';
import { quantDefaults } from '../src/lib/quant/index';
import { createRng } from '../src/lib/model/sampling';

const HEADS = 2;
const TOKENS = 1024;
const HEAD_DIM = 64;
const TENSORS = 16;
const PER = HEADS * TOKENS * HEAD_DIM;
const TOTAL = PER * TENSORS;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const JS_RUNS = 2; // the float64 path takes ~1.3 s per run of 16 tensors

// Same data as bench/quant.ts (seeded mulberry32 + Box–Muller).
const rnd = createRng(1234);
const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
const tensors: Float32Array[] = [];
for (let k = 0; k < TENSORS; k++) {
  const data = new Float32Array(PER);
  const outliers = new Set([3, 17, 42]);
  for (let i = 0; i < PER; i++) data[i] = gauss() * (k % 2 === 0 && outliers.has(i % HEAD_DIM) ? 10 : 1);
  tensors.push(data);
}
const copyDst = new Float32Array(PER);
const codes = new Uint8Array(PER);
const deq = new Float32Array(PER);
const scales = new Float32Array(PER);
const zeros = new Float32Array(PER);
const params = quantDefaults.hqq;
const round = metaRounder('fp16');

/** Best over `runs` of the time to process all 16 tensors, in ms (after one warm-up run). */
function best(fn: (x: Float32Array) => void, runs: number): number {
  let b = Infinity;
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    for (const x of tensors) fn(x);
    const dt = performance.now() - t0;
    if (r > 0) b = Math.min(b, dt);
  }
  return b;
}
for (let i = 0; i < 20; i++) best((x) => copyDst.set(x), 3); // warm the copy path

if (!hqqWasmActive()) console.log('WASM SIMD unavailable: wasm rows skipped');
const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(`hqq over ${TENSORS} tensors × [${HEADS}, ${TOKENS}, ${HEAD_DIM}] = ${TOTAL.toLocaleString('en')} elements; best of ${RUNS} runs (js: ${JS_RUNS}); Node ${process.version}`);
console.log(`${'path'.padEnd(5)} ${pad('bits', 4)} ${'axis'.padEnd(7)} ${pad('G', 4)} ${pad('ms', 8)} ${pad('M el/s', 8)} ${pad('copy M/s', 9)} ${pad('ratio', 7)} ${pad('vs js', 6)} ${pad('iters', 5)} target`);
for (const bits of [2, 4]) {
  for (const axis of ['token', 'channel'] as const) {
    for (const G of [32, 64, 128]) {
      let jsMs = 0;
      for (const path of ['js', 'wasm'] as const) {
        if (path === 'wasm' && !hqqWasmActive()) continue;
        if (path === 'js' && process.env.WASM_ONLY) continue;
        let iters = 0;
        const fn =
          path === 'js'
            ? axis === 'token'
              ? (x: Float32Array) => (iters = hqqToken(x, PER, G, bits, params, round, codes, deq, scales, zeros))
              : (x: Float32Array) => (iters = hqqChannel(x, HEADS, TOKENS, HEAD_DIM, G, bits, params, round, codes, deq, scales, zeros))
            : (x: Float32Array) => {
                const it = hqqWasm(axis, x, HEADS, TOKENS, HEAD_DIM, G, bits, params, 'fp16', codes, deq, scales, zeros);
                if (it === false) throw new Error('hqqWasm fell back');
                iters = it;
              };
        const copy1 = best((x) => copyDst.set(x), RUNS);
        const ms = best(fn, path === 'js' ? JS_RUNS : RUNS);
        const copy2 = best((x) => copyDst.set(x), RUNS);
        const copyRate = TOTAL / (Math.min(copy1, copy2) * 1e3);
        const rate = TOTAL / (ms * 1e3);
        const ratio = rate / copyRate;
        if (path === 'js') jsMs = ms;
        console.log(
          `${path.padEnd(5)} ${pad(bits, 4)} ${axis.padEnd(7)} ${pad(G, 4)} ${pad(ms.toFixed(1), 8)} ${pad(rate.toFixed(1), 8)} ${pad(copyRate.toFixed(0), 9)} ${pad(ratio.toFixed(4), 7)} ${pad(path === 'js' ? '1.0×' : jsMs > 0 ? `${(jsMs / ms).toFixed(1)}×` : '—', 6)} ${pad(iters, 5)} ${ratio >= 0.02 ? 'ok' : 'MISSED'}`,
        );
      }
    }
  }
}
