#!/usr/bin/env python3
"""Dump a model's KV cache (and pre-RoPE keys, post-RoPE queries) for KV Cache Lab.

  python scripts/kv-dump/dump_kv.py --model <hub id or local dir> --text file.txt --out dump.kvlab.safetensors
      [--max-tokens N] [--dtype auto|float32|float16|bfloat16] [--layers 0,4-7] [--queries 8] [--device cpu]

Runs the model once (prefill, batch 1) with Transformers and writes a safetensors file; the tensor names
and the `__metadata__["kvlab"]` JSON are described in scripts/kv-dump/README.md and read by
src/lib/model/safetensors.ts (`readKvDump`).

Where each tensor comes from (Transformers 5.x, e.g. 5.18.0 `models/llama/modeling_llama.py`,
`LlamaAttention.forward`: q/k/v projections -> optional q_norm/k_norm (Qwen3, OLMo2, Gemma3) ->
`apply_rotary_pos_emb` -> `past_key_values.update` -> attention function):
  keys, values    the cache itself: `outputs.past_key_values.layers[i].keys/.values` of a plain
                  `DynamicCache()` (no config, so sliding-window layers keep every token instead of the
                  last `sliding_window - 1`; `cache_utils.py` `DynamicSlidingWindowLayer.update`).
  keys_pre_rope   forward hook on `self_attn.k_norm` when the layer has one (the norm is applied
                  before RoPE), else on `self_attn.k_proj`; reshaped to heads.
  queries         the query the attention function receives (post-RoPE, after any q_norm), captured by
                  an attention function registered with `AttentionInterface` that then runs Transformers'
                  own SDPA attention (or the model's eager attention where SDPA would drop soft-capping or
                  sinks); the last N positions are kept.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from typing import Any

SCHEMA = "kvlab-kv-dump"
VERSION = 1
CAPTURE_IMPL = "kvlab_capture"
CAPTURE_EAGER_IMPL = "kvlab_capture_eager"
SUPPORTED_LAYER_TYPES = {"full_attention": "full", "sliding_attention": "sliding"}
DTYPES = {"auto": None, "float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}


class DumpRefused(Exception):
    """The model or the input cannot be dumped as per-head K/V; the message says why."""


def parse_layers(spec: str | None, n: int) -> list[int]:
    if spec is None or spec.strip() in ("", "all"):
        return list(range(n))
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            lo, hi = int(a), int(b)
            if hi < lo:
                raise DumpRefused(f"--layers: range {part} ends before it starts")
            out.update(range(lo, hi + 1))
        else:
            out.add(int(part))
    bad = sorted(i for i in out if i < 0 or i >= n)
    if bad:
        raise DumpRefused(f"--layers: layer(s) {bad} do not exist; the model has layers 0-{n - 1}")
    return sorted(out)


def text_config(config):
    return config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config


def check_architecture(cfg, layers: list[int] | None = None) -> tuple[list[str], dict]:
    """Refuse models whose cache is not per-head K/V; return Transformers' layer types and kwargs."""
    from transformers.cache_utils import get_layer_types_and_kwargs

    mt = getattr(cfg, "model_type", "?")
    if getattr(cfg, "kv_lora_rank", None) is not None:
        raise DumpRefused(
            f"{mt} uses Multi-head Latent Attention (kv_lora_rank={cfg.kv_lora_rank}). An MLA runtime caches one "
            f"compressed latent of {cfg.kv_lora_rank} numbers per token plus a shared RoPE key of "
            f"{getattr(cfg, 'qk_rope_head_dim', '?')}, not per-head keys and values; Transformers' cache instead holds "
            f"keys up-projected per head ({getattr(cfg, 'qk_nope_head_dim', '?')}+{getattr(cfg, 'qk_rope_head_dim', '?')} "
            f"dims) and values of {getattr(cfg, 'v_head_dim', '?')} dims, which is neither what MLA stores nor a "
            "standard K/V cache. Quantizing either would not mean what the lab's per-head K/V schemes mean, so this "
            "tool refuses MLA models.")
    if getattr(cfg, "num_attention_heads", None) is None or getattr(cfg, "num_hidden_layers", None) is None:
        raise DumpRefused(f"{mt} has no num_attention_heads/num_hidden_layers: not a decoder with attention layers "
                          "(state-space and recurrent models keep no K/V cache).")
    layer_types, kwargs = get_layer_types_and_kwargs(cfg)
    if len(layer_types) != cfg.num_hidden_layers:
        raise DumpRefused(f"{mt}: {cfg.num_hidden_layers} layers but only {len(layer_types)} keep their own cache "
                          "(shared-KV layers are not supported)")
    chosen = range(len(layer_types)) if layers is None else layers
    bad = {i: layer_types[i] for i in chosen if layer_types[i] not in SUPPORTED_LAYER_TYPES}
    if bad:
        ok = [i for i, t in enumerate(layer_types) if t in SUPPORTED_LAYER_TYPES]
        kinds = sorted(set(bad.values()))
        why = ("linear-attention / recurrent layers keep a fixed-size state, not one key and value per token"
               if any(k in ("linear_attention", "conv", "mamba", "hybrid", "hybrid_sliding") for k in kinds)
               else "only full and sliding-window attention layers are supported")
        hint = f"; pick attention layers with --layers (these are: {ok})" if ok else ""
        raise DumpRefused(f"{mt}: layer(s) {sorted(bad)} are {kinds}: {why}{hint}")
    return layer_types, kwargs


