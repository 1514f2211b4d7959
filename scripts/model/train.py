#!/usr/bin/env python3
"""Train the KV Cache Lab model (kvlab-16m): byte-level BPE tokenizer + a 15.7M-parameter Llama.

Runs on the GPU machine (torch, transformers, tokenizers; no network). Reads the corpus made by
corpus.sh (xz-compressed, documents separated by a line "<|endoftext|>"), writes to --out:
  tokenizer.json, tokenizer_config.json, config.json, generation_config.json,
  model.safetensors (fp16 weights), train_stats.json
Training stops by wall-clock time (--train-seconds) or after --max-passes over the training tokens,
whichever comes first; the learning-rate schedule (linear warm-up, cosine decay to 10 %) follows the
fraction of that budget used, so it ends at its floor either way.
"""
import argparse
import json
import lzma
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

SEP = "\n<|endoftext|>\n"
EOT = "<|endoftext|>"


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def read_docs(path, max_docs=None):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    docs = [d.strip() for d in text.split(SEP) if d.strip()]
    if max_docs:
        docs = docs[:max_docs]
    return docs


def train_tokenizer(docs, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(docs, trainer=trainer, length=len(docs))
    return tok


def encode_docs(tok, docs, eot_id):
    out = []
    for i in range(0, len(docs), 2000):
        for e in tok.encode_batch(docs[i:i + 2000], add_special_tokens=False):
            out.extend(e.ids)
            out.append(eot_id)
    return np.asarray(out, dtype=np.int32)


def write_hf_files(out, tok, cfg):
    tok.save(os.path.join(out, "tokenizer.json"))
    eot_id = tok.token_to_id(EOT)
    tcfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": EOT, "eos_token": EOT, "pad_token": EOT, "unk_token": None,
        "add_bos_token": False, "add_eos_token": False, "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 1024,
        "padding_side": "left",
    }
    json.dump(tcfg, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    json.dump({"bos_token": EOT, "eos_token": EOT, "pad_token": EOT},
              open(os.path.join(out, "special_tokens_map.json"), "w"), indent=2)
    gen = {"bos_token_id": eot_id, "eos_token_id": eot_id, "pad_token_id": eot_id}
    json.dump(gen, open(os.path.join(out, "generation_config.json"), "w"), indent=2)
    c = cfg.to_dict()
    for k in ("transformers_version", "_name_or_path", "dtype", "torch_dtype", "use_cache", "output_attentions",
              "output_hidden_states", "return_dict", "_attn_implementation_autoset", "id2label", "label2id"):
        c.pop(k, None)
    c["use_cache"] = True
    rp = c.get("rope_parameters") or {}
    c.setdefault("rope_theta", rp.get("rope_theta", 10000.0))
    c["rope_theta"] = c["rope_theta"] or 10000.0
    c["torch_dtype"] = "float32"
    c["transformers.js_config"] = {"dtype": "fp32"}
    json.dump(c, open(os.path.join(out, "config.json"), "w"), indent=2, sort_keys=True)


def make_config(vocab_size, eot_id):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=384,
        intermediate_size=1024,
        num_hidden_layers=8,
        num_attention_heads=6,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=1024,
        rope_theta=10000.0,
        rms_norm_eps=1e-5,
        hidden_act="silu",
        tie_word_embeddings=True,
        attention_bias=False,
        mlp_bias=False,
        bos_token_id=eot_id,
        eos_token_id=eot_id,
        pad_token_id=eot_id,
        initializer_range=0.02,
        architectures=["LlamaForCausalLM"],
    )


