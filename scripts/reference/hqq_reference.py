#!/usr/bin/env python3
"""Writes tests/fixtures/hqq-reference.json: what the real HQQ quantizer of hqq 0.2.8.post1 (mobiusml/hqq e0b1d00)
computes on small KV-like tensors, for tests/unit/lib/quant/hqq-reference.test.ts to compare with src/lib/quant/hqq.ts
and its WASM twin.

HQQ is called exactly as Transformers' `HQQQuantizedLayer._quantize` calls it on CPU:
`Quantizer.quantize(tensor, nbits=, group_size=, axis=, optimize=True, bitpack=False, device="cpu")`
(`hqq/core/quantize.py`; optimize=True runs `hqq/core/optimize.py` `optimize_weights_proximal_legacy` with its
default opt_params), then `Quantizer.dequantize(W_q, meta)` with `meta["compute_dtype"] = torch.float32`, i.e. the
metadata kept exactly in float32 (an fp32 cache). hqq is not pip-installable here: the script imports it from a source
checkout given with --hqq (the folder holding hqq/). The number of optimizer steps is counted by wrapping
`optimize_weights_proximal_legacy_step` (the loop calls it once per step).

Layouts (see src/lib/quant/grouping.ts):
- token    = HQQ axis=1 on the [1, heads, tokens, headDim] tensor.
- strided  = HQQ axis=0 on that tensor.
- flat-channel (quanto axis=-1) and channel (KIVI, tokens % G == 0 only) are not HQQ settings; HQQ's own optimizer is
  run on them by handing `Quantizer.quantize` a [G, groups] matrix whose column c is our group c (members in order)
  with axis=0 (HQQ's `W.reshape([G, -1])` is then the identity). For flat-channel the matrix is optimum-quanto's own
  `group(base, axis=-1, group_size=G)` (optimum-quanto e33f820 `optimum/quanto/tensor/grouped.py`, loaded from the
  file given with --quanto-grouped), whose column order d·(R/G) + a is ours.
The whole-tensor error HQQ's early stop uses is the same for any arrangement of the same groups up to float32
summation order.

Usage: python scripts/reference/hqq_reference.py --hqq /path/to/hqq-checkout --quanto-grouped /path/to/grouped.py
(the committed fixture was made with torch 2.13.0+cpu on x86-64.)
Output JSON: {"source", "torch", "cases": [{name, heads, tokens, headDim, layout, bits, groupSize, input, codes,
scales, zeros, dequantized, steps}]}, element arrays in row-major [heads, tokens, headDim] order, scales/zeros in the
engine's group order; floats are float32 values written as exact decimals.
"""
import argparse
import importlib.util
import json
import sys
from pathlib import Path

import torch


def load(hqq_root: str, grouped_path: str):
    sys.path.insert(0, hqq_root)
    import hqq.core.optimize as optimize  # noqa: E402
    from hqq.core.quantize import Quantizer  # noqa: E402

    spec = importlib.util.spec_from_file_location("quanto_grouped", grouped_path)
    grouped = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grouped)
    return Quantizer, optimize, grouped.group