def context_length(cfg) -> int | None:
    return getattr(cfg, "max_position_embeddings", None)


def rope_settings(cfg) -> dict[str, Any]:
    rp = getattr(cfg, "rope_parameters", None)
    out: dict[str, Any] = {}
    if isinstance(rp, dict):
        out = {k: v for k, v in rp.items()}
    theta = getattr(cfg, "rope_theta", None)
    if theta is not None and "rope_theta" not in out:
        out["rope_theta"] = theta
    prf = getattr(cfg, "partial_rotary_factor", None)
    if prf is not None and "partial_rotary_factor" not in out:
        out["partial_rotary_factor"] = prf
    return json.loads(json.dumps(out, default=str))


# During a dump: {"n": queries to keep, "layers": {layer_idx: (last n queries, keys)}}; None otherwise.
_captured: dict[str, Any] | None = None


def _record(module, query, key):
    if _captured is not None:
        n = _captured["n"]
        # Keep only the last n query positions (a copy, so the full [B, H, T, D] query can be freed).
        q = query[:, :, query.shape[2] - n:, :].detach().clone()
        _captured["layers"][module.layer_idx] = (q, key.detach())


def _capture_sdpa(module, query, key, value, attention_mask, **kwargs):
    """Record the post-RoPE query (and key) the layer attends with, then run Transformers' SDPA attention."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    _record(module, query, key)
    return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)


def _capture_eager(module, query, key, value, attention_mask, **kwargs):
    """Same, then the model's own `eager_attention_forward` (for what SDPA cannot do: logit soft-capping, sinks)."""
    _record(module, query, key)
    eager = sys.modules[type(module).__module__].eager_attention_forward
    return eager(module, query, key, value, attention_mask, **kwargs)


def register_capture():
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask, sdpa_mask

    AttentionInterface.register(CAPTURE_IMPL, _capture_sdpa)
    AttentionMaskInterface.register(CAPTURE_IMPL, sdpa_mask)
    AttentionInterface.register(CAPTURE_EAGER_IMPL, _capture_eager)
    AttentionMaskInterface.register(CAPTURE_EAGER_IMPL, eager_mask)


def needs_eager(model) -> bool:
    """Attention features that Transformers' sdpa_attention_forward silently ignores (5.18.0
    integrations/sdpa_attention.py): tanh soft-capping of the logits (Gemma 2's
    attn_logit_softcapping) and attention sinks (gpt-oss `sinks`). Those models run their own eager code."""
    for layer in model.get_decoder().layers:
        a = layer.self_attn
        if getattr(a, "attn_logit_softcapping", None) is not None or getattr(a, "sinks", None) is not None:
            return sys.modules[type(a).__module__].__dict__.get("eager_attention_forward") is not None
    return False


def tokenize(tok, text: str, add_special_tokens: bool) -> list[int]:
    return list(tok(text, add_special_tokens=add_special_tokens)["input_ids"])


