#!/usr/bin/python3
"""Independent plain-PyTorch reference for real-checkpoint options of a Llama/Qwen2 model (no transformers).

Reads one JSON request on stdin: {"cases": [{"dir": <HF model dir>, "sequences": [[ids], ...]}, ...]} (or
"sequences": [], "positions": T and optionally "rows": [t, ...] for RoPE tables alone, from config.json only) and writes
{"torch_version", "cases": [{"inv_freq", "attention_factor", "cos", "sin", "logps": [[per-token log-prob], ...]}]}
on stdout. For every case it reads config.json and model.safetensors (its own reader), computes the RoPE inverse
frequencies of `rope_scaling` (default, linear, dynamic, llama3, yarn; formulas written here from the definitions
in transformers' modeling_rope_utils.py, in float32 as transformers computes them), the cos/sin tables (float32,
scaled by the attention factor) and a float64 forward with attention_bias / mlp_bias / head_dim, GQA, tied head.
Token t of a sequence is scored as log_softmax(logits[t-1])[ids[t]] for t >= 1.

Run by test/model/rope.test.ts:  /usr/bin/python3 scripts/golden/rope_reference.py < request.json
(Debian: apt-get install -y python3-torch libopenblas0-pthread)
"""

import json
import math
import os
import struct
import sys

import torch

F32 = torch.float32
F64 = torch.float64


# ---- weights ----

