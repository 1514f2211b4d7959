#!/usr/bin/env python3
"""Writes tests/fixtures/transformers-cache/cases.json: what the real quantizers do with the shapes Transformers'
quantized cache hands them, for tests/unit/lib/quant/transformers.test.ts to compare with src/lib/quant/transformers.ts.

Each case runs one `generate`-like schedule (prefill of P tokens, then single-token decode steps) through the update
rule of transformers 5.18.0 `src/transformers/cache_utils.py` `QuantizedLayer.update` (transcribed below: quantize the
prompt at the first update; at a decode step, dequantize, then flush when the residual holds >= 1 token and
residual + 1 >= residual_length), calling the backends exactly as `HQQQuantizedLayer` / `QuantoQuantizedLayer` do:

- HQQ: the real `hqq.core.quantize.Quantizer` of hqq 0.2.8.post1 (mobiusml/hqq e0b1d00), imported from a source
  checkout given with --hqq (hqq is not pip-installable here): `quantize(t, axis=, device=, compute_dtype=, nbits=,
  group_size=)`, `cuda(...)`, `dequantize(...)`, as `HQQQuantizedLayer._quantize` / `_dequantize` call them.
- quanto: the real `group()` of optimum-quanto e33f820 `optimum/quanto/tensor/grouped.py`, loaded from the file given
  with --quanto-grouped (the rest of optimum-quanto needs compiled extensions). `MaxOptimizer` and `quantize_weight`
  both start with `group(base, axis, group_size)`, so its exception is the one `QuantoQuantizedLayer._quantize` raises;
  quanto's dequantization cannot fail on shapes.

The first exception stops the run; the case records where (stage, decode step, tokens, keys/values) and its message.

Usage: python scripts/reference/transformers_cache_reference.py --hqq /path/to/hqq-checkout \
           --quanto-grouped /path/to/optimum/quanto/tensor/grouped.py
"""
import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "transformers-cache" / "cases.json"


def load_backends(hqq_root: str, grouped_path: str):
    sys.modules.setdefault("termcolor", types.SimpleNamespace(colored=lambda s, *a, **k: s))  # only used for log colours
    sys.path.insert(0, hqq_root)
    from hqq.core.quantize import Quantizer  # noqa: E402

    spec = importlib.util.spec_from_file_location("quanto_grouped", grouped_path)
    grouped = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grouped)
    return Quantizer, grouped.group


def run_case(case, Quantizer, group):
    B, H, D = case["batch"], case["kvHeads"], case["headDim"]
    G, nbits, R = case["qGroupSize"], case["nbits"], case["residualLength"]
    dtype = torch.float16
    gen = torch.Generator().manual_seed(0)

    def quantize(t, axis):
        if case["backend"] == "hqq":
            q, meta = Quantizer.quantize(t, axis=axis, device="cpu", compute_dtype=dtype, nbits=nbits, group_size=G)
            meta["compute_dtype"] = dtype
            Quantizer.cuda(q, meta=meta, device="cpu")
            return (q, meta)
        grouped = group(t, axis, G)  # raises like MaxOptimizer / quantize_weight would
        return t.clone() if grouped is not None else None

    def dequantize(q):
        if case["backend"] == "hqq":
            return Quantizer.dequantize(q[0], q[1])
        return q

    def states(n):
        return torch.randn((B, H, n, D), generator=gen).to(dtype)

    where = {"stage": "prefill", "step": 0, "tokens": case["promptTokens"], "tensor": "keys"}
    try:
        P = case["promptTokens"]
        k, v = states(P), states(P)
        qk = quantize(k.contiguous(), case["axisKey"])
        where["tensor"] = "values"
        qv = quantize(v.contiguous(), case["axisValue"])
        res_k = torch.tensor([], dtype=dtype)
        res_v = torch.tensor([], dtype=dtype)
        q_tokens = P
        for step in range(1, case["decodeSteps"] + 1):
            k, v = states(1), states(1)
            where = {"stage": "decode", "step": step, "tokens": q_tokens, "tensor": "keys"}
            dk = dequantize(qk)
            where["tensor"] = "values"
            dv = dequantize(qv)
            keys = torch.cat([dk, res_k, k], dim=-2)
            values = torch.cat([dv, res_v, v], dim=-2)
            if res_k.dim() == 4 and res_k.shape[-2] + 1 >= R:
                where = {"stage": "flush", "step": step, "tokens": keys.shape[-2], "tensor": "keys"}
                qk = quantize(keys.contiguous(), case["axisKey"])
                where["tensor"] = "values"
                qv = quantize(values.contiguous(), case["axisValue"])
                q_tokens = keys.shape[-2]
                res_k = torch.tensor([], dtype=dtype)
                res_v = torch.tensor([], dtype=dtype)
            else:
                res_k = torch.cat([res_k, k], dim=-2)
                res_v = torch.cat([res_v, v], dim=-2)
    except Exception as e:  # the run stops here, as generate would
        return {**where, "error": f"{type(e).__name__}: {e}"}
    return None