def run_dump(model, ids: list[int], layers: list[int], n_queries: int, device: str = "cpu"):
    """One prefill; returns {layer: {keys, keys_pre_rope, values, queries}} as [heads, T, D] tensors (model dtype)."""
    import torch
    from transformers import DynamicCache

    global _captured
    cfg = text_config(model.config)
    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads or cfg.num_attention_heads
    D = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    T = len(ids)
    decoder_layers = model.get_decoder().layers
    pre: dict[int, Any] = {}
    hooks = []
    for i in layers:
        attn = decoder_layers[i].self_attn
        src = getattr(attn, "k_norm", None)
        if src is None:
            src = getattr(attn, "k_proj", None)
        if src is None:
            raise DumpRefused(f"layer {i} ({type(attn).__name__}) has no k_proj (fused QKV projection?): "
                              "pre-RoPE keys cannot be hooked")
        hooks.append(src.register_forward_hook(lambda _m, _i, out, i=i: pre.__setitem__(i, out.detach())))
    _captured = {"n": n_queries, "layers": {}}
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids], device=device), past_key_values=DynamicCache(), use_cache=True)
        captured = _captured["layers"]
    finally:
        _captured = None
        for h in hooks:
            h.remove()
    cache = out.past_key_values
    result = {}
    for i in layers:
        layer = cache.layers[i]
        k, v = getattr(layer, "keys", None), getattr(layer, "values", None)
        if k is None or v is None or k.dim() != 4 or k.shape != v.shape:
            raise DumpRefused(f"layer {i}: the cache ({type(layer).__name__}) does not hold per-head K/V of equal shape "
                              f"(keys {None if k is None else tuple(k.shape)}, values {None if v is None else tuple(v.shape)})")
        if tuple(k.shape) != (1, KV, T, D):
            raise DumpRefused(f"layer {i}: cached keys have shape {tuple(k.shape)}, expected {(1, KV, T, D)}")
        if i not in captured:
            raise DumpRefused(f"layer {i}: the attention function was not called through Transformers' "
                              "AttentionInterface, so post-RoPE queries cannot be captured")
        q, k_att = captured[i]
        # The attention saw exactly the cached keys (a plain DynamicCache returns what it stores).
        assert torch.equal(k_att, k), f"layer {i}: attention keys differ from the cache"
        kp = pre[i].reshape(1, T, KV, D).transpose(1, 2)
        result[i] = {
            "keys": k[0],
            "keys_pre_rope": kp[0],
            "values": v[0],
            "queries": q[0] if n_queries else None,
        }
    return result


def build_metadata(model, tok, ids, layers, layer_types, layer_kwargs, n_queries, out_dtype, source_dtype,
                   model_id, revision, text_sha256, attention="sdpa") -> dict[str, Any]:
    import torch
    import transformers

    cfg = text_config(model.config)
    H = cfg.num_attention_heads
    D = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    window = layer_kwargs.get("sliding_window")
    T = len(ids)
    attn0 = model.get_decoder().layers[layers[0]].self_attn
    lay = []
    for i in layers:
        kind = SUPPORTED_LAYER_TYPES[layer_types[i]]
        lay.append({
            "index": i,
            "attention": kind,
            "window": window if kind == "sliding" else None,
            # What Transformers' DynamicCache(config=...) keeps after this prefill (cache_utils.py
            # DynamicSlidingWindowLayer.update: the last sliding_window - 1 tokens); the dump keeps all T.
            "transformers_cached_tokens": min(T, window - 1) if kind == "sliding" else T,
        })
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "model": {
            "id": model_id,
            "revision": revision,
            "model_type": cfg.model_type,
            "architectures": list(getattr(model.config, "architectures", None) or [type(model).__name__]),
        },
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": H,
        "num_key_value_heads": cfg.num_key_value_heads or H,
        "head_dim": D,
        "hidden_size": cfg.hidden_size,
        "max_position_embeddings": context_length(cfg),
        "rope": rope_settings(cfg),
        "k_norm": getattr(attn0, "k_norm", None) is not None,
        "layer_types": [SUPPORTED_LAYER_TYPES.get(t, t) for t in layer_types],
        "layers": lay,
        "tokens": {
            "count": T,
            "ids": ids,
            "strings": [tok.decode([t]) for t in ids],
        },
        "queries": {"count": n_queries, "first_position": T - n_queries},
        "dtype": out_dtype,
        "source_dtype": source_dtype,
        "text_sha256": text_sha256,
        "generator": {
            "script": "scripts/kv-dump/dump_kv.py",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            # Transformers' sdpa_attention_forward, or the model's own eager_attention_forward (see needs_eager).
            "attention": attention,
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="Hugging Face Hub id or local directory")
    ap.add_argument("--revision", default=None, help="Hub branch, tag or commit")
    ap.add_argument("--model-id", default=None, help="name stored in the metadata (default: --model, or a local dir's name)")
    ap.add_argument("--text", required=True, help="UTF-8 text file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-tokens", type=int, default=None, help="keep only the first N tokens of the text")
    ap.add_argument("--dtype", default="auto", choices=sorted(DTYPES), help="stored dtype (auto: as the model produces it)")
    ap.add_argument("--layers", default=None, help="subset like 0,4-7 (default: all)")
    ap.add_argument("--queries", type=int, default=8, help="post-RoPE queries of the last N positions (default 8)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-special-tokens", action="store_true", help="do not let the tokenizer add BOS etc.")
    args = ap.parse_args(argv)
    try:
        write_dump(args)
    except DumpRefused as e:
        print(f"dump_kv: refused: {e}", file=sys.stderr)
        return 2
    return 0


