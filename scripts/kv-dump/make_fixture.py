#!/usr/bin/env python3
"""Regenerate the committed sample dump and its onnxruntime reference values.

  python scripts/kv-dump/make_fixture.py

1. onnx_to_hf.py: kvlab-16m's ONNX weights -> a temporary LlamaForCausalLM directory (checked
   against onnxruntime, exits on mismatch).
2. dump_kv.py on it: the first 64 tokens of heldout-sample.txt (no BOS, as the site tokenizes),
   all 8 layers, the last 8 queries, float16 -> public/dumps/kvlab-16m-sample.kvlab.safetensors.
3. onnxruntime on the same token ids (the shipped graph, not the PyTorch copy) ->
   tests/fixtures/kv-dump/kvlab-16m-sample.ort.json: a few reference numbers per layer that the
   TypeScript reader's test (tests/unit/lib/model/safetensors.test.ts) compares the decoded dump with.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import dump_kv  # noqa: E402
import onnx_to_hf  # noqa: E402

MODEL_DIR = os.path.join(ROOT, "public", "models", "kvlab-16m")
TEXT = os.path.join(MODEL_DIR, "heldout-sample.txt")
DUMP = os.path.join(ROOT, "public", "dumps", "kvlab-16m-sample.kvlab.safetensors")
REF = os.path.join(ROOT, "tests", "fixtures", "kv-dump", "kvlab-16m-sample.ort.json")
TOKENS, QUERIES = 64, 8


def main() -> int:
    from safetensors import safe_open

    with tempfile.TemporaryDirectory() as tmp:
        hf = os.path.join(tmp, "kvlab-16m-hf")
        if onnx_to_hf.main(["--model-dir", MODEL_DIR, "--out", hf]) != 0:
            return 1
        rc = dump_kv.main(["--model", hf, "--model-id", "kvlab-16m", "--text", TEXT, "--out", DUMP,
                           "--max-tokens", str(TOKENS), "--queries", str(QUERIES), "--dtype", "float16",
                           "--no-special-tokens"])
        if rc != 0:
            return rc
    with safe_open(DUMP, "np") as f:
        meta = json.loads(f.metadata()["kvlab"])
    ids = meta["tokens"]["ids"]
    ref = onnx_to_hf.ort_prefill(os.path.join(MODEL_DIR, "onnx", "model.onnx"), ids, meta["num_hidden_layers"],
                                 meta["num_key_value_heads"], meta["head_dim"])
    layers = []
    for i in range(meta["num_hidden_layers"]):
        k, v, q = ref[f"present.{i}.key"][0], ref[f"present.{i}.value"][0], ref[f"queries.{i}"][0]
        layers.append({
            "index": i,
            "keys_head0_token0": [round(float(x), 6) for x in k[0, 0]],
            "keys_abs_sum": float(np.abs(k.astype(np.float64)).sum()),
            "values_abs_sum": float(np.abs(v.astype(np.float64)).sum()),
            "queries_last_head0": [round(float(x), 6) for x in q[0, -1]],
        })
    os.makedirs(os.path.dirname(REF), exist_ok=True)
    with open(REF, "w", encoding="utf-8") as f:
        json.dump({"source": "onnxruntime on public/models/kvlab-16m/onnx/model.onnx, empty past, "
                             "written by scripts/kv-dump/make_fixture.py",
                   "token_ids": ids, "layers": layers}, f, indent=1)
        f.write("\n")
    print(f"make_fixture: {DUMP} ({os.path.getsize(DUMP):,} bytes), {REF}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
