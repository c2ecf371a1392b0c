#!/usr/bin/python3
"""Golden fixtures for the iopo engine, from an independent plain-PyTorch Llama/Qwen2 (no transformers).

Writes test/fixtures/golden/<name>/{reference,policy}/ (HF dirs: config.json + model.safetensors, F32),
tokens.jsonl (IOPO groups of token ids) and expected.json (logits, log-probs, IOPO/DPO losses, gradients,
10-step AdamW trajectories). All maths runs in float64 on the float32 weights, so the values are the exact
answer for the stored weights; the TypeScript engine (float32) is compared to them within tolerances.

Run:  /usr/bin/python3 scripts/golden/gen_golden.py   (Debian: apt-get install -y python3-torch)
"""

import hashlib
import json
import math
import os
import struct
import subprocess
import sys

import torch

torch.set_default_dtype(torch.float64)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "golden")
BETA = 0.1
ADAMW = {"lr": 5e-4, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1}
STEPS = 10

# ---- the two tiny models ----

MODELS = {
    "qwen2-tiny": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 64, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_scaling": None,
        "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": None, "attention_dropout": 0.0,
        "hidden_act": "silu", "initializer_range": 0.02, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": None,
        "torch_dtype": "float32",
    },
    "llama-tiny": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 80, "hidden_size": 48,
        "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "rope_scaling": None,
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "attention_dropout": 0.0,
        "hidden_act": "silu", "initializer_range": 0.02, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": None,
        "torch_dtype": "float32",
    },
}
# Tensors whose full gradient is stored (small ones).
FULL_GRADS = {
    "qwen2-tiny": ["model.norm.weight", "model.layers.1.self_attn.k_proj.bias"],
    "llama-tiny": ["model.norm.weight", "model.layers.0.input_layernorm.weight"],
}
# Lengths (x1, y1, x2, y2) of the groups: varied, so padding matters in a batch.
GROUP_LENGTHS = [(5, 4, 7, 3), (9, 6, 8, 5), (3, 2, 4, 7)]


def param_table(cfg):
    """(key, shape, kind) in the project's table order; kind: normal | ones | bias."""
    V, C, L, I = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = C // H
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    rows = [("model.embed_tokens.weight", (V, C), "normal")]
    for i in range(L):
        p = f"model.layers.{i}"
        rows.append((f"{p}.input_layernorm.weight", (C,), "ones"))
        for name, out in (("q", H * D), ("k", Hkv * D), ("v", Hkv * D)):
            rows.append((f"{p}.self_attn.{name}_proj.weight", (out, C), "normal"))
            if qkv_bias:
                rows.append((f"{p}.self_attn.{name}_proj.bias", (out,), "bias"))
        rows.append((f"{p}.self_attn.o_proj.weight", (C, H * D), "normal"))
        rows.append((f"{p}.post_attention_layernorm.weight", (C,), "ones"))
        rows.append((f"{p}.mlp.gate_proj.weight", (I, C), "normal"))
        rows.append((f"{p}.mlp.up_proj.weight", (I, C), "normal"))
        rows.append((f"{p}.mlp.down_proj.weight", (C, I), "normal"))
    rows.append(("model.norm.weight", (C,), "ones"))
    if not cfg["tie_word_embeddings"]:
        rows.append(("lm_head.weight", (V, C), "normal"))
    return rows


def make_weights(cfg, gen):
    """Random weights, larger than HF's init so logits and attention are far from uniform; rounded to float32."""
    w = {}
    for key, shape, kind in param_table(cfg):
        r = torch.randn(shape, generator=gen)
        t = {"normal": 0.1 * r, "ones": 1.0 + 0.1 * r, "bias": 0.1 * r}[kind]
        w[key] = t.float().double()
    return w


