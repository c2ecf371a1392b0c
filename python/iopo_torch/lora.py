"""LoRA adapters (Hu et al. 2021) on a loaded model, in the PEFT layout: for each target linear W [out, in] of a
decoder layer, lora_A [r, in] and lora_B [out, r] as children of that linear (so their names are PEFT's, minus its
`base_model.model.` prefix), y = x·Wᵀ + (α/r)·(dropout(x)·Aᵀ)·Bᵀ added by a forward hook. The base is frozen; the
reference is the same model with the adapters switched off (no second copy). A ~ U(−1/√in, 1/√in) as PEFT's
Kaiming-uniform (a = √5), B = 0, unless initial adapter weights are given."""

import json
import math
import os
import re

import torch

from .errors import JobError
from .safetensors_io import read_file, write_file

PEFT_PREFIX = "base_model.model."
ALL = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TARGET = re.compile(r"^model\.layers\.\d+\.(self_attn|mlp)\.(\w+_proj)\.weight$")


def adapter_table(table, targets, rank):
    """The adapter rows in base-table order: for each target weight, lora_A [r, in] then lora_B [out, r]."""
    rows = []
    for row in table:
        m = TARGET.match(row["key"])
        if not m or m.group(2) not in targets:
            continue
        out, inp = row["shape"]
        module = row["key"][: -len(".weight")]
        rows.append({"key": f"{module}.lora_A.weight", "shape": [rank, inp], "decay": True, "module": module})
        rows.append({"key": f"{module}.lora_B.weight", "shape": [out, rank], "decay": True, "module": module})
    return rows


def _hook(mod, inputs, out):
    if not mod.lora_enabled:
        return out
    x = inputs[0]
    return out + mod.lora_B(mod.lora_A(mod.lora_dropout(x).to(mod.lora_A.weight.dtype))).to(out.dtype) * mod.lora_scale


def attach(loaded, spec, seed):
    """Add adapters to `loaded` (its base parameters frozen); its params become the adapter's, in table order."""
    torch.manual_seed(seed)
    modules = dict(loaded.module.named_modules())
    rows = adapter_table([{"key": k, "shape": list(p.shape)} for k, p in zip(loaded.keys, loaded.params)],
                         spec["targets"], spec["rank"])
    for p in loaded.module.parameters():
        p.requires_grad_(False)
    for row in rows[::2]:
        lin = modules[row["module"]]
        r = spec["rank"]
        device = lin.weight.device
        lin.lora_A = torch.nn.Linear(lin.in_features, r, bias=False).to(device)
        lin.lora_B = torch.nn.Linear(r, lin.out_features, bias=False).to(device)
        with torch.no_grad():
            bound = 1 / math.sqrt(lin.in_features)
            lin.lora_A.weight.uniform_(-bound, bound)
            lin.lora_B.weight.zero_()
        lin.lora_dropout = torch.nn.Dropout(spec["dropout"]) if spec["dropout"] > 0 else torch.nn.Identity()
        lin.lora_scale = spec["alpha"] / r
        lin.lora_enabled = True
        lin.register_forward_hook(_hook)
    named = dict(loaded.module.named_parameters())
    loaded.lora_modules = [modules[row["module"]] for row in rows[::2]]
    loaded.keys = [row["key"] for row in rows]
    loaded.params = [named[k] for k in loaded.keys]
    return [{"key": r["key"], "shape": r["shape"], "decay": r["decay"]} for r in rows]


def enable(loaded, on):
    for m in getattr(loaded, "lora_modules", []):
        m.lora_enabled = on


def load_adapter(loaded, adapter_dir):
    """Adapter weights from a PEFT directory (a checkpoint being resumed), checked key by key."""
    path = os.path.join(adapter_dir, "adapter_model.safetensors")
    tensors = read_file(path)
    with torch.no_grad():
        for k, p in zip(loaded.keys, loaded.params):
            t = tensors.get(PEFT_PREFIX + k)
            if t is None or list(t.shape) != list(p.shape):
                raise JobError("adapter lacks a tensor or has another shape", path=path, field=PEFT_PREFIX + k,
                               expected=str(list(p.shape)), got="nothing" if t is None else str(list(t.shape)),
                               hint="resume with the --lora-rank and --lora-targets the run started with")
            p.copy_(t.float())


def save_adapter(dir_, spec, base, keys, tensors):
    """adapter_config.json + adapter_model.safetensors (float32), as PEFT writes them."""
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": spec["rank"], "lora_alpha": spec["alpha"],
              "lora_dropout": spec["dropout"], "target_modules": list(spec["targets"]),
              "base_model_name_or_path": base, "bias": "none", "fan_in_fan_out": False, "inference_mode": True,
              "init_lora_weights": True, "use_rslora": False}
    with open(os.path.join(dir_, "adapter_config.json"), "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")
    write_file(os.path.join(dir_, "adapter_model.safetensors"),
               [(PEFT_PREFIX + k, t) for k, t in zip(keys, tensors)], dtype="F32", metadata={"format": "pt"})
