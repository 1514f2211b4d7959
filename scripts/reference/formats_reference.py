#!/usr/bin/env python3
"""Writes tests/fixtures/formats/: reference fake quantization of small KV tensors in every engine format, computed
by the engines' own code, for tests/unit/lib/quant/formats/ to compare bit for bit.

- FP8 (e4m3fn, e5m2): PyTorch CPU `(x / scale).clamp(-max, max).to(dtype).float() * scale`, the arithmetic of vLLM's
  cache writer; scales as src/lib/quant/formats/fp8.ts describes (vLLM `Attention.calc_kv_scales` for dynamic-k/v).
- llama.cpp q8_0, q4_0, q4_1, q5_0, q5_1: gguf-py's numpy ports (`gguf.quants.quantize` / `dequantize`, which
  mirror `quantize_row_*_ref` / `dequantize_row_*` of ggml-quants.c; `pip install gguf`, checked with 0.19.0).
- iq4_nl: gguf-py only dequantizes it, so the quantizer is ported here from ggml-quants.c
  (`quantize_row_iq4_nl_ref` -> `quantize_row_iq4_nl_impl(32, 32, 16, ..., ntry=-1)`, llama.cpp 01243c5) in numpy
  float32, packed into real block_iq4_nl bytes and decoded by gguf-py's `IQ4_NL.dequantize`.
- NVFP4: vLLM's `ref_nvfp4_quant_dequant` (CPU branch) and the functions it calls, extracted with `ast` from a copy
  of vllm/model_executor/layers/quantization/utils/nvfp4_emulation_utils.py given with --vllm-nvfp4 (vLLM is not
  pip-installable here, and its module imports triton). Global scale: `(448.0 * 6.0) / amax` as vLLM's NVFP4 tests (torch
  evaluates it as amax.reciprocal() * 2688).

Usage: python scripts/reference/formats_reference.py --vllm-nvfp4 /path/to/nvfp4_emulation_utils.py
(the committed fixtures were made with torch 2.13.0+cpu, numpy 2.4.6, gguf 0.19.0 and vLLM 055e47c's file; the
script only needs that file's get_reciprocal, cast_to_fp4, ref_nvfp4_quant and ref_nvfp4_quant_dequant).
Output: manifest.json (cases, shapes, output order) + one <case>.bin per case: float32 little-endian, the input
tensor followed by each output in manifest order.
"""
import argparse
import ast
import json
import types
from pathlib import Path

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import quants as gq

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "formats"

FP8 = {"fp8_e4m3": (torch.float8_e4m3fn, 448.0), "fp8_e5m2": (torch.float8_e5m2, 57344.0)}
FP8_MODES = ["unit", "tensor", "head", "dynamic-k", "dynamic-v"]
NVFP4_MODES = ["tensor", "head", "unit"]
GGML = {"q8_0": QT.Q8_0, "q4_0": QT.Q4_0, "q4_1": QT.Q4_1, "q5_0": QT.Q5_0, "q5_1": QT.Q5_1}
# vllm/envs.py defaults
K_SCALE_CONSTANT, V_SCALE_CONSTANT = 200.0, 100.0


def fp8_ref(x: np.ndarray, name: str, mode: str) -> np.ndarray:
    dtype, mx = FP8[name]
    t = torch.from_numpy(x)
    if mode == "unit":
        s = torch.ones((t.shape[0], 1, 1), dtype=torch.float32)
    elif mode == "tensor":
        s = (t.abs().max() / mx).reshape(1, 1, 1)
    elif mode == "head":
        s = t.abs().amax(dim=(1, 2), keepdim=True) / mx
    else:  # vLLM calc_kv_scales: torch.abs(key).max() / self.k_range (a float32 tensor)
        rng = torch.tensor(K_SCALE_CONSTANT if mode == "dynamic-k" else V_SCALE_CONSTANT, dtype=torch.float32)
        s = (t.abs().max() / rng).reshape(1, 1, 1)
    s = torch.where(s == 0, torch.ones_like(s), s)  # same guard as fp8.ts (the reference would give 0/0)
    q = (t / s).clamp(-mx, mx).to(dtype)
    return (q.to(torch.float32) * s).numpy()


def load_vllm_nvfp4(path: str) -> types.SimpleNamespace:
    src = Path(path).read_text()
    tree = ast.parse(src)
    want_fn = {"get_reciprocal", "cast_to_fp4", "ref_nvfp4_quant", "ref_nvfp4_quant_dequant"}
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in want_fn]
    keep += [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "FLOAT4_E2M1_MAX_RECIPROCAL" for t in n.targets)]
    assert {n.name for n in keep if isinstance(n, ast.FunctionDef)} == want_fn, "functions not found in " + path
    ns = {
        "torch": torch,
        "FLOAT4_E2M1_MAX": 6.0,  # scalar_types.float4_e2m1f.max()
        "current_platform": types.SimpleNamespace(is_cuda_alike=lambda: False),
    }
    exec(compile(ast.Module(body=keep, type_ignores=[]), path, "exec"), ns)
    return types.SimpleNamespace(**ns)


