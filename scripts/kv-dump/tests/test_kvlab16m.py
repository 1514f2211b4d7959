"""kvlab-16m: the PyTorch copy rebuilt from ONNX, and the committed sample dump, against onnxruntime.

onnxruntime runs the shipped graph (public/models/kvlab-16m/onnx/model.onnx), which was itself
checked against Transformers' LlamaForCausalLM when it was exported (scripts/model/export.py,
verify.py); here it is the independent reference for both the converter and the dump.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
KVDUMP = os.path.dirname(HERE)
ROOT = os.path.abspath(os.path.join(KVDUMP, "..", ".."))
MODEL_DIR = os.path.join(ROOT, "public", "models", "kvlab-16m")
ONNX = os.path.join(MODEL_DIR, "onnx", "model.onnx")
FIXTURE = os.path.join(ROOT, "public", "dumps", "kvlab-16m-sample.kvlab.safetensors")
sys.path.insert(0, KVDUMP)

import onnx_to_hf  # noqa: E402


@pytest.fixture(scope="module")
def fixture():
    with safe_open(FIXTURE, "np") as f:
        meta = json.loads(f.metadata()["kvlab"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return meta, tensors


@pytest.fixture(scope="module")
def ort_ref(fixture):
    meta, _ = fixture
    return onnx_to_hf.ort_prefill(ONNX, meta["tokens"]["ids"], 8, 2, 64)


def test_converter_matches_onnxruntime(tmp_path):
    """onnx_to_hf.py end to end: writes a loadable checkpoint whose logits and cache match onnxruntime."""
    from transformers import AutoModelForCausalLM

    assert onnx_to_hf.main(["--model-dir", MODEL_DIR, "--out", str(tmp_path), "--check-tokens", "48"]) == 0
    model = AutoModelForCausalLM.from_pretrained(str(tmp_path)).eval()
    assert sum(p.numel() for p in model.parameters()) == 15_735_168  # scripts/model/README.md
    ids = [339, 4002, 281, 264, 2679, 3932, 1312]  # "The history of the city begins" (tests/fixtures/model/reference.json)
    d = onnx_to_hf.compare(model, ONNX, ids)
    assert d["logits"] < 1e-4 and d["keys"] < 1e-4 and d["values"] < 1e-4, d


def test_onnx_name_mapping_is_complete():
    import onnx

    names = [i.name for i in onnx.load(ONNX, load_external_data=False).graph.initializer]
    mapped = {onnx_to_hf.hf_name(n) for n in names}
    assert len(mapped) == len(names) == 2 + 8 * 9
    with pytest.raises(KeyError):
        onnx_to_hf.hf_name("layers.0.unknown")


def test_fixture_metadata(fixture):
    meta, tensors = fixture
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    with open(os.path.join(MODEL_DIR, "heldout-sample.txt"), encoding="utf-8") as f:
        ids = tok(f.read(), add_special_tokens=False)["input_ids"][:64]
    assert meta["tokens"]["ids"] == ids
    assert meta["model"]["id"] == "kvlab-16m" and meta["dtype"] == "float16"
    assert [l["attention"] for l in meta["layers"]] == ["full"] * 8
    assert len(tensors) == 8 * 4 and all(t.dtype == np.float16 for t in tensors.values())
    assert os.path.getsize(FIXTURE) < 1_000_000


def near_fp16(got: np.ndarray, want: np.ndarray):
    """float16 storage rounds to 2^-11 relative (subnormal spacing 2^-24); 1e-4 for PyTorch vs onnxruntime."""
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = np.abs(want) * 2.0 ** -11 + 1e-4
    assert (err <= bound).all(), f"max excess {(err - bound).max():.3g}"


def test_fixture_equals_onnxruntime(fixture, ort_ref):
    meta, t = fixture
    n = meta["queries"]["count"]
    for i in range(8):
        near_fp16(t[f"layers.{i}.keys"], ort_ref[f"present.{i}.key"][0])
        near_fp16(t[f"layers.{i}.values"], ort_ref[f"present.{i}.value"][0])
        near_fp16(t[f"layers.{i}.queries"], ort_ref[f"queries.{i}"][0][:, -n:])


def test_fixture_pre_rope_keys_rotate_to_onnxruntime_keys(fixture, ort_ref):
    """Independent float64 RoPE (Llama rotate_half convention, theta from the metadata) on the dumped
    pre-RoPE keys gives onnxruntime's post-RoPE keys."""
    meta, t = fixture
    theta, D, T = meta["rope"]["rope_theta"], meta["head_dim"], meta["tokens"]["count"]
    inv = 1.0 / theta ** (np.arange(0, D, 2, dtype=np.float64) / D)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    for i in range(8):
        k = t[f"layers.{i}.keys_pre_rope"].astype(np.float64)
        rot = np.concatenate([-k[..., D // 2:], k[..., : D // 2]], -1)
        # Rotating fp16-rounded inputs: error up to ~2 roundings of the largest component in each pair.
        err = np.abs(k * cos + rot * sin - ort_ref[f"present.{i}.key"][0])
        assert (err <= np.abs(k).max(-1, keepdims=True) * 2.0 ** -10 + 1e-4).all(), err.max()
