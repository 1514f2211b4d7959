#!/usr/bin/env python3
"""Export kvlab-16m to ONNX in the layout transformers.js expects, plus post-RoPE queries.

  python3 export.py --model DIR --out DIR/onnx/model.onnx

DIR holds config.json + model.safetensors (fp16) from train.py. The graph is traced from
`KVLabExport`, an explicit re-implementation of the Llama forward (so every input/output name and
shape is chosen here), checked against transformers' LlamaForCausalLM before export. Inputs:
  input_ids [batch_size, sequence_length] int64, attention_mask [batch_size, total_sequence_length] int64,
  position_ids [batch_size, sequence_length] int64,
  past_key_values.{i}.key/.value [batch_size, 2, past_sequence_length, 64] float32
Outputs:
  logits [batch_size, sequence_length, vocab], present.{i}.key/.value [batch_size, 2, total_sequence_length, 64],
  queries.{i} [batch_size, 6, sequence_length, 64]  (post-RoPE, float32)
Weights are then stored as fp16 initializers followed by Cast-to-float32 nodes, so the file is half
size while the graph computes in float32 and the cache reaches JavaScript as float32.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn


def load_hf(model_dir, dtype=torch.float32):
    from safetensors.torch import load_file
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig.from_pretrained(model_dir)
    model = LlamaForCausalLM(cfg)
    sd = load_file(os.path.join(model_dir, "model.safetensors"))
    missing, unexpected = model.load_state_dict({k: v.to(dtype) for k, v in sd.items()}, strict=False)
    assert not unexpected, unexpected
    assert all(k == "lm_head.weight" for k in missing), missing
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        model.lm_head.weight = model.model.embed_tokens.weight
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    try:
        model.config._attn_implementation = "eager"
    except Exception:
        pass
    return model.eval()


class KVLabExport(nn.Module):
    def __init__(self, hf):
        super().__init__()
        c = hf.config
        self.L, self.H, self.KV, self.D = c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.rep = self.H // self.KV
        self.eps = c.rms_norm_eps
        m = hf.model
        self.embed = nn.Parameter(m.embed_tokens.weight.detach().clone())
        self.norm = nn.Parameter(m.norm.weight.detach().clone())
        self.layers = nn.ModuleList()
        for lyr in m.layers:
            d = nn.Module()
            a, f = lyr.self_attn, lyr.mlp
            for name, t in [("ln1", lyr.input_layernorm.weight), ("ln2", lyr.post_attention_layernorm.weight),
                            ("wq", a.q_proj.weight), ("wk", a.k_proj.weight), ("wv", a.v_proj.weight),
                            ("wo", a.o_proj.weight), ("wg", f.gate_proj.weight), ("wu", f.up_proj.weight),
                            ("wd", f.down_proj.weight)]:
                setattr(d, name, nn.Parameter(t.detach().clone()))
            self.layers.append(d)
        theta = getattr(c, "rope_theta", None) or (c.rope_parameters or {}).get("rope_theta", 10000.0)
        inv = 1.0 / (theta ** (torch.arange(0, self.D, 2, dtype=torch.float32) / self.D))
        self.register_buffer("inv_freq", inv, persistent=False)

    def rms(self, x, w):
        v = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(v + self.eps) * w

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        B = input_ids.shape[0]
        x = torch.nn.functional.embedding(input_ids, self.embed)
        # RoPE from position_ids
        fr = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq  # B,S,D/2
        emb = torch.cat((fr, fr), dim=-1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)  # B,1,S,D
        # causal + padding mask over the total sequence (past + new)
        ones_t = torch.ones_like(attention_mask[0])
        ones_s = torch.ones_like(input_ids[0])
        k_pos = ones_t.cumsum(0) - 1  # 0..T-1
        past_len = ones_t.sum() - ones_s.sum()
        q_pos = ones_s.cumsum(0) - 1 + past_len  # P..T-1
        allowed = (k_pos.unsqueeze(0) <= q_pos.unsqueeze(1)).unsqueeze(0).unsqueeze(0)  # 1,1,S,T
        allowed = allowed & (attention_mask > 0).unsqueeze(1).unsqueeze(1)  # B,1,S,T
        neg = torch.tensor(torch.finfo(torch.float32).min, dtype=torch.float32)
        bias = torch.where(allowed, torch.zeros((), dtype=torch.float32), neg).unsqueeze(1)  # B,1,1,S,T
        scale = 1.0 / (self.D ** 0.5)
        presents, queries = [], []
        for i, d in enumerate(self.layers):
            h = self.rms(x, d.ln1)
            q = torch.matmul(h, d.wq.t()).reshape(B, -1, self.H, self.D).transpose(1, 2)  # B,H,S,D
            k = torch.matmul(h, d.wk.t()).reshape(B, -1, self.KV, self.D).transpose(1, 2)  # B,KV,S,D
            v = torch.matmul(h, d.wv.t()).reshape(B, -1, self.KV, self.D).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k, v]
            queries.append(q)
            qg = q.reshape(B, self.KV, self.rep, -1, self.D)  # head h -> kv head h // rep
            att = torch.matmul(qg, k.unsqueeze(2).transpose(-1, -2)) * scale + bias  # B,KV,rep,S,T
            att = torch.softmax(att, dim=-1)
            o = torch.matmul(att, v.unsqueeze(2)).reshape(B, self.H, -1, self.D)  # B,H,S,D
            o = o.transpose(1, 2).reshape(B, -1, self.H * self.D)
            x = x + torch.matmul(o, d.wo.t())
            h = self.rms(x, d.ln2)
            g = torch.matmul(h, d.wg.t())
            u = torch.matmul(h, d.wu.t())
            x = x + torch.matmul(torch.nn.functional.silu(g) * u, d.wd.t())
        x = self.rms(x, self.norm)
        logits = torch.matmul(x, self.embed.t())
        return (logits, *presents, *queries)


def names(L):
    inp = ["input_ids", "attention_mask", "position_ids"]
    pres = []
    for i in range(L):
        inp += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        pres += [f"present.{i}.key", f"present.{i}.value"]
    out = ["logits"] + pres + [f"queries.{i}" for i in range(L)]
    return inp, out


def positions(mask, past_len=0):
    """Position ids as transformers.js computes them: cumsum(mask) - 1, 1 where masked, last S columns."""
    p = mask.long().cumsum(-1) - 1
    p = p.masked_fill(mask == 0, 1)
    return p


@torch.no_grad()
def check_against_hf(hf, ex, vocab):
    torch.manual_seed(0)
    B, S = 2, 9
    ids = torch.randint(0, vocab, (B, S))
    mask = torch.ones(B, S, dtype=torch.long)
    mask[1, :3] = 0  # left padding in row 1
    pos = positions(mask)
    empty = [torch.zeros(B, hf.config.num_key_value_heads, 0, hf.config.head_dim)] * (2 * hf.config.num_hidden_layers)
    out = ex(ids, mask, pos, *empty)
    ref = hf(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
    valid = mask.bool()
    d_logits = (out[0] - ref.logits)[valid].abs().max().item()
    pkv = ref.past_key_values
    L = hf.config.num_hidden_layers

    def layer_kv(c, i):
        if hasattr(c, "layers"):
            return c.layers[i].keys, c.layers[i].values
        return c[i][0], c[i][1]

    d_kv = max((out[1 + 2 * i + j] - layer_kv(pkv, i)[j]).abs().max().item() for i in range(L) for j in range(2))
    # one step with past
    nid = torch.randint(0, vocab, (B, 1))
    mask2 = torch.cat([mask, torch.ones(B, 1, dtype=torch.long)], 1)
    pos2 = positions(mask2)[:, -1:]
    out2 = ex(nid, mask2, pos2, *out[1:1 + 2 * L])
    full = hf(input_ids=torch.cat([ids, nid], 1), attention_mask=mask2, position_ids=positions(mask2))
    d_step = (out2[0][:, -1] - full.logits[:, -1]).abs().max().item()
    print(f"[export] explicit module vs transformers Llama: logits {d_logits:.2e}, kv {d_kv:.2e}, step-with-past {d_step:.2e}")
    assert d_logits < 1e-3 and d_kv < 1e-3 and d_step < 1e-3, "explicit module disagrees with transformers"


def to_fp16_initializers(path_in, path_out, dyn, static, min_elems=1024):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(path_in)
    g = m.graph
    new_inits, casts = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and arr.size >= min_elems:
            h = numpy_helper.from_array(arr.astype(np.float16), name=init.name + "_fp16")
            new_inits.append(h)
            casts.append(helper.make_node("Cast", [h.name], [init.name], to=TensorProto.FLOAT, name=init.name + "_cast"))
        else:
            new_inits.append(init)
    # name the dynamic dims exactly (transformers.js resolves "batch_size" when it builds the empty cache)
    for vi in list(g.input) + list(g.output):
        for ax, nm in dyn.get(vi.name, {}).items():
            dim = vi.type.tensor_type.shape.dim[ax]
            dim.Clear()
            dim.dim_param = nm
        for ax, val in static.get(vi.name, {}).items():
            dim = vi.type.tensor_type.shape.dim[ax]
            dim.Clear()
            dim.dim_value = val
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path_out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    hf = load_hf(args.model)
    cfg = hf.config
    ex = KVLabExport(hf).eval()
    check_against_hf(hf, ex, cfg.vocab_size)

    L, KV, D = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.head_dim
    inp, out = names(L)
    B, S, P = 2, 3, 4  # no dim of size 0/1 in the example (the dynamo exporter would specialise it)
    ids = torch.randint(0, cfg.vocab_size, (B, S))
    mask = torch.ones(B, P + S, dtype=torch.long)
    pos = torch.arange(P, P + S).unsqueeze(0)
    past = [torch.randn(B, KV, P, D) for _ in range(2 * L)]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in inp[3:]:
        dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in out[1:1 + 2 * L]:
        dyn[n] = {0: "batch_size", 2: "total_sequence_length"}
    for n in out[1 + 2 * L:]:
        dyn[n] = {0: "batch_size", 2: "sequence_length"}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".fp32.onnx"
    # no constant folding: folding would store a transposed copy of the tied embedding for lm_head
    try:
        torch.onnx.export(ex, (ids, mask, pos, *past), tmp, input_names=inp, output_names=out, dynamic_axes=dyn,
                          opset_version=args.opset, do_constant_folding=False, dynamo=False)
        print("[export] TorchScript exporter (dynamo=False)")
    except Exception as e:
        print("[export] TorchScript exporter failed, trying dynamo:", repr(e)[:500])
        torch.onnx.export(ex, (ids, mask, pos, *past), tmp, input_names=inp, output_names=out, dynamic_axes=dyn,
                          opset_version=max(args.opset, 18), dynamo=True, optimize=False)
    static = {n: {1: cfg.num_attention_heads, 3: D} for n in out[1 + 2 * L:]}
    static.update({n: {1: KV, 3: D} for n in inp[3:] + out[1:1 + 2 * L]})
    static["logits"] = {2: cfg.vocab_size}
    to_fp16_initializers(tmp, args.out, dyn, static)
    os.remove(tmp)
    import onnx

    m = onnx.load(args.out)
    for vi in list(m.graph.input)[:5] + list(m.graph.output)[:2] + [m.graph.output[-1]]:
        dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        print(f"[export] {vi.name}: {dims} elem_type={vi.type.tensor_type.elem_type}")
    n_init = sum(int(np.prod(i.dims)) for i in m.graph.initializer)
    print(f"[export] wrote {args.out}: {os.path.getsize(args.out) / 1e6:.2f} MB, {len(m.graph.initializer)} initializers, "
          f"{n_init} stored values, {len(m.graph.output)} outputs")


if __name__ == "__main__":
    main()