def read_safetensors(path):
    """name -> float64 tensor, from the safetensors layout (u64 header length, JSON header, raw LE data)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    kinds = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "F64": (torch.float64, 8)}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, size = kinds[info["dtype"]]
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).to(F64)
    return out


# ---- RoPE, per rope_scaling type ----

def rope_parameters(cfg, seq_len):
    """(inv_freq float32 [D/2], attention_factor) for a forward of seq_len positions."""
    D = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    rs = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}  # transformers >= 5: rope_parameters
    base = float((cfg.get("rope_parameters") or {}).get("rope_theta", cfg.get("rope_theta", 10000.0)))
    kind = rs.get("rope_type", rs.get("type", "default"))
    exps = torch.arange(0, D, 2, dtype=torch.int64).to(F32) / D  # 2i/D in float32

    def plain(theta):
        return 1.0 / (theta ** exps)

    if kind == "default":
        return plain(base), 1.0
    if kind == "linear":
        return plain(base) / rs["factor"], 1.0
    if kind == "dynamic":
        # NTK-aware: θ grows with the sequence once it is longer than max_position_embeddings.
        max_pos = cfg.get("max_position_embeddings", 2048)
        length = max(seq_len, max_pos)
        theta = base * ((rs["factor"] * length / max_pos) - (rs["factor"] - 1)) ** (D / (D - 2))
        return plain(theta), 1.0
    if kind == "llama3":
        inv = plain(base)
        factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        long_wave = wavelen > old / lo  # low frequencies: fully interpolated
        short_wave = wavelen < old / hi  # high frequencies: untouched
        smooth = (old / wavelen - lo) / (hi - lo)
        mixed = (1 - smooth) * inv / factor + smooth * inv
        out = torch.where(long_wave, inv / factor, torch.where(short_wave, inv, mixed))
        return out, 1.0
    if kind == "yarn":
        max_pos = cfg.get("max_position_embeddings", 2048)
        old = rs.get("original_max_position_embeddings", max_pos)
        factor = rs.get("factor")
        if factor is None:
            factor = max_pos / old

        def m(scale, ms=1.0):
            return 1.0 if scale <= 1 else 0.1 * ms * math.log(scale) + 1.0

        att = rs.get("attention_factor")
        if att is None:
            att = m(factor, rs["mscale"]) / m(factor, rs["mscale_all_dim"]) if rs.get("mscale") and rs.get("mscale_all_dim") else m(factor)
        fast = rs.get("beta_fast") or 32
        slow = rs.get("beta_slow") or 1

        def dim_for(rotations):  # the dimension index that turns `rotations` times over the original context
            return D * math.log(old / (rotations * 2 * math.pi)) / (2 * math.log(base))

        lo, hi = dim_for(fast), dim_for(slow)
        if rs.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, D - 1)
        if lo == hi:
            hi += 0.001
        ramp = torch.clamp((torch.arange(D // 2, dtype=F32) - lo) / (hi - lo), 0, 1)
        keep = 1 - ramp  # weight of the unscaled (extrapolated) frequency
        powers = base ** exps
        out = (1.0 / (factor * powers)) * (1 - keep) + (1.0 / powers) * keep
        return out, float(att)
    raise SystemExit(f"rope_reference.py: rope type {kind!r} not handled")


def rope_tables(inv_freq, att, T):
    """cos, sin float32 [T, D]: angle = inv_freq · t in float32, halves duplicated, × attention factor."""
    t = torch.arange(T, dtype=F32)
    ang = t[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos() * att, emb.sin() * att


# ---- the model, float64 ----

def forward_logps(cfg, w, ids):
    V, C, L = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"]
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads") or H
    D = cfg.get("head_dim") or C // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    qwen2 = cfg["model_type"] == "qwen2"
    qkv_bias = qwen2 or cfg.get("attention_bias", False)
    o_bias = (not qwen2) and cfg.get("attention_bias", False)
    mlp_bias = (not qwen2) and cfg.get("mlp_bias", False)
    T = len(ids)
    inv, att = rope_parameters(cfg, T)
    cos, sin = (x.to(F64) for x in rope_tables(inv, att, T))

    def norm(x, g):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * g

    def dense(x, key, bias):
        y = x @ w[key + ".weight"].T
        return y + w[key + ".bias"] if bias else y

    def rotate(x):  # x [heads, T, D]: x·cos + rotate_half(x)·sin
        half = torch.cat([-x[..., D // 2:], x[..., :D // 2]], dim=-1)
        return x * cos + half * sin

    x = w["model.embed_tokens.weight"][torch.tensor(ids)]  # [T, C]
    causal = torch.triu(torch.full((T, T), float("-inf"), dtype=F64), diagonal=1)
    for i in range(L):
        p = f"model.layers.{i}"
        h = norm(x, w[p + ".input_layernorm.weight"])
        q = dense(h, p + ".self_attn.q_proj", qkv_bias).reshape(T, H, D).transpose(0, 1)
        k = dense(h, p + ".self_attn.k_proj", qkv_bias).reshape(T, Hkv, D).transpose(0, 1)
        v = dense(h, p + ".self_attn.v_proj", qkv_bias).reshape(T, Hkv, D).transpose(0, 1)
        q, k = rotate(q), rotate(k)
        k = k.repeat_interleave(H // Hkv, dim=0)  # query head j uses kv head j // (H / Hkv)
        v = v.repeat_interleave(H // Hkv, dim=0)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D) + causal, dim=-1) @ v  # [H, T, D]
        x = x + dense(a.transpose(0, 1).reshape(T, H * D), p + ".self_attn.o_proj", o_bias)
        h = norm(x, w[p + ".post_attention_layernorm.weight"])
        gate = dense(h, p + ".mlp.gate_proj", mlp_bias)
        up = dense(h, p + ".mlp.up_proj", mlp_bias)
        x = x + dense(gate * torch.sigmoid(gate) * up, p + ".mlp.down_proj", mlp_bias)
    x = norm(x, w["model.norm.weight"])
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    lp = torch.log_softmax(x @ head.T, dim=-1)  # [T, V]
    return [lp[t - 1, ids[t]].item() for t in range(1, T)]


def main():
    torch.set_num_threads(1)
    req = json.load(sys.stdin)
    out = []
    for case in req["cases"]:
        with open(os.path.join(case["dir"], "config.json")) as f:
            cfg = json.load(f)
        # A case without sequences asks for the tables only (of `positions` positions): no weights are read.
        w = read_safetensors(os.path.join(case["dir"], "model.safetensors")) if case["sequences"] else None
        T = max(len(s) for s in case["sequences"]) if case["sequences"] else case["positions"]
        inv, att = rope_parameters(cfg, T)
        cos, sin = rope_tables(inv, att, T)
        if "rows" in case:  # only these positions' rows of the tables
            cos, sin = cos[case["rows"]], sin[case["rows"]]
        out.append({
            "inv_freq": inv.tolist(),
            "attention_factor": att,
            "cos": cos.flatten().tolist(),
            "sin": sin.flatten().tolist(),
            "logps": [forward_logps(cfg, w, s) for s in case["sequences"]],
        })
    json.dump({"torch_version": torch.__version__, "cases": out}, sys.stdout)


if __name__ == "__main__":
    main()
