"""dump_kv.py against Transformers itself, on tiny randomly initialised models.

Each model is built from its config class, saved with save_pretrained, dumped through the CLI entry
point, then reloaded independently (default attention implementation, default cache) to check:
  - keys/values equal `past_key_values` of a plain `model(...)` call (for sliding-window layers, the
    tail the sliding cache keeps);
  - the pre-RoPE keys, rotated with the model's own `rotary_emb` and its module's `apply_rotary_pos_emb`,
    equal the post-RoPE keys; queries from an independent q_proj (+ q_norm) hook rotated the same way
    equal the dumped queries;
  - the metadata (heads, layer types, sliding window, tokens) and the refusals.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
KVDUMP = os.path.dirname(HERE)
ROOT = os.path.abspath(os.path.join(KVDUMP, "..", ".."))
MODEL_DIR = os.path.join(ROOT, "public", "models", "kvlab-16m")
sys.path.insert(0, KVDUMP)

import dump_kv  # noqa: E402

TEXT = ("The lighthouse keeper wrote every evening in a small notebook: the wind, the colour of the sea, "
        "the ships that passed and the ones that did not. Years later his granddaughter read it aloud.")
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
TINY = dict(vocab_size=8192, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, max_position_embeddings=128, bos_token_id=0, eos_token_id=0,
            pad_token_id=0, tie_word_embeddings=False)


def tiny_config(kind: str):
    import transformers as tf

    if kind == "llama":
        return tf.LlamaConfig(**TINY)
    if kind == "mistral":
        return tf.MistralConfig(**TINY, sliding_window=8)
    if kind == "qwen2":
        # Layer 0 full, layer 1 sliding (Qwen2Config: sliding from max_window_layers on).
        return tf.Qwen2Config(**TINY, use_sliding_window=True, sliding_window=8, max_window_layers=1)
    if kind == "qwen3":
        return tf.Qwen3Config(**TINY)  # q_norm/k_norm before RoPE
    if kind == "gemma2":
        # Layer 0 sliding, layer 1 full; a small logit soft-cap so that ignoring it (as SDPA does) shows.
        return tf.Gemma2Config(**TINY, sliding_window=8, attn_logit_softcapping=2.0, final_logit_softcapping=None,
                               query_pre_attn_scalar=16)
    raise ValueError(kind)


def save_tiny(kind: str, path: str, **over) -> str:
    import transformers as tf

    cfg = tiny_config(kind)
    for k, v in over.items():
        setattr(cfg, k, v)
    torch.manual_seed(1234)
    model = tf.AutoModelForCausalLM.from_config(cfg)
    # Random init at std 0.02 gives near-zero keys; scale up so RoPE and the comparisons see real values.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("proj.weight"):
                p.mul_(10)
    model.save_pretrained(path)
    for f in TOKENIZER_FILES:
        shutil.copy(os.path.join(MODEL_DIR, f), os.path.join(path, f))
    return path


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("text") / "text.txt"
    p.write_text(TEXT, encoding="utf-8")
    return str(p)


def dump(model_dir, text, out, *extra) -> int:
    return dump_kv.main(["--model", model_dir, "--text", text, "--out", out, *extra])


def read(out):
    with safe_open(out, "pt") as f:
        meta = json.loads(f.metadata()["kvlab"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return meta, tensors


def rope_of(model, x_heads: torch.Tensor) -> torch.Tensor:
    """Rotate [1, heads, T, D] with the model's own rotary embedding and apply_rotary_pos_emb."""
    attn = model.model.layers[0].self_attn
    apply = sys.modules[type(attn).__module__].apply_rotary_pos_emb
    T = x_heads.shape[2]
    pos = torch.arange(T)[None]
    cos, sin = model.model.rotary_emb(x_heads, pos)
    rotated, _ = apply(x_heads, x_heads, cos, sin)
    return rotated