@torch.no_grad()
def evaluate(model, data, seq, batch=32, max_windows=256):
    model.eval()
    n = min(max_windows, (len(data) - 1) // seq)
    tot, cnt = 0.0, 0
    for i in range(0, n, batch):
        idx = torch.arange(i, min(i + batch, n), device=data.device) * seq
        x = torch.stack([data[j:j + seq + 1] for j in idx.tolist()]).long()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=x[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1), reduction="sum")
        tot += loss.item()
        cnt += x[:, 1:].numel()
    model.train()
    return tot / max(cnt, 1), cnt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup-frac", type=float, default=0.08)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--train-seconds", type=float, default=330)
    ap.add_argument("--max-passes", type=float, default=9.0)
    ap.add_argument("--max-docs", type=int, default=0)
    ap.add_argument("--eval-every", type=float, default=45.0, help="seconds")
    ap.add_argument("--compile", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = "cuda"

    t0 = time.time()
    docs = read_docs(args.corpus, args.max_docs or None)
    held_docs = read_docs(args.heldout, (args.max_docs // 50 + 5) if args.max_docs else None)
    log(f"read {len(docs)} train docs ({sum(map(len, docs)) / 1e6:.1f} M chars), {len(held_docs)} held-out docs")
    tok = train_tokenizer(docs, args.vocab)
    eot_id = tok.token_to_id(EOT)
    vocab = tok.get_vocab_size()
    log(f"tokenizer: vocab {vocab}, eot id {eot_id}, {time.time() - t0:.1f}s")
    train_ids = encode_docs(tok, docs, eot_id)
    held_ids = encode_docs(tok, held_docs, eot_id)
    log(f"tokens: train {len(train_ids) / 1e6:.2f} M ({sum(map(len, docs)) / len(train_ids):.2f} chars/token), "
        f"held-out {len(held_ids) / 1e6:.3f} M, {time.time() - t0:.1f}s")
    del docs

    from transformers import LlamaForCausalLM

    cfg = make_config(args.vocab, eot_id)
    model = LlamaForCausalLM(cfg)
    try:
        model.config._attn_implementation = "sdpa"
    except Exception:
        pass
    model.to(dev)
    nparams = sum(p.numel() for p in model.parameters())
    log(f"parameters: {nparams} ({nparams / 1e6:.2f} M, tied embeddings)")
    write_hf_files(args.out, tok, cfg)

    data = torch.from_numpy(train_ids.astype(np.int32)).to(dev)
    hdata = torch.from_numpy(held_ids.astype(np.int32)).to(dev)
    ntok = len(train_ids)
    seq, bs = args.seq, args.batch
    token_budget = args.max_passes * ntok
    step_tokens = bs * seq

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)

    def loss_fn(m, x):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = m(input_ids=x[:, :-1]).logits
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1))

    fwd = loss_fn
    if args.compile:
        try:
            fwd = torch.compile(loss_fn)
        except Exception as e:  # pragma: no cover
            log("torch.compile unavailable:", e)
    offs = torch.arange(seq + 1, device=dev)

    def batch():
        st = torch.randint(0, ntok - seq - 1, (bs,), device=dev)
        return data[st[:, None] + offs].long()

    def lr_at(frac):
        if frac < args.warmup_frac:
            return args.lr * frac / args.warmup_frac
        p = (frac - args.warmup_frac) / max(1e-9, 1 - args.warmup_frac)
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    history = []
    model.train()
    step, seen = 0, 0
    # first step (compilation) is not counted in the training clock
    x = batch()
    tc = time.time()
    try:
        loss = fwd(model, x)
        loss.backward()
    except Exception as e:
        log("compiled step failed, falling back to eager:", repr(e)[:300])
        fwd = loss_fn
        opt.zero_grad(set_to_none=True)
        loss = fwd(model, x)
        loss.backward()
    opt.zero_grad(set_to_none=True)  # discard the warm-up gradient
    torch.cuda.synchronize()
    compile_s = time.time() - tc
    log(f"first step (compile) {compile_s:.1f}s, loss {loss.item():.3f}")

    ts = time.time()
    last_eval = ts
    frac = 0.0
    while True:
        el = time.time() - ts
        frac = max(el / args.train_seconds, seen / token_budget)
        if frac >= 1.0:
            break
        lr = lr_at(frac)
        for g in opt.param_groups:
            g["lr"] = lr
        x = batch()
        loss = fwd(model, x)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        seen += step_tokens
        if step % 50 == 0 or time.time() - last_eval > args.eval_every:
            lv = loss.item()
            el = time.time() - ts
            rec = {"step": step, "seconds": round(el, 1), "tokens": seen, "passes": round(seen / ntok, 2),
                   "lr": lr, "train_loss": round(lv, 4), "tok_per_s": round(seen / el)}
            if time.time() - last_eval > args.eval_every:
                hl, _ = evaluate(model, hdata, seq, max_windows=64)
                rec["heldout_loss"] = round(hl, 4)
                rec["heldout_ppl"] = round(math.exp(hl), 2)
                last_eval = time.time()
            if "heldout_loss" in rec or step % 500 == 0:
                log(json.dumps(rec))
            history.append(rec)
    torch.cuda.synchronize()
    train_s = time.time() - ts
    hl, hn = evaluate(model, hdata, seq, max_windows=100000)
    log(f"done: {step} steps, {train_s:.1f}s, {seen / 1e6:.1f} M tokens ({seen / ntok:.2f} passes), "
        f"{seen / train_s / 1e6:.3f} M tok/s; held-out loss {hl:.4f} ppl {math.exp(hl):.2f} over {hn} tokens (bf16)")

    # ship fp16 weights (the ONNX file stores the same fp16 values)
    from safetensors.torch import save_file

    sd = {k: v.detach().to(torch.float16).cpu().contiguous() for k, v in model.state_dict().items()
          if k != "lm_head.weight"}
    save_file(sd, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
    stats = {
        "parameters": nparams, "vocab": vocab, "train_tokens_unique": int(ntok), "heldout_tokens": int(len(held_ids)),
        "steps": step, "batch": bs, "seq": seq, "tokens_seen": seen, "passes": seen / ntok,
        "train_seconds": train_s, "compile_seconds": compile_s, "tokens_per_second": seen / train_s,
        "heldout_loss_bf16": hl, "heldout_ppl_bf16": math.exp(hl), "heldout_tokens_scored": hn,
        "lr": args.lr, "warmup_frac": args.warmup_frac, "min_lr_frac": args.min_lr_frac, "weight_decay": args.wd,
        "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "history": history,
    }
    json.dump(stats, open(os.path.join(args.out, "train_stats.json"), "w"), indent=1)
    log("saved", args.out)


if __name__ == "__main__":
    main()