def cases():
    smol = {"batch": 1, "kvHeads": 3, "headDim": 64}
    out = []
    # Per-token HQQ on SmolLM2-135M shapes, G=64: prefill P, one decode step (quantize, then dequantize).
    for nbits in (1, 2, 3, 4, 8):
        for P in range(1, 25):
            out.append({**smol, "backend": "hqq", "nbits": nbits, "axisKey": 1, "axisValue": 1, "qGroupSize": 64, "residualLength": 128, "promptTokens": P, "decodeSteps": 1})
    # Strided HQQ (axis 0) on the same shapes and a few flushes.
    for nbits in (1, 2, 3, 4, 8):
        for P in (1, 5, 6, 9):
            out.append({**smol, "backend": "hqq", "nbits": nbits, "axisKey": 0, "axisValue": 0, "qGroupSize": 64, "residualLength": 3, "promptTokens": P, "decodeSteps": 7})
    # Failures that appear only at a flush, and keys fine but values not.
    out.append({**smol, "backend": "hqq", "nbits": 4, "axisKey": 1, "axisValue": 1, "qGroupSize": 64, "residualLength": 3, "promptTokens": 4, "decodeSteps": 8})
    out.append({**smol, "backend": "hqq", "nbits": 2, "axisKey": 0, "axisValue": 1, "qGroupSize": 64, "residualLength": 4, "promptTokens": 4, "decodeSteps": 12})
    # HQQ numel assertion: G wider than a token's head vector.
    for P in (3, 4):
        out.append({**smol, "backend": "hqq", "nbits": 4, "axisKey": 1, "axisValue": 1, "qGroupSize": 128, "residualLength": 2, "promptTokens": P, "decodeSteps": 5})
    # 3-bit per-token with batch x heads >= G: the 2-D trim keeps one row, which broadcasts.
    out.append({"batch": 4, "kvHeads": 16, "headDim": 16, "backend": "hqq", "nbits": 3, "axisKey": 1, "axisValue": 1, "qGroupSize": 64, "residualLength": 2, "promptTokens": 3, "decodeSteps": 4})
    out.append({"batch": 2, "kvHeads": 8, "headDim": 32, "backend": "hqq", "nbits": 3, "axisKey": 1, "axisValue": 1, "qGroupSize": 16, "residualLength": 2, "promptTokens": 3, "decodeSteps": 4})
    # quanto: axis -1 needs B*H*T % G == 0, axis 0 needs H*T*D % G == 0.
    for P in (16, 17, 32):
        out.append({**smol, "backend": "quanto", "nbits": 4, "axisKey": -1, "axisValue": 0, "qGroupSize": 16, "residualLength": 4, "promptTokens": P, "decodeSteps": 9})
    for P in (5, 6):
        out.append({**smol, "backend": "quanto", "nbits": 2, "axisKey": 0, "axisValue": 0, "qGroupSize": 128, "residualLength": 3, "promptTokens": P, "decodeSteps": 7})
    out.append({"batch": 2, "kvHeads": 8, "headDim": 128, "backend": "quanto", "nbits": 4, "axisKey": 0, "axisValue": -1, "qGroupSize": 64, "residualLength": 8, "promptTokens": 12, "decodeSteps": 20})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hqq", required=True, help="root of a mobiusml/hqq checkout (the folder holding hqq/)")
    ap.add_argument("--quanto-grouped", required=True, help="optimum-quanto optimum/quanto/tensor/grouped.py")
    args = ap.parse_args()
    Quantizer, group = load_backends(args.hqq, args.quanto_grouped)
    results = []
    for case in cases():
        results.append({"input": case, "failure": run_case(case, Quantizer, group)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "generator": "scripts/reference/transformers_cache_reference.py",
        "hqq": "0.2.8.post1 (mobiusml/hqq e0b1d00)",
        "optimum-quanto": "e33f820 optimum/quanto/tensor/grouped.py",
        "transformers": "5.18.0 QuantizedLayer.update (transcribed)",
        "torch": torch.__version__,
    }
    OUT.write_text(json.dumps({"meta": meta, "cases": results}, indent=1) + "\n")
    print(f"wrote {len(results)} cases to {OUT}")


if __name__ == "__main__":
    main()