def write_dump(args) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(args.model, revision=args.revision)
    cfg = text_config(config)
    check_architecture(cfg)  # before downloading or loading any weights
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    tok = AutoTokenizer.from_pretrained(args.model, revision=args.revision)
    ids = tokenize(tok, text, not args.no_special_tokens)
    ctx = context_length(cfg)
    if args.max_tokens is not None:
        if args.max_tokens < 1:
            raise DumpRefused("--max-tokens must be at least 1")
        ids = ids[: args.max_tokens]
    if not ids:
        raise DumpRefused("the text gives no tokens")
    if ctx is not None and len(ids) > ctx:
        raise DumpRefused(f"the text is {len(ids)} tokens but {cfg.model_type}'s context is {ctx} "
                          f"(max_position_embeddings); shorten it or pass --max-tokens {ctx} or less")
    layers = parse_layers(args.layers, cfg.num_hidden_layers)
    layer_types, layer_kwargs = check_architecture(cfg, layers)
    if not 0 <= args.queries <= len(ids):
        raise DumpRefused(f"--queries {args.queries}: must be between 0 and the {len(ids)} tokens")

    register_capture()
    model = AutoModelForCausalLM.from_pretrained(args.model, revision=args.revision, dtype="auto",
                                                 attn_implementation=CAPTURE_IMPL).to(args.device).eval()
    attention = "sdpa"
    if needs_eager(model):
        model.set_attn_implementation(CAPTURE_EAGER_IMPL)
        attention = "eager"
    source_dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    tensors_by_layer = run_dump(model, ids, layers, args.queries, args.device)
    out_dtype = DTYPES[args.dtype] or source_dtype
    tdt = getattr(torch, out_dtype)
    tensors = {}
    for i, d in tensors_by_layer.items():
        for name, t in d.items():
            if t is not None:
                tensors[f"layers.{i}.{name}"] = t.to("cpu", tdt).contiguous()
    revision = getattr(config, "_commit_hash", None) or args.revision
    model_id = args.model_id or (os.path.basename(os.path.normpath(args.model)) if os.path.isdir(args.model) else args.model)
    meta = build_metadata(model, tok, ids, layers, layer_types, layer_kwargs, args.queries, out_dtype, source_dtype,
                          model_id, revision, hashlib.sha256(text.encode("utf-8")).hexdigest(), attention)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_file(tensors, args.out, metadata={"kvlab": json.dumps(meta, ensure_ascii=False)})
    size = os.path.getsize(args.out)
    print(f"dump_kv: {len(ids)} tokens, layers {layers}, {args.queries} queries, {out_dtype} -> {args.out} ({size:,} bytes)")


if __name__ == "__main__":
    sys.exit(main())
