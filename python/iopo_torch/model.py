"""The policy and reference models: transformers' AutoModelForCausalLM when importable, else a small Llama/Qwen2
module with Hugging Face parameter names (so the tests run on Debian's torch alone). Weights are checked against
the parameter table TypeScript sends (src/model/params.ts); RoPE frequencies come resolved from TypeScript too
(src/model/rope.ts), so rope_scaling is computed in one place. Does not know the loss or the optimizer."""

import math
import os

import torch
import torch.nn.functional as F
import torch.utils.checkpoint

from .errors import JobError
from .safetensors_io import read_dir, read_headers


def dims(cfg):
    H = cfg["num_attention_heads"]
    qwen2 = cfg["model_type"] == "qwen2"
    return {
        "V": cfg["vocab_size"], "C": cfg["hidden_size"], "L": cfg["num_hidden_layers"], "H": H,
        "Hkv": cfg.get("num_key_value_heads") or H, "D": cfg.get("head_dim") or cfg["hidden_size"] // H,
        "I": cfg["intermediate_size"], "qkv_bias": qwen2 or cfg.get("attention_bias") is True,
        "o_bias": (not qwen2) and cfg.get("attention_bias") is True,
        "mlp_bias": (not qwen2) and cfg.get("mlp_bias") is True,
        "tied": bool(cfg.get("tie_word_embeddings", False)), "eps": cfg.get("rms_norm_eps", 1e-6),
    }


