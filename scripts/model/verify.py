#!/usr/bin/env python3
"""Check the exported ONNX (onnxruntime, CPU) against PyTorch and write the reference file.

  python3 verify.py --model DIR --sample public/models/kvlab-16m/heldout-sample.txt --reference OUT.json

DIR holds config.json, model.safetensors (fp16), tokenizer.json and onnx/model.onnx. PyTorch runs the
transformers LlamaForCausalLM in float32 on the CPU with the shipped fp16 weights. Checks (each fails
loudly when max|diff| / max|ref| > 1e-3): an empty past, one step with past, a left-padded batch,
and the post-RoPE queries against the explicit export module. Writes the reference JSON used by the
Node tests (prompts, ids, 24-token greedy continuations, first 8 logits, held-out perplexity).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import KVLabExport, load_hf, positions  # noqa: E402

PROMPTS = [
    "The history of the city begins",
    "I like rock music because",
    "The old man walked slowly down the road to the harbour, where the fishing boats had come in early that "
    "morning. He stopped to talk with the men who were mending their nets, and they told him that the weather "
    "would turn before night. He looked at the sky and",
]
TOL = 1e-3
failures = []


def rel(a, b, mask=None):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if mask is not None:
        a, b = a[mask], b[mask]
    d = np.abs(a - b).max()
    return d, d / max(np.abs(b).max(), 1e-12)


def check(name, a, b, mask=None):
    d, r = rel(a, b, mask)
    ok = r <= TOL
    print(f"[verify] {name:48s} max|diff| {d:.3e}  relative {r:.3e}  {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(name)
    return float(d), float(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sample", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--new-tokens", type=int, default=24)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    import onnxruntime as ort
    from tokenizers import Tokenizer

    hf = load_hf(args.model)
    cfg = hf.config
    L, KV, D, H = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.head_dim, cfg.num_attention_heads
    ex = KVLabExport(hf).eval()
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 4
    sess = ort.InferenceSession(os.path.join(args.model, "onnx", "model.onnx"), so, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    print("[verify] ONNX inputs:", [(i.name, i.shape, i.type) for i in sess.get_inputs()[:4]], "...")
    print("[verify] ONNX outputs:", len(out_names), out_names[:3], "...", out_names[-1])
    results = {}

    def run(ids, mask, pos, past=None):
        B = ids.shape[0]
        feed = {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64),
                "position_ids": pos.astype(np.int64)}
        for i in range(L):
            for j, kv in enumerate(("key", "value")):
                feed[f"past_key_values.{i}.{kv}"] = (past[2 * i + j] if past is not None
                                                     else np.zeros((B, KV, 0, D), np.float32))
        return dict(zip(out_names, sess.run(None, feed)))

    def hf_kv(c, i, j):
        if hasattr(c, "layers"):
            return (c.layers[i].keys, c.layers[i].values)[j].numpy()
        return c[i][j].numpy()

    # 1. empty past
    ids = np.array([tok.encode(PROMPTS[2]).ids])
    S = ids.shape[1]
    mask = np.ones_like(ids)
    pos = np.arange(S)[None]
    o = run(ids, mask, pos)
    r = hf(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), use_cache=True)
    results["empty_past_logits"] = check("empty past: logits", o["logits"], r.logits.numpy())
    dk = max(rel(o[f"present.{i}.{kv}"], hf_kv(r.past_key_values, i, j))[1] for i in range(L)
             for j, kv in enumerate(("key", "value")))
    print(f"[verify] {'empty past: presents (max relative over layers)':48s} relative {dk:.3e}  {'ok' if dk <= TOL else 'FAIL'}")
    if dk > TOL:
        failures.append("presents")
    results["empty_past_presents_rel"] = float(dk)
    empty = [torch.zeros(1, KV, 0, D)] * (2 * L)
    exo = ex(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(pos), *empty)
    q = np.stack([o[f"queries.{i}"] for i in range(L)])
    results["queries"] = check("empty past: queries.* vs explicit module", q,
                               np.stack([t.numpy() for t in exo[1 + 2 * L:]]))
    assert o["present.0.key"].shape == (1, KV, S, D) and o["queries.0"].shape == (1, H, S, D)
    assert o["present.0.key"].dtype == np.float32

    # 2. one step with past
    nxt = np.array([[int(o["logits"][0, -1].argmax())]])
    past = [o[f"present.{i}.{kv}"] for i in range(L) for kv in ("key", "value")]
    o2 = run(nxt, np.ones((1, S + 1), np.int64), np.array([[S]]), past)
    full = np.concatenate([ids, nxt], 1)
    r2 = hf(input_ids=torch.from_numpy(full), use_cache=True)
    results["step_logits"] = check("one step with past: logits", o2["logits"][:, -1], r2.logits.numpy()[:, -1])
    results["step_present"] = check("one step with past: present.7.value", o2[f"present.{L - 1}.value"],
                                    hf_kv(r2.past_key_values, L - 1, 1))

    # 3. padded batch (left padding, as transformers.js pads for generation)
    encs = [tok.encode(p).ids for p in PROMPTS[:2]]
    T = max(map(len, encs))
    pad_id = tok.token_to_id("<|endoftext|>")
    bids = np.array([[pad_id] * (T - len(e)) + e for e in encs])
    bmask = np.array([[0] * (T - len(e)) + [1] * len(e) for e in encs])
    bpos = positions(torch.from_numpy(bmask)).numpy()
    o3 = run(bids, bmask, bpos)
    r3 = hf(input_ids=torch.from_numpy(bids), attention_mask=torch.from_numpy(bmask),
            position_ids=torch.from_numpy(bpos))
    valid = bmask.astype(bool)
    results["padded_batch_logits"] = check("padded batch: logits at real tokens", o3["logits"], r3.logits.numpy(), valid)
    # each padded row must equal the same prompt run alone
    for b, e in enumerate(encs):
        solo = run(np.array([e]), np.ones((1, len(e)), np.int64), np.arange(len(e))[None])
        check(f"padded batch row {b} vs unpadded run", o3["logits"][b][valid[b]], solo["logits"][0])

    # 4. reference: greedy continuations with PyTorch (full recompute), cross-checked with ORT + cache
    ref = {"model": "kvlab-16m", "greedy": "argmax, no penalty, no sampling, no BOS token added",
           "new_tokens": args.new_tokens, "prompts": []}
    t_tok = []
    for p in PROMPTS:
        pid = tok.encode(p).ids
        seq = list(pid)
        first = None
        for _ in range(args.new_tokens):
            lg = hf(input_ids=torch.tensor([seq])).logits[0, -1]
            if first is None:
                first = lg[:8].tolist()
            seq.append(int(lg.argmax()))
        gen = seq[len(pid):]
        # ORT incremental decode
        o = run(np.array([pid]), np.ones((1, len(pid)), np.int64), np.arange(len(pid))[None])
        cur = list(pid)
        ogen = []
        for k in range(args.new_tokens):
            t = int(o["logits"][0, -1].argmax())
            ogen.append(t)
            cur.append(t)
            past = [o[f"present.{i}.{kv}"] for i in range(L) for kv in ("key", "value")]
            t0 = time.time()
            o = run(np.array([[t]]), np.ones((1, len(cur)), np.int64), np.array([[len(cur) - 1]]), past)
            t_tok.append(time.time() - t0)
        same = ogen == gen
        print(f"[verify] greedy '{p[:30]}...': ORT-with-cache == PyTorch: {same}; text: {tok.decode(gen)!r}")
        if not same:
            failures.append("greedy " + p[:20])
        ref["prompts"].append({"prompt": p, "input_ids": pid, "greedy_ids": gen, "greedy_text": tok.decode(gen),
                               "full_text": tok.decode(pid + gen), "first8_logits_last_prompt_position": first})
    print(f"[verify] ORT CPU decode: {1000 * np.median(t_tok):.2f} ms/token (4 threads)")

    # 5. held-out perplexity on the sample passage (PyTorch fp32, full sequence)
    text = open(args.sample, encoding="utf-8").read()
    sid = tok.encode(text).ids
    assert len(sid) <= cfg.max_position_embeddings, len(sid)
    lg = hf(input_ids=torch.tensor([sid])).logits[0].double()
    nll = torch.nn.functional.cross_entropy(lg[:-1], torch.tensor(sid[1:]), reduction="mean").item()
    o = run(np.array([sid]), np.ones((1, len(sid)), np.int64), np.arange(len(sid))[None])
    olg = torch.from_numpy(o["logits"][0]).double()
    onll = torch.nn.functional.cross_entropy(olg[:-1], torch.tensor(sid[1:]), reduction="mean").item()
    print(f"[verify] held-out sample: {len(sid)} tokens, {len(sid) - 1} predicted; PyTorch ppl {math.exp(nll):.4f} "
          f"(mean NLL {nll:.6f}); ORT ppl {math.exp(onll):.4f}")
    ref["heldout_sample"] = {"file": "public/models/kvlab-16m/heldout-sample.txt", "chars": len(text),
                             "tokens": len(sid), "predicted_tokens": len(sid) - 1, "mean_nll": nll,
                             "perplexity": math.exp(nll), "perplexity_onnxruntime": math.exp(onll),
                             "method": "one forward pass over the whole token sequence (no BOS added), mean NLL "
                                       "of tokens 2..N given their prefix, natural log"}
    ref["onnx_vs_pytorch"] = results
    with open(args.reference, "w") as f:
        json.dump(ref, f, indent=1)
    print("[verify] wrote", args.reference)
    if failures:
        print("[verify] FAILED:", failures)
        sys.exit(1)
    print("[verify] all checks passed")


if __name__ == "__main__":
    main()