def nvfp4_ref(vllm, x: np.ndarray, mode: str) -> np.ndarray:
    H, T, D = x.shape
    out = np.empty_like(x)

    def gs_of(a: torch.Tensor) -> torch.Tensor:
        amax = a.abs().max().to(torch.float32)
        if amax == 0:
            return torch.tensor(1.0, dtype=torch.float32)
        return ((448.0 * 6.0) / amax).to(torch.float32)  # (FLOAT8_E4M3_MAX * FLOAT4_E2M1_MAX) / tensor_amax

    t = torch.from_numpy(x)
    for h in range(H):
        if mode == "unit":
            gs = torch.tensor(1.0, dtype=torch.float32)
        elif mode == "head":
            gs = gs_of(t[h])
        else:
            gs = gs_of(t)
        out[h] = vllm.ref_nvfp4_quant_dequant(t[h].reshape(T, D).clone(), gs, 16).numpy()
    return out


def ggml_ref(x: np.ndarray, qt) -> np.ndarray:
    with np.errstate(all="ignore"):
        return gq.dequantize(gq.quantize(x, qt), qt).reshape(x.shape).astype(np.float32)


KV = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], dtype=np.int32)


def iq4_nl_ref(x: np.ndarray) -> np.ndarray:
    """quantize_row_iq4_nl_ref (ntry = -1), float32, sequential sums like the C loop; then gguf-py's decoder."""
    f = np.float32
    b = x.reshape(-1, 32).astype(np.float32)
    nb = b.shape[0]
    vals = KV.astype(np.float32)
    with np.errstate(all="ignore"):
        w = b * b
        ax = np.abs(b)
        imax = ax.argmax(axis=1)  # first of the largest |x| (C: `if (ax > amax)`)
        r = np.arange(nb)
        amax, mx = ax[r, imax], b[r, imax]
        d0 = mx / vals[0]  # ntry = -1: max / values[0]
        idv = f(1) / d0
        L = np.zeros((nb, 32), dtype=np.int64)
        sumqx = np.zeros(nb, dtype=np.float32)
        sumq2 = np.zeros(nb, dtype=np.float32)
        for j in range(32):
            al = idv * b[:, j]
            x2 = al + al
            idx = np.zeros(nb, dtype=np.int64)
            for step in (8, 4, 2, 1):
                jj = idx + step
                idx = np.where(x2 >= (KV[jj - 1] + KV[jj]).astype(np.float32), jj, idx)
            L[:, j] = idx
            q = vals[idx]
            wq = w[:, j] * q
            sumqx = sumqx + wq * b[:, j]
            sumq2 = sumq2 + wq * q
        d = np.where(sumq2 > 0, sumqx / sumq2, f(0)).astype(np.float32)
    small = amax < f(1e-15)
    d[small] = 0
    L[small] = 0
    qs = (L[:, :16] | (L[:, 16:] << 4)).astype(np.uint8)
    with np.errstate(over="ignore"):  # a scale past 65504 becomes fp16 inf, as GGML_FP32_TO_FP16
        dh = d.astype(np.float16)
    blocks = np.concatenate([dh.view(np.uint8).reshape(nb, 2), qs], axis=1)
    return gq.dequantize(blocks, QT.IQ4_NL).reshape(x.shape).astype(np.float32)


def cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261206)
    c: dict[str, np.ndarray] = {}
    # 1. random normal with outlier channels (key-like): channels 3, 17 ×10, channel 42 ×50
    x = rng.standard_normal((2, 16, 64)).astype(np.float32)
    x[:, :, [3, 17]] *= 10
    x[:, :, 42] *= 50
    c["normal_outliers"] = x
    # 2. per-head different ranges (head scales), headDim 32
    x = rng.standard_normal((3, 5, 32)).astype(np.float32)
    x[0] *= 0.01
    x[2] *= 30
    c["heads_ranges"] = x
    # 3. exact ties for each format's rounding rule (one row per pattern, padded with small values)
    rows = []
    pad = lambda r: np.array((r + [0.01 * (k + 1) for k in range(64 - len(r))])[:64], dtype=np.float32)
    # fp8 / nvfp4 (scale 1): e4m3 midpoints (1.0625, 17, 0.0029296875 = 1.5·2^-9 subnormal), e2m1 thresholds
    rows.append(pad([6, -6, 0.25, -0.25, 0.75, -0.75, 1.25, -1.25, 1.75, 2.5, 3.5, 5, -5, 5.5, 4.5, 0.5,
                     6, 1.0625, 17, -17, 0.0029296875, -0.0029296875, 464, 240, 1.1875, 0.125, -3, 2.25, 1, 0, -0.0, 3.25]))
    # q8_0: amax 127 -> d = 1: halves away from zero
    rows.append(pad([127, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 63.5, -63.5, 0.49999997, 3.5, -3.5, 100.5, -100.5]))
    # q4_0: max -8 -> d = 1: trunc(x + 8.5) rounds halves up
    rows.append(pad([-8] + [k + 0.5 for k in range(-8, 8)] + [7, -7, 7.75, -7.75]))
    # q5_0: max -16 -> d = 1
    rows.append(pad([-16] + [k + 0.5 for k in range(-16, 16)]))
    # q4_1 / q5_1: min 0, max 15 (31) -> d = 1
    rows.append(np.array([0, 15] + [k + 0.5 for k in range(15)] + [0.5 * k for k in range(15)], dtype=np.float32).tolist()[:32] * 2)
    rows.append(np.array([0, 31] + [k + 0.5 for k in range(30)], dtype=np.float32).tolist() * 2)
    # iq4_nl: max -127 -> scale 1: midpoints between neighbouring levels
    mids = [(KV[j - 1] + KV[j]) / 2 for j in range(1, 16)]
    rows.append(pad([-127] + mids + [-m for m in mids]))
    rows.append(pad([6, 1.0625, 2.5, -2.5, 0.75, 0.25]))
    c["ties"] = np.stack([np.array(r, dtype=np.float32)[:64] for r in rows]).reshape(1, len(rows), 64)
    # 4. zeros: all-zero tensor, and zero blocks inside a nonzero tensor
    c["zeros"] = np.zeros((2, 2, 32), dtype=np.float32)
    x = rng.standard_normal((1, 4, 64)).astype(np.float32)
    x[0, 1] = 0
    x[0, 2, :32] = 0
    x[0, 3, 16:32] = -0.0
    c["zero_blocks"] = x
    # 5. all-equal blocks (q4_1/q5_1: d = 0; q4_0: first max decides the sign)
    x = np.empty((1, 6, 64), dtype=np.float32)
    for i, v in enumerate([0.3, -2.7, 1000.0, -0.001, 7.0, 1e-5]):
        x[0, i] = v
    x[0, 5, 32:] = np.array([3.0, -3.0] * 16, dtype=np.float32)  # equal |x|, both signs: first one wins
    c["all_equal"] = x
    # 6. tiny values: fp16-subnormal and fp16-zero block scales (ggml), e4m3-subnormal block scales (nvfp4 'unit')
    x = rng.standard_normal((2, 4, 64)).astype(np.float32)
    x[0, 0] *= 1e-4
    x[0, 1] *= 3e-6
    x[0, 2] *= 1e-8
    x[0, 3] *= 1e-3
    x[1] *= 2e-2
    c["tiny"] = x
    # 7. huge values beyond the fp8 ranges (and one block whose q8_0/q4_0 fp16 scale overflows)
    x = rng.standard_normal((1, 4, 64)).astype(np.float32)
    x[0, 0] *= 1000
    x[0, 1] *= 1e5
    x[0, 2, :32] *= 3e4
    x[0, 3, :32] = np.float32(2e7) * x[0, 3, :32]
    c["huge"] = x
    return c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vllm-nvfp4", required=True, help="copy of vLLM's nvfp4_emulation_utils.py")
    args = ap.parse_args()
    vllm = load_vllm_nvfp4(args.vllm_nvfp4)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator": "scripts/reference/formats_reference.py",
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                     "vllm_nvfp4": "vllm-project/vllm@055e47c nvfp4_emulation_utils.py", "ggml": "llama.cpp@01243c5 ggml-quants.c"},
        "cases": [],
    }
    for name, x in cases().items():
        outs: list[tuple[str, np.ndarray]] = []
        for fmt in FP8:
            for mode in FP8_MODES:
                outs.append((f"{fmt}:{mode}", fp8_ref(x, fmt, mode)))
        for mode in NVFP4_MODES:
            outs.append((f"nvfp4:{mode}", nvfp4_ref(vllm, x, mode)))
        for fmt, qt in GGML.items():
            outs.append((fmt, ggml_ref(x, qt)))
        outs.append(("iq4_nl", iq4_nl_ref(x)))
        blob = np.concatenate([x.reshape(-1)] + [o.reshape(-1).astype(np.float32) for _, o in outs]).astype("<f4")
        (OUT / f"{name}.bin").write_bytes(blob.tobytes())
        manifest["cases"].append({"name": name, "shape": list(x.shape), "outputs": [k for k, _ in outs]})
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(manifest['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main()
