// Check that transformers.js (Node, onnxruntime-node, CPU) loads public/models/kvlab-16m offline and
// reproduces tests/fixtures/model/reference.json (made by verify.py with PyTorch).
//   node scripts/model/check-node.mjs            (from the repository root)
// Exit code 1 on any mismatch.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, AutoTokenizer, AutoModelForCausalLM } from '@huggingface/transformers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.join(root, 'public/models/');

const ref = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/model/reference.json'), 'utf8'));
let failures = 0;
const fail = (msg) => {
  failures++;
  console.log('FAIL', msg);
};
const same = (a, b) => a.length === b.length && a.every((x, i) => Number(x) === Number(b[i]));

let t0 = performance.now();
const tokenizer = await AutoTokenizer.from_pretrained('kvlab-16m');
const model = await AutoModelForCausalLM.from_pretrained('kvlab-16m', { dtype: 'fp32' });
console.log(
  `load: ${(performance.now() - t0).toFixed(0)} ms; session inputs: ${model.sessions.model.inputNames.length}, outputs: ${model.sessions.model.outputNames.length}`,
);

for (const p of ref.prompts) {
  const inputs = tokenizer(p.prompt);
  const ids = Array.from(inputs.input_ids.data, Number);
  if (!same(ids, p.input_ids)) fail(`token ids differ for ${JSON.stringify(p.prompt.slice(0, 30))}: ${ids} vs ${p.input_ids}`);

  // one forward: logits, present.* (float32 [1, 2, T, 64]) and the extra queries.* outputs
  const out = await model(inputs);
  const T = ids.length;
  const k = out['present.0.key'];
  const q = out['queries.0'];
  if (!k || k.type !== 'float32' || !same(k.dims, [1, 2, T, 64])) fail(`present.0.key: ${k?.type} ${k?.dims}`);
  if (!q || q.type !== 'float32' || !same(q.dims, [1, 6, T, 64])) fail(`queries.0: ${q?.type} ${q?.dims}`);
  const V = out.logits.dims.at(-1);
  const last = Array.from(out.logits.data.slice((T - 1) * V, (T - 1) * V + 8));
  const dmax = Math.max(...last.map((x, i) => Math.abs(x - p.first8_logits_last_prompt_position[i])));
  if (!(dmax < 1e-3)) fail(`first 8 logits differ by ${dmax}`);

  // greedy continuation through generate() (uses the cache and position_ids internally)
  const gen = await model.generate({ ...inputs, max_new_tokens: ref.new_tokens, do_sample: false });
  const newIds = Array.from(gen.data, Number).slice(T);
  const text = tokenizer.decode(newIds);
  const ok = same(newIds, p.greedy_ids);
  if (!ok) fail(`greedy ids differ for ${JSON.stringify(p.prompt.slice(0, 30))}:\n  js  ${newIds}\n  ref ${p.greedy_ids}`);
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${JSON.stringify(p.prompt.slice(0, 40))} -> ${JSON.stringify(text)} (logit diff ${dmax.toExponential(2)}, present.0.key ${k.dims}, queries.0 ${q.dims})`,
  );
}

// held-out perplexity on the sample passage: one forward over the whole sequence
const sample = fs.readFileSync(path.join(root, 'public/models/kvlab-16m/heldout-sample.txt'), 'utf8');
const enc = tokenizer(sample);
const sid = Array.from(enc.input_ids.data, Number);
t0 = performance.now();
const o = await model(enc);
const V = o.logits.dims.at(-1);
let nll = 0;
for (let t = 0; t < sid.length - 1; t++) {
  const row = o.logits.data.subarray(t * V, (t + 1) * V);
  let m = -Infinity;
  for (const x of row) if (x > m) m = x;
  let s = 0;
  for (const x of row) s += Math.exp(x - m);
  nll += m + Math.log(s) - row[sid[t + 1]];
}
nll /= sid.length - 1;
const ppl = Math.exp(nll);
const h = ref.heldout_sample;
console.log(
  `held-out sample: ${sid.length} tokens (ref ${h.tokens}), ppl ${ppl.toFixed(4)} (ref ${h.perplexity.toFixed(4)}), forward ${(performance.now() - t0).toFixed(0)} ms`,
);
if (sid.length !== h.tokens || Math.abs(ppl - h.perplexity) / h.perplexity > 1e-3) fail('held-out perplexity differs');

console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