# ---- the forward pass (plain torch, float64) ----

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w  # [.., C]


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, cfg, ids, mask):
    """ids, mask: [B, T] (mask 1 = real token, right padding). Returns logits [B, T, V]."""
    B, T = ids.shape
    C, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D, eps = C // H, cfg["rms_norm_eps"]
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    pos = torch.arange(T, dtype=torch.float64)  # positions 0..T-1 (right padding: real tokens start at 0)
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))  # [D/2]
    freqs = pos[:, None] * inv_freq[None, :]  # [T, D/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, D]
    cos, sin = emb.cos(), emb.sin()
    allowed = torch.tril(torch.ones(T, T, dtype=torch.bool))[None] & mask.bool()[:, None, :]  # [B, T, T]
    x = w["model.embed_tokens.weight"][ids]  # [B, T, C]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"

        def proj(h, name, heads):
            y = h @ w[f"{p}.self_attn.{name}_proj.weight"].T  # [B, T, heads*D]
            if bias:
                y = y + w[f"{p}.self_attn.{name}_proj.bias"]
            return y.view(B, T, heads, D).transpose(1, 2)  # [B, heads, T, D]

        h = rms_norm(x, w[f"{p}.input_layernorm.weight"], eps)
        q, k, v = proj(h, "q", H), proj(h, "k", Hkv), proj(h, "v", Hkv)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=1)  # [B, H, T, D]: head h reads kv head h // (H/Hkv)
        v = v.repeat_interleave(H // Hkv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)  # [B, H, T, T]
        att = att.masked_fill(~allowed[:, None], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * D)  # [B, T, H*D]
        x = x + y @ w[f"{p}.self_attn.o_proj.weight"].T
        h = rms_norm(x, w[f"{p}.post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(h @ w[f"{p}.mlp.gate_proj.weight"].T)  # [B, T, I]
        x = x + (gate * (h @ w[f"{p}.mlp.up_proj.weight"].T)) @ w[f"{p}.mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T  # [B, T, V]


# ---- log-probs and losses ----

ORDER = ["y1|x1", "y2|x1", "y2|x2", "y1|x2"]  # a, b, c, d


def sequences(group):
    return [(group["x1"], group["y1"]), (group["x1"], group["y2"]), (group["x2"], group["y2"]), (group["x2"], group["y1"])]


def batch_logps(w, cfg, groups):
    """Summed response log-probs for every (group, sequence) in one right-padded batch: [G, 4]."""
    seqs = [s for g in groups for s in sequences(g)]
    T = max(len(x) + len(y) for x, y in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    labels = torch.zeros(len(seqs), T, dtype=torch.bool)  # position t is a response token
    for b, (x, y) in enumerate(seqs):
        ids[b, : len(x) + len(y)] = torch.tensor(x + y)
        mask[b, : len(x) + len(y)] = 1
        labels[b, len(x): len(x) + len(y)] = True
    logp = forward(w, cfg, ids, mask).log_softmax(-1)  # [B, T, V]
    tok = logp[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]  # [B, T-1]: log p(token t | < t)
    lp = (tok * labels[:, 1:]).sum(-1)  # [B]
    return lp.view(len(groups), 4)


def single_logp(w, cfg, x, y):
    ids = torch.tensor([x + y])
    logp = forward(w, cfg, ids, torch.ones_like(ids)).log_softmax(-1)[0]  # [T, V]
    return sum(logp[t - 1, ids[0, t]] for t in range(len(x), len(x) + len(y)))


def iopo_loss(lp, ref):
    rho = lp - ref  # [G, 4] in ORDER
    a, b, c, d = rho.unbind(-1)
    pi1 = 2 * a - b - d  # output preference for x1 + input preference for y1
    pi2 = 2 * c - d - b  # output preference for x2 + input preference for y2
    z = 0.5 * (pi1 + pi2)
    return -torch.nn.functional.logsigmoid(BETA * z)  # [G]


def dpo_loss(lp, ref):
    rho = lp - ref
    return -torch.nn.functional.logsigmoid(BETA * (rho[:, 0] - rho[:, 1]))  # [G]: x1, y1 preferred over y2


def adamw_step(w, grads, state, step, decay):
    """Decoupled AdamW (torch.optim.AdamW): p ← p(1 − lr·wd) − lr·m̂/(√v̂ + eps), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)."""
    lr, (b1, b2), eps, wd = ADAMW["lr"], ADAMW["betas"], ADAMW["eps"], ADAMW["weight_decay"]
    for key, g in grads.items():
        m, v = state.setdefault(key, (torch.zeros_like(g), torch.zeros_like(g)))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        state[key] = (m, v)
        p = w[key] * (1 - lr * wd) if decay[key] else w[key]
        denom = (v / (1 - b2 ** step)).sqrt() + eps
        w[key] = p - lr * (m / (1 - b1 ** step)) / denom


def with_grad(w):
    return {k: v.clone().requires_grad_(True) for k, v in w.items()}


def loss_and_grads(w, cfg, groups, ref_lp, loss_fn):
    wg = with_grad(w)
    loss = loss_fn(batch_logps(wg, cfg, groups), ref_lp).mean()
    loss.backward()
    return loss.item(), {k: t.grad.detach() for k, t in wg.items()}


def trajectory(w0, cfg, groups, ref_lp, loss_fn):
    w = {k: v.clone() for k, v in w0.items()}
    decay = {key: len(shape) >= 2 for key, shape, _ in param_table(cfg)}
    state, losses, norms = {}, [], []
    for step in range(1, STEPS + 1):
        loss, grads = loss_and_grads(w, cfg, groups, ref_lp, loss_fn)
        losses.append(loss)
        norms.append(math.sqrt(sum(float((g * g).sum()) for g in grads.values())))
        adamw_step(w, grads, state, step, decay)
    final = loss_fn(batch_logps(w, cfg, groups), ref_lp).mean().item()
    check_against_torch_adamw(w0, w, cfg, groups, ref_lp, loss_fn, decay)
    return {"losses": losses, "grad_norms": norms, "loss_after": final}


def check_against_torch_adamw(w0, w_ours, cfg, groups, ref_lp, loss_fn, decay):
    """The hand-written update must equal torch.optim.AdamW with the same two parameter groups."""
    wt = with_grad(w0)
    opt = torch.optim.AdamW(
        [{"params": [t for k, t in wt.items() if decay[k]], "weight_decay": ADAMW["weight_decay"]},
         {"params": [t for k, t in wt.items() if not decay[k]], "weight_decay": 0.0}],
        lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"])
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(batch_logps(wt, cfg, groups), ref_lp).mean().backward()
        opt.step()
    for k in w_ours:
        assert torch.allclose(wt[k].detach(), w_ours[k], rtol=1e-10, atol=1e-12), k


# ---- output ----

def write_safetensors(path, w, cfg):
    header, blobs, at = {"__metadata__": {"format": "pt"}}, [], 0
    for key, shape, _ in param_table(cfg):
        flat = w[key].float().flatten().tolist()
        blob = struct.pack(f"<{len(flat)}f", *flat)
        header[key] = {"dtype": "F32", "shape": list(shape), "data_offsets": [at, at + len(blob)]}
        at += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # HF pads the header with spaces to 8-byte alignment
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_model(dirname, w, cfg):
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(dirname, "model.safetensors"), w, cfg)


def lp_records(lp):
    return [{k: lp[g, j].item() for j, k in enumerate(ORDER)} for g in range(lp.shape[0])]


def report(w, cfg, groups, ref_lp, name):
    lp = batch_logps(w, cfg, groups)
    iopo, dpo = iopo_loss(lp, ref_lp), dpo_loss(lp, ref_lp)
    loss, grads = loss_and_grads(w, cfg, groups, ref_lp, iopo_loss)
    return {
        "groups": [{"lp": a, "ref_lp": b, "iopo_loss": il, "dpo_loss": dl}
                   for a, b, il, dl in zip(lp_records(lp), lp_records(ref_lp), iopo.tolist(), dpo.tolist())],
        "mean_iopo_loss": loss, "mean_dpo_loss": dpo.mean().item(),
        "grad_norm": math.sqrt(sum(float((g * g).sum()) for g in grads.values())),
        "grad_norms": {k: float(g.norm()) for k, g in grads.items()},
        "grad_values": {k: grads[k].flatten().tolist() for k in FULL_GRADS[name]},
    }


def generate(name, cfg, seed):
    gen = torch.Generator().manual_seed(seed)
    ref_w = make_weights(cfg, gen)
    pol_w = {k: (v + 0.02 * torch.randn(v.shape, generator=gen)).float().double() for k, v in ref_w.items()}
    V = cfg["vocab_size"]
    groups = []
    for lens in GROUP_LENGTHS:
        ids = [torch.randint(2, V, (n,), generator=gen).tolist() for n in lens]
        groups.append(dict(zip(["x1", "y1", "x2", "y2"], ids)))
    ref_lp = batch_logps(ref_w, cfg, groups).detach()
    # The padded batch must give the same log-probs as each sequence alone (checks the padding mask).
    for g, group in enumerate(groups):
        for j, (x, y) in enumerate(sequences(group)):
            assert abs(single_logp(ref_w, cfg, x, y).item() - ref_lp[g, j].item()) < 1e-10
    x, y = groups[0]["x1"], groups[0]["y1"]
    ids = torch.tensor([x + y])
    logits = {k: forward(w, cfg, ids, torch.ones_like(ids))[0].detach() for k, w in (("policy", pol_w), ("reference", ref_w))}
    script = open(__file__, "rb").read()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    expected = {
        "format": "iopo-golden",
        "version": 1,
        "generator": "scripts/golden/gen_golden.py (plain PyTorch, float64 maths on float32 weights; no transformers)",
        "generator_commit": commit,
        "generator_sha256": hashlib.sha256(script).hexdigest(),
        "torch_version": torch.__version__,
        "model": name,
        "seed": seed,
        "conventions": {
            "sequence": "ids = x ++ y (token ids as given; no chat template, no BOS/EOS added)",
            "labels": "the y tokens only; token t is scored by log_softmax(logits[t-1])[ids[t]]",
            "lp": "log-prob of a response summed over its tokens; keys 'y1|x1','y2|x1','y2|x2','y1|x2' = a, b, c, d",
            "batch": "all 4·G sequences of tokens.jsonl, in the order (x1,y1),(x1,y2),(x2,y2),(x2,y1) per group, "
                     "right-padded with id 0 and an attention mask (padded keys masked, padded labels dropped); "
                     "positions 0..len-1; results equal each sequence run alone (asserted to 1e-10)",
            "rope": "Hugging Face rotate-half: q·cos + rotate_half(q)·sin, inv_freq = theta^(-2i/D), D = hidden/heads",
            "gqa": "query head h uses kv head floor(h / (heads / kv_heads)) (HF repeat_kv)",
            "iopo_loss": "rho = lp_policy - lp_reference; Pi1 = 2rho(a)-rho(b)-rho(d); Pi2 = 2rho(c)-rho(d)-rho(b); "
                         "z = (Pi1+Pi2)/2; loss = -logsigmoid(beta z); beta = 0.1, no label smoothing",
            "dpo_loss": "on x1 with y1 preferred: z = rho(a) - rho(b); loss = -logsigmoid(beta z)",
            "mean": "mean_*_loss = mean over groups; gradients are of mean_iopo_loss w.r.t. the policy, keyed by HF "
                    "name; with tied embeddings the head's share is in model.embed_tokens.weight",
            "logits": "logits of group 0's (x1, y1) sequence alone, [T, V] row-major",
        },
        "beta": BETA,
        "tolerances": {"lp_rel": 1e-4, "loss_abs": 1e-5, "grad_norm_rel": 2e-3, "logits_abs": 1e-4},
        "logits": {
            "tokens": x + y,
            "shape": list(logits["policy"].shape),
            "policy": logits["policy"].flatten().tolist(),
            "reference": logits["reference"].flatten().tolist(),
        },
        # Policy = reference: rho = 0, every loss is ln 2 (gradients are still non-zero).
        "reference_vs_reference": report(ref_w, cfg, groups, ref_lp, name),
        # Policy = reference + 0.02·N(0,1) on every tensor: losses differ from ln 2.
        "policy_vs_reference": report(pol_w, cfg, groups, ref_lp, name),
        "trajectory": {
            "start": "policy weights; reference = reference weights (fixed); batch = all groups every step",
            "optimizer": {"name": "AdamW (decoupled, torch.optim.AdamW semantics)", **ADAMW,
                          "decay": "tensors with 2 or more dimensions (embedding, linear weights, lm_head)",
                          "no_decay": "RMSNorm weights and biases (1-D)",
                          "update": "p <- p(1 - lr wd) - lr (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)"},
            "steps": STEPS,
            "losses_meaning": "losses[k] = mean loss before update k+1 (k = 0..9); loss_after = after update 10",
            "iopo": trajectory(pol_w, cfg, groups, ref_lp, iopo_loss),
            "dpo": trajectory(pol_w, cfg, groups, ref_lp, dpo_loss),
        },
    }
    d = os.path.join(OUT, name)
    write_model(os.path.join(d, "reference"), ref_w, cfg)
    write_model(os.path.join(d, "policy"), pol_w, cfg)
    with open(os.path.join(d, "tokens.jsonl"), "w") as f:
        for g in groups:
            f.write(json.dumps(g) + "\n")
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    t = expected["trajectory"]
    print(f"{name}: mean IOPO {expected['policy_vs_reference']['mean_iopo_loss']:.6f} "
          f"(ref {expected['reference_vs_reference']['mean_iopo_loss']:.6f}); "
          f"IOPO traj {t['iopo']['losses'][0]:.5f} -> {t['iopo']['loss_after']:.5f}; "
          f"DPO traj {t['dpo']['losses'][0]:.5f} -> {t['dpo']['loss_after']:.5f}")


def read_safetensors(path):
    """Independent reader (u64 LE header length, JSON header, F32 data) for checking directories iopo writes."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8: 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for key, h in header.items():
        assert h["dtype"] == "F32", (key, h["dtype"])
        a, b = h["data_offsets"]
        vals = struct.unpack(f"<{(b - a) // 4}f", raw[8 + n + a: 8 + n + b])
        out[key] = torch.tensor(vals, dtype=torch.float64).view(h["shape"])
    return out


def check_dir(dirname):
    """--check <dir>: load a model directory written by iopo (e.g. init-model) and run this forward on it."""
    cfg = json.load(open(os.path.join(dirname, "config.json")))
    w = read_safetensors(os.path.join(dirname, "model.safetensors"))
    table = param_table(cfg)
    assert [k for k, _, _ in table] == list(w.keys()), "tensor names/order differ from the parameter table"
    for key, shape, _ in table:
        assert tuple(w[key].shape) == tuple(shape), (key, w[key].shape, shape)
    ids = torch.arange(min(8, cfg["vocab_size"]))[None]
    logits = forward(w, cfg, ids, torch.ones_like(ids))
    assert torch.isfinite(logits).all()
    print(f"{dirname}: {len(table)} tensors match the table; logits {list(logits.shape)} finite, "
          f"std {logits.std().item():.4f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check_dir(sys.argv[2])
        sys.exit(0)
    torch.manual_seed(0)
    for i, (name, cfg) in enumerate(MODELS.items()):
        generate(name, cfg, 1234 + i)
    sys.exit(0)