@pytest.mark.parametrize("kind", ["llama", "mistral", "qwen2", "qwen3", "gemma2"])
def test_dump_matches_transformers(kind, tmp_path, text_file):
    import transformers as tf

    mdir = save_tiny(kind, str(tmp_path / kind))
    out = str(tmp_path / "d.kvlab.safetensors")
    assert dump(mdir, text_file, out, "--queries", "5") == 0
    meta, t = read(out)

    tok = tf.AutoTokenizer.from_pretrained(mdir)
    ids = tok(TEXT)["input_ids"]
    T = len(ids)
    assert T > 8  # longer than the sliding window, so the sliding cache really drops tokens
    # Default cache; default attention, except Gemma 2 whose soft-capping only its eager code applies.
    impl = "eager" if kind == "gemma2" else None
    model = tf.AutoModelForCausalLM.from_pretrained(mdir, attn_implementation=impl).eval()
    qin: dict[int, torch.Tensor] = {}
    hooks = []
    for i, layer in enumerate(model.model.layers):
        a = layer.self_attn
        src = getattr(a, "q_norm", None) or a.q_proj
        hooks.append(src.register_forward_hook(lambda _m, _i, o, i=i: qin.__setitem__(i, o.detach())))
    with torch.no_grad():
        ref = model(input_ids=torch.tensor([ids]), use_cache=True)
    for h in hooks:
        h.remove()
    cache = ref.past_key_values

    cfg = model.config
    assert meta["schema"] == "kvlab-kv-dump" and meta["version"] == 1
    assert meta["model"]["model_type"] == kind
    assert (meta["num_hidden_layers"], meta["num_attention_heads"], meta["num_key_value_heads"], meta["head_dim"]) == (2, 4, 2, 16)
    assert meta["tokens"]["ids"] == ids and meta["tokens"]["count"] == T
    assert meta["tokens"]["strings"] == [tok.decode([i]) for i in ids]
    assert meta["queries"] == {"count": 5, "first_position": T - 5}
    assert meta["dtype"] == "float32" and meta["source_dtype"] == "float32"
    assert meta["k_norm"] == (kind == "qwen3")
    expected_types = {"llama": ["full", "full"], "mistral": ["sliding", "sliding"], "qwen2": ["full", "sliding"],
                      "qwen3": ["full", "full"], "gemma2": ["sliding", "full"]}[kind]
    assert meta["generator"]["attention"] == ("eager" if kind == "gemma2" else "sdpa")
    assert [l["attention"] for l in meta["layers"]] == expected_types
    assert [l["window"] for l in meta["layers"]] == [8 if a == "sliding" else None for a in expected_types]

    for i in range(2):
        k, kp, v, q = (t[f"layers.{i}.{n}"] for n in ("keys", "keys_pre_rope", "values", "queries"))
        assert k.shape == kp.shape == v.shape == (2, T, 16) and q.shape == (4, 5, 16)
        ck, cv = cache.layers[i].keys[0], cache.layers[i].values[0]
        n = ck.shape[1]
        # Full layers keep every token; Transformers' sliding layers keep the last sliding_window - 1.
        assert n == (7 if expected_types[i] == "sliding" else T) == meta["layers"][i]["transformers_cached_tokens"]
        torch.testing.assert_close(k[:, -n:], ck, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(v[:, -n:], cv, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(rope_of(model, kp[None])[0], k, rtol=1e-5, atol=1e-5)
        q_heads = qin[i].reshape(1, T, 4, 16).transpose(1, 2)
        torch.testing.assert_close(rope_of(model, q_heads)[0, :, -5:], q, rtol=1e-5, atol=1e-5)
        # RoPE leaves position 0 alone and changes later ones: the two key tensors must differ.
        torch.testing.assert_close(kp[:, 0], k[:, 0], rtol=1e-6, atol=1e-6)
        assert (kp[:, 1:] - k[:, 1:]).abs().max() > 1e-2
    if kind == "gemma2":
        # The soft-cap changes layer 0's output, so with SDPA (no soft-cap) layer 1's keys would differ.
        sdpa = tf.AutoModelForCausalLM.from_pretrained(mdir, attn_implementation="sdpa").eval()
        with torch.no_grad():
            other = sdpa(input_ids=torch.tensor([ids]), use_cache=True).past_key_values.layers[1].keys[0]
        assert (other - t["layers.1.keys"]).abs().max() > 1e-3


def test_layers_subset_and_dtype(tmp_path, text_file):
    mdir = save_tiny("llama", str(tmp_path / "m"))
    full = str(tmp_path / "full.safetensors")
    part = str(tmp_path / "part.safetensors")
    assert dump(mdir, text_file, full) == 0
    assert dump(mdir, text_file, part, "--layers", "1", "--dtype", "bf16", "--max-tokens", "10", "--queries", "0") == 0
    mf, tf_ = read(full)
    mp, tp = read(part)
    assert sorted(tp) == ["layers.1.keys", "layers.1.keys_pre_rope", "layers.1.values"]
    assert [l["index"] for l in mp["layers"]] == [1] and mp["dtype"] == "bfloat16" and mp["source_dtype"] == "float32"
    assert mp["tokens"]["ids"] == mf["tokens"]["ids"][:10] and mp["queries"]["count"] == 0
    for n in ("keys", "values", "keys_pre_rope"):
        assert tp[f"layers.1.{n}"].dtype == torch.bfloat16
        # Causal: the first 10 tokens' K/V do not depend on what follows.
        torch.testing.assert_close(tp[f"layers.1.{n}"], tf_[f"layers.1.{n}"][:, :10].to(torch.bfloat16), rtol=0, atol=0)


def test_parse_layers():
    assert dump_kv.parse_layers("0,4-7", 8) == [0, 4, 5, 6, 7]
    assert dump_kv.parse_layers(None, 3) == [0, 1, 2]
    with pytest.raises(dump_kv.DumpRefused, match="do not exist"):
        dump_kv.parse_layers("2-9", 8)


def test_refuses_text_longer_than_context(tmp_path, text_file, capsys):
    mdir = save_tiny("llama", str(tmp_path / "m"), max_position_embeddings=16)
    out = str(tmp_path / "d.safetensors")
    assert dump(mdir, text_file, out) == 2
    err = capsys.readouterr().err
    assert "context is 16" in err and "--max-tokens" in err
    assert not os.path.exists(out)
    assert dump(mdir, text_file, out, "--max-tokens", "16", "--queries", "4") == 0
    assert read(out)[0]["tokens"]["count"] == 16


def test_refuses_mla(tmp_path, text_file, capsys):
    import transformers as tf

    cfg = tf.DeepseekV3Config(vocab_size=8192, hidden_size=64, intermediate_size=128, moe_intermediate_size=32,
                              num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4, kv_lora_rank=32,
                              q_lora_rank=48, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16,
                              n_routed_experts=4, num_experts_per_tok=2, first_k_dense_replace=1)
    d = tmp_path / "mla"
    cfg.save_pretrained(d)  # the refusal comes from the config alone, before any weights are loaded
    assert dump(str(d), text_file, str(tmp_path / "x")) == 2
    err = capsys.readouterr().err
    assert "Multi-head Latent Attention" in err and "kv_lora_rank=32" in err


def test_refuses_linear_attention(tmp_path, text_file, capsys):
    import transformers as tf

    cfg = tf.Qwen3NextConfig(vocab_size=8192, hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
                             num_key_value_heads=2, head_dim=16)
    d = tmp_path / "lin"
    cfg.save_pretrained(d)
    assert "linear_attention" in cfg.layer_types
    assert dump(str(d), text_file, str(tmp_path / "x")) == 2
    err = capsys.readouterr().err
    full = [i for i, t in enumerate(cfg.layer_types) if t == "full_attention"]
    assert "linear-attention" in err and f"these are: {full}" in err


def test_cli_subprocess(tmp_path, text_file):
    """The script runs as a command (exit codes, stderr), not only as an imported function."""
    mdir = save_tiny("llama", str(tmp_path / "m"), max_position_embeddings=16)
    script = os.path.join(KVDUMP, "dump_kv.py")
    out = str(tmp_path / "d.safetensors")
    r = subprocess.run([sys.executable, script, "--model", mdir, "--text", text_file, "--out", out],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "refused" in r.stderr and "context" in r.stderr
    r = subprocess.run([sys.executable, script, "--model", mdir, "--text", text_file, "--out", out,
                        "--max-tokens", "12", "--layers", "0"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert read(out)[0]["tokens"]["count"] == 12


def test_dtype_auto_keeps_what_the_model_produces(tmp_path, text_file):
    """A bfloat16 checkpoint loads as bfloat16 (dtype="auto"); --dtype auto stores its cache unconverted."""
    import transformers as tf

    mdir = save_tiny("llama", str(tmp_path / "m"))
    tf.AutoModelForCausalLM.from_pretrained(mdir, dtype=torch.bfloat16).save_pretrained(mdir)
    out = str(tmp_path / "d.safetensors")
    assert dump(mdir, text_file, out, "--max-tokens", "12") == 0
    meta, t = read(out)
    assert meta["dtype"] == meta["source_dtype"] == "bfloat16"
    # SDPA, as the dump runs it, so bfloat16 results can be compared bit for bit.
    model = tf.AutoModelForCausalLM.from_pretrained(mdir, dtype=torch.bfloat16, attn_implementation="sdpa").eval()
    with torch.no_grad():
        ref = model(input_ids=torch.tensor([meta["tokens"]["ids"]]), use_cache=True).past_key_values
    for i in range(2):
        assert t[f"layers.{i}.keys"].dtype == torch.bfloat16
        torch.testing.assert_close(t[f"layers.{i}.keys"], ref.layers[i].keys[0], rtol=0, atol=0)
        torch.testing.assert_close(t[f"layers.{i}.values"], ref.layers[i].values[0], rtol=0, atol=0)