def grouped_matrix(x: torch.Tensor, layout: str, G: int, group):
    """[G, groups] matrix (column = group, rows = members in order) and the flat element index of each entry."""
    H, T, D = x.shape[1:]
    idx = torch.arange(H * T * D).reshape(1, H, T, D)
    if layout == "flat-channel":
        return group(x, axis=-1, group_size=G), group(idx, axis=-1, group_size=G)
    if layout == "channel":
        f = lambda t: t.reshape(H, T // G, G, D).permute(2, 0, 1, 3).reshape(G, -1)
        return f(x), f(idx)
    raise ValueError(layout)


def run_case(Quantizer, optimize, group, name, x, layout, bits, G):
    steps = [0]
    step = optimize.optimize_weights_proximal_legacy_step

    def counted(*a, **k):
        steps[0] += 1
        return step(*a, **k)

    optimize.optimize_weights_proximal_legacy_step = counted
    try:
        H, T, D = x.shape[1:]
        n = x.numel()
        if layout in ("token", "strided"):
            axis = 1 if layout == "token" else 0
            W_q, meta = Quantizer.quantize(x, nbits=bits, group_size=G, axis=axis, optimize=True, bitpack=False, device="cpu")
            meta["compute_dtype"] = torch.float32
            deq = Quantizer.dequantize(W_q, meta).reshape(-1)
            # both reshapes ([-1, G] and [G, -1]) are views of the flat tensor: row-major order = element order
            codes = W_q.reshape(-1)
            scale, zero = meta["scale"].reshape(-1), meta["zero"].reshape(-1)
        else:
            M, I = grouped_matrix(x, layout, G, group)
            W_q, meta = Quantizer.quantize(M.contiguous(), nbits=bits, group_size=G, axis=0, optimize=True, bitpack=False, device="cpu")
            meta["compute_dtype"] = torch.float32
            deq_m = Quantizer.dequantize(W_q, meta).reshape(G, -1)
            codes = torch.empty(n, dtype=torch.float32)
            deq = torch.empty(n, dtype=torch.float32)
            codes[I.reshape(-1)] = W_q.reshape(-1)
            deq[I.reshape(-1)] = deq_m.reshape(-1)
            scale, zero = meta["scale"].reshape(-1), meta["zero"].reshape(-1)
    finally:
        optimize.optimize_weights_proximal_legacy_step = step
    assert scale.dtype == torch.float32 and zero.dtype == torch.float32 and deq.dtype == torch.float32
    return {
        "name": name, "heads": H, "tokens": T, "headDim": D, "layout": layout, "bits": bits, "groupSize": G,
        "input": x.reshape(-1).tolist(),
        "codes": [int(c) for c in codes.tolist()],
        "scales": scale.tolist(), "zeros": zero.tolist(), "dequantized": deq.tolist(), "steps": steps[0],
    }


def tensors():
    g = torch.Generator().manual_seed(12)
    out = []
    # key-like: unit normals + 0.3, channels 1 and 5 ×10 (outlier channels)
    for H, T, D in [(2, 8, 8), (1, 12, 16), (2, 6, 4)]:
        x = torch.randn(1, H, T, D, generator=g) + 0.3
        x[..., 1] *= 10
        if D > 5:
            x[..., 5] *= 10
        out.append((f"keylike-{H}x{T}x{D}", x))
    # ties and degenerate groups: values on a 0.5 grid (W·s + z lands on .5 ties), constant runs, zeros, ±0,
    # a range below 1e-4 (s = 1) and a tiny range at 8 bits (s capped at 2e4)
    t = torch.tensor([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5] * 4, dtype=torch.float32)
    t[8:16] = 0.25
    t[16:20] = torch.tensor([0.0, -0.0, 0.0, -0.0])
    t[20:24] = torch.tensor([1.0, 1.00001, 1.00002, 1.0])
    t[24:28] = torch.tensor([0.0, 0.001, 0.0005, 0.00025])
    out.append(("ties-degenerate-1x4x8", t.reshape(1, 1, 4, 8)))
    # integers 0..7 repeated: exact grid at 3 bits, ties at 2 and 1 bits
    out.append(("integers-2x4x4", (torch.arange(32, dtype=torch.float32) % 8).reshape(1, 2, 4, 4)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hqq", required=True, help="root of a mobiusml/hqq checkout (the folder holding hqq/)")
    ap.add_argument("--quanto-grouped", required=True, help="optimum-quanto's optimum/quanto/tensor/grouped.py")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "tests/fixtures/hqq-reference.json"))
    args = ap.parse_args()
    Quantizer, optimize, group = load(args.hqq, args.quanto_grouped)
    torch.set_num_threads(1)
    cases = []
    for name, x in tensors():
        H, T, D = x.shape[1:]
        n = x.numel()
        for layout in ("token", "strided", "flat-channel", "channel"):
            for G in (4, 8, 16):
                if layout in ("token", "strided") and n % G:
                    continue
                if layout == "flat-channel" and ((H * T) % G or G > H * T):
                    continue
                if layout == "channel" and T % G:
                    continue
                for bits in (1, 2, 3, 4, 8):
                    cases.append(run_case(Quantizer, optimize, group, name, x.clone(), layout, bits, G))
    doc = {
        "source": "hqq 0.2.8.post1 (mobiusml/hqq e0b1d00) hqq/core/quantize.py Quantizer.quantize(optimize=True) + dequantize, "
        "float32 meta; made by scripts/reference/hqq_reference.py",
        "torch": torch.__version__,
        "cases": cases,
    }
    Path(args.out).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