class RMSNorm(torch.nn.Module):
    def __init__(self, C, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(C))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight  # [B, T, C]


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(torch.nn.Module):
    def __init__(self, d, window):
        super().__init__()
        self.H, self.Hkv, self.D, self.window = d["H"], d["Hkv"], d["D"], window
        self.q_proj = torch.nn.Linear(d["C"], d["H"] * d["D"], bias=d["qkv_bias"])
        self.k_proj = torch.nn.Linear(d["C"], d["Hkv"] * d["D"], bias=d["qkv_bias"])
        self.v_proj = torch.nn.Linear(d["C"], d["Hkv"] * d["D"], bias=d["qkv_bias"])
        self.o_proj = torch.nn.Linear(d["H"] * d["D"], d["C"], bias=d["o_bias"])

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.D).transpose(1, 2)  # [B, H, T, D]
        k = self.k_proj(x).view(B, T, self.Hkv, self.D).transpose(1, 2)  # [B, Hkv, T, D]
        v = self.v_proj(x).view(B, T, self.Hkv, self.D).transpose(1, 2)  # [B, Hkv, T, D]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(self.H // self.Hkv, dim=1)  # [B, H, T, D]: head h reads kv head h // (H/Hkv)
        v = v.repeat_interleave(self.H // self.Hkv, dim=1)
        # Right padding: real tokens sit at 0..len-1, so the causal mask alone keeps padding out of real queries.
        if hasattr(F, "scaled_dot_product_attention") and self.window is None and x.is_cuda:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # [B, H, T, D]
        else:
            i = torch.arange(T, device=x.device)
            allowed = i[None, :] <= i[:, None]  # [T, T] key j ≤ query i
            if self.window is not None:
                allowed = allowed & (i[:, None] - i[None, :] < self.window)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(self.D)  # [B, H, T, T]
            att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
            y = att @ v  # [B, H, T, D]
        return self.o_proj(y.transpose(1, 2).reshape(B, T, self.H * self.D))  # [B, T, C]


class MLP(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.gate_proj = torch.nn.Linear(d["C"], d["I"], bias=d["mlp_bias"])
        self.up_proj = torch.nn.Linear(d["C"], d["I"], bias=d["mlp_bias"])
        self.down_proj = torch.nn.Linear(d["I"], d["C"], bias=d["mlp_bias"])

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # [B, T, C]


class Block(torch.nn.Module):
    def __init__(self, d, window):
        super().__init__()
        self.input_layernorm = RMSNorm(d["C"], d["eps"])
        self.self_attn = Attention(d, window)
        self.post_attention_layernorm = RMSNorm(d["C"], d["eps"])
        self.mlp = MLP(d)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(torch.nn.Module):
    def __init__(self, d, window):
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(d["V"], d["C"])
        self.layers = torch.nn.ModuleList(Block(d, window) for _ in range(d["L"]))
        self.norm = RMSNorm(d["C"], d["eps"])


class CausalLM(torch.nn.Module):
    """Llama/Qwen2 with HF names: model.embed_tokens, model.layers.N.{self_attn,mlp,…}, model.norm, lm_head."""

    def __init__(self, cfg, rope):
        super().__init__()
        d = dims(cfg)
        self.tied = d["tied"]
        self.model = Decoder(d, rope.get("window"))
        if not self.tied:
            self.lm_head = torch.nn.Linear(d["C"], d["V"], bias=False)
        self.register_buffer("inv_freq", torch.tensor(rope["inv_freq"], dtype=torch.float32), persistent=False)
        self.attention_factor = rope.get("attention_factor", 1.0)
        self.grad_checkpointing = False

    def forward(self, ids):
        """ids [B, T] → logits [B, T, V]."""
        T = ids.shape[1]
        pos = torch.arange(T, device=ids.device, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]  # [T, D/2]
        emb = torch.cat((freqs, freqs), dim=-1)  # [T, D]
        cos, sin = emb.cos() * self.attention_factor, emb.sin() * self.attention_factor
        x = self.model.embed_tokens(ids)  # [B, T, C]
        for layer in self.model.layers:
            if self.grad_checkpointing and self.training:
                x = torch.utils.checkpoint.checkpoint(layer, x, cos, sin, use_reentrant=False)
            else:
                x = layer(x, cos, sin)
        x = self.model.norm(x)
        head = self.model.embed_tokens.weight if self.tied else self.lm_head.weight
        return x @ head.t()  # [B, T, V]


def _use_transformers():
    if os.environ.get("IOPO_TORCH_OWN_MODEL") == "1":
        return None
    try:
        import transformers  # noqa: F401
        return transformers
    except Exception:
        return None


def load_weights(model_dir, table):
    """Weights of a model directory checked against the table: {key: float32 tensor}; a clear JobError if not."""
    tensors, path = read_dir(model_dir)
    out = {}
    for row in table:
        t = tensors.get(row["key"])
        if t is None:
            raise JobError("model weights lack a tensor", path=path, field=row["key"],
                           expected=f"a tensor of shape {row['shape']}", got="nothing",
                           hint="the directory does not match its config.json; re-export the model with its config")
        if list(t.shape) != list(row["shape"]):
            raise JobError("tensor has the wrong shape", path=path, field=row["key"],
                           expected=str(list(row["shape"])), got=str(list(t.shape)),
                           hint="the weights do not match config.json (hidden_size, heads, vocab_size …)")
        out[row["key"]] = t.float()
    return out


def check_headers(model_dir, table):
    """Every table tensor in the directory's safetensors headers with its shape (a JobError naming file and key)."""
    headers, path = read_headers(model_dir)
    for row in table:
        info = headers.get(row["key"])
        if info is None or list(info["shape"]) != list(row["shape"]):
            raise JobError("model weights lack a tensor" if info is None else "tensor has the wrong shape",
                           path=info["file"] if info else path, field=row["key"], expected=str(list(row["shape"])),
                           got="nothing" if info is None else str(list(info["shape"])),
                           hint="the weights do not match config.json (hidden_size, heads, vocab_size …)")


class Loaded:
    """A model ready for training: the module, its parameters in table order, and how it was built."""

    def __init__(self, module, params, kind, keys):
        self.module, self.params, self.kind, self.keys = module, params, kind, keys
        self.fsdp = False  # fsdp.wrap: params are then this rank's shards

    def logits(self, ids):
        if self.kind == "transformers":
            return self.module(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False).logits
        return self.module(ids)


def _check_table(module, table, model_dir):
    named = dict(module.named_parameters())
    for row in table:
        p = named.get(row["key"])
        if p is None or list(p.shape) != list(row["shape"]):
            raise JobError("the model does not have a tensor of the parameter table", kind="config",
                           path=os.path.join(model_dir, "config.json"), field=row["key"],
                           expected=str(list(row["shape"])), got="nothing" if p is None else str(list(p.shape)),
                           hint="an architecture iopo's parameter table does not describe (Llama/Qwen2 only)")
    return named


def load(model_dir, cfg, table, rope, device):
    """Build the model from `model_dir` (weights checked against `table`) on `device`, in float32."""
    tf = _use_transformers()
    if tf is not None:
        # transformers reads the weights itself (shard by shard, without a random initialisation first).
        check_headers(model_dir, table)  # names and shapes, from the files' headers, before transformers reads them
        try:
            module = tf.AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
        except Exception as e:  # transformers' own message names what it could not read
            raise JobError("transformers cannot load the model directory", path=model_dir,
                           got=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                           hint="check config.json and the safetensors files; IOPO_TORCH_OWN_MODEL=1 uses iopo's "
                                "own Llama/Qwen2 module with its checked loader")
        _check_table(module, table, model_dir)
        kind = "transformers"
    else:
        weights = load_weights(model_dir, table)
        module = CausalLM(cfg, rope)
        named = _check_table(module, table, model_dir)
        with torch.no_grad():
            for row in table:
                named[row["key"]].copy_(weights[row["key"]])
        kind = "own"
    module.to(device)
    named = dict(module.named_parameters())
    return Loaded(module, [named[row["key"]] for row in table], kind, [row["key"] for row in table])
