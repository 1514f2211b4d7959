/**
 * Opening a Llama-3-8B-shaped KV-cache dump (bench/browser/synthetic-dump.ts, ~405 MB fp16) with the code the
 * dump worker and the page run (src/widgets/shared/dump-source.ts), in Node: header + schema (what the
 * metadata panel needs), the NaN/Inf scan of every tensor, the first layer widened to float32, all layers.
 * Prints figures; asserts nothing. The browser side (worker, long tasks, renderer memory) is
 * bench/browser/dump-open.bench.ts.
 */
import { readFileSync } from 'node:fs';
import { readKvDump } from '../src/lib/model/safetensors';
import { checkDump, dumpTensorSet, DUMP_MAX_BYTES } from '../src/widgets/shared/dump-source';
import { makeSyntheticDump, syntheticDumpPath } from './browser/synthetic-dump';

const file = syntheticDumpPath();
makeSyntheticDump(file);
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  sample();
  return [r, performance.now() - t];
};

const [buf, readMs] = time(() => new Uint8Array(readFileSync(file)));
const [, metaMs] = time(() => readKvDump(buf, { maxBytes: DUMP_MAX_BYTES }));
const [, scanMs] = time(() => checkDump(buf));
const [set, setMs] = time(() => dumpTensorSet(buf, 'synthetic'));
const [, firstMs] = time(() => [set.keys[0], set.values[0]]);
const [, allMs] = time(() => {
  for (let i = 0; i < set.info.layers; i++) void [set.keys[i], set.values[i], set.queries?.[i]];
});
console.log(`dump-open (Node ${process.version}), ${mb(buf.byteLength)} file, limit ${mb(DUMP_MAX_BYTES)}:`);
console.log(
  `  read file ${readMs.toFixed(0)} ms; header + schema + shapes (metadata) ${metaMs.toFixed(1)} ms; NaN/Inf scan of all tensors ${scanMs.toFixed(0)} ms`,
);
console.log(
  `  TensorSet (header again) ${setMs.toFixed(1)} ms; first layer K+V to float32 ${firstMs.toFixed(1)} ms; all ${set.info.layers} layers K+V+Q ${allMs.toFixed(0)} ms`,
);
console.log(
  `  peak RSS ${mb(peakRss)} (file ${mb(buf.byteLength)} + float32 K/V of every layer ${mb(set.info.layers * 2 * set.keys[0].data.byteLength)})`,
);
