#!/usr/bin/env python3
"""Rebuild kvlab-16m as a Transformers `LlamaForCausalLM` from the ONNX file the site ships.

  python scripts/kv-dump/onnx_to_hf.py --out /tmp/kvlab-16m-hf
      [--model-dir public/models/kvlab-16m] [--check-text public/models/kvlab-16m/heldout-sample.txt]

The site ships only `onnx/model.onnx` (scripts/model/export.py): its initializers are the weights of
the explicit export module `KVLabExport`, stored as float16 (`<name>_fp16`, followed by a Cast to
float32) when they have >= 1024 elements, else as float32. The names map one-to-one onto
`LlamaForCausalLM` parameters (export.py copies them from there); matrices keep nn.Linear's
[out_features, in_features] layout (the graph transposes them before MatMul). Writes config.json,
model.safetensors (float32: the fp16 values widened exactly, so PyTorch computes with the same
numbers onnxruntime does), the tokenizer files, then checks logits and the KV cache against
onnxruntime on the first tokens of --check-text and exits 1 if they differ by more than --tol.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys

import numpy as np

# KVLabExport attribute -> LlamaForCausalLM parameter (scripts/model/export.py, KVLabExport.__init__).
LAYER_MAP = {
    "ln1": "input_layernorm.weight",
    "ln2": "post_attention_layernorm.weight",
    "wq": "self_attn.q_proj.weight",
    "wk": "self_attn.k_proj.weight",
    "wv": "self_attn.v_proj.weight",
    "wo": "self_attn.o_proj.weight",
    "wg": "mlp.gate_proj.weight",
    "wu": "mlp.up_proj.weight",
    "wd": "mlp.down_proj.weight",
}
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]


def hf_name(onnx_name: str) -> str:
    base = onnx_name[: -len("_fp16")] if onnx_name.endswith("_fp16") else onnx_name
    if base == "embed":
        return "model.embed_tokens.weight"
    if base == "norm":
        return "model.norm.weight"
    m = re.fullmatch(r"layers\.(\d+)\.(\w+)", base)
    if m and m.group(2) in LAYER_MAP:
        return f"model.layers.{m.group(1)}.{LAYER_MAP[m.group(2)]}"
    raise KeyError(f"unexpected ONNX initializer {onnx_name!r}")


def state_dict_from_onnx(onnx_path: str) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    out: dict[str, np.ndarray] = {}
    for init in model.graph.initializer:
        name = hf_name(init.name)
        if name in out:
            raise ValueError(f"two initializers map to {name}")
        out[name] = numpy_helper.to_array(init).astype(np.float32)
    return out


def build_model(model_dir: str, onnx_path: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig.from_pretrained(model_dir)
    model = LlamaForCausalLM(cfg).eval()
    sd = {k: torch.from_numpy(v) for k, v in state_dict_from_onnx(onnx_path).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if unexpected:
        raise ValueError(f"ONNX weights with no place in LlamaForCausalLM: {unexpected}")
    # lm_head is tied to embed_tokens (config tie_word_embeddings: true; export.py uses embed.t() for the logits).
    if set(missing) - {"lm_head.weight"}:
        raise ValueError(f"LlamaForCausalLM parameters missing from the ONNX file: {sorted(set(missing))}")
    model.tie_weights()
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        raise ValueError("lm_head is not tied to embed_tokens")
    return model


def ort_prefill(onnx_path: str, ids: list[int], num_layers: int, kv_heads: int, head_dim: int) -> dict[str, np.ndarray]:
    """Run the shipped ONNX graph on one sequence with an empty past; returns every output by name."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    T = len(ids)
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, T), dtype=np.int64),
        "position_ids": np.arange(T, dtype=np.int64)[None],
    }
    for i in range(num_layers):
        for kv in ("key", "value"):
            feeds[f"past_key_values.{i}.{kv}"] = np.zeros((1, kv_heads, 0, head_dim), dtype=np.float32)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def compare(model, onnx_path: str, ids: list[int]) -> dict[str, float]:
    import torch

    c = model.config
    ref = ort_prefill(onnx_path, ids, c.num_hidden_layers, c.num_key_value_heads, c.head_dim)
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=True)
    diffs = {"logits": float(np.abs(out.logits.numpy() - ref["logits"]).max())}
    diffs["keys"] = max(float(np.abs(out.past_key_values.layers[i].keys.numpy() - ref[f"present.{i}.key"]).max())
                        for i in range(c.num_hidden_layers))
    diffs["values"] = max(float(np.abs(out.past_key_values.layers[i].values.numpy() - ref[f"present.{i}.value"]).max())
                          for i in range(c.num_hidden_layers))
    return diffs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="kvlab-16m ONNX -> Transformers LlamaForCausalLM")
    ap.add_argument("--model-dir", default="public/models/kvlab-16m")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check-text", default=None, help="default: <model-dir>/heldout-sample.txt")
    ap.add_argument("--check-tokens", type=int, default=128)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    onnx_path = os.path.join(args.model_dir, "onnx", "model.onnx")
    model = build_model(args.model_dir, onnx_path)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.pop("transformers.js_config", None)
    with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    sd = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(sd, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
    for name in TOKENIZER_FILES:
        src = os.path.join(args.model_dir, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(args.out, name))

    text_path = args.check_text or os.path.join(args.model_dir, "heldout-sample.txt")
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    tok = AutoTokenizer.from_pretrained(args.out)
    ids = tok(text, add_special_tokens=False)["input_ids"][: args.check_tokens]
    diffs = compare(model, onnx_path, ids)
    ok = all(v <= args.tol for v in diffs.values())
    print(f"onnx_to_hf: wrote {args.out}; max |PyTorch - onnxruntime| over {len(ids)} tokens: "
          + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()) + f" (tol {args.tol:g}) -> {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
