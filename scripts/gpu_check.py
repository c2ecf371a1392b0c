"""GPU check of the PyTorch engine (issue 12), run by scripts/gpu-check.sh on one CUDA GPU (H200: < 8 minutes).

1. Tiny model (test/fixtures/golden/qwen2-tiny): the first 3 IOPO losses in bf16 on the GPU are within 1e-2 of
   fp32 on the CPU.
2. A Qwen2.5-0.5B-shaped model (random weights, the real shapes and vocabulary) trained with IOPO in bf16 on random
   token groups: full fine-tuning, FSDP full-shard on one GPU, and LoRA when the package supports it; tokens/s and
   peak GPU memory of each.

The GPU image has torch 2.x, transformers and peft but no Node, so this driver writes the job files the TypeScript
side writes for `iopo train --engine torch` (docs/train.md, "The hand-off") itself, for fixed settings: records in
order, a constant learning rate, and IOPO's resolved loss as src/train/losses.ts resolves it (below). The CPU test
suite (test/train/torch-*.test.ts) checks the real hand-off; this checks the ranks on a GPU.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from iopo_torch.model import CausalLM  # noqa: E402
from iopo_torch.safetensors_io import write_file  # noqa: E402

# resolveLoss(lossParams({name: "iopo"})) of src/train/losses.ts (β 0.1, sigmoid, margin a − b + c − d).
IOPO = {"name": "iopo", "kind": "group", "reads": "group", "score": "rho", "margins": [[1, -1, 1, -1]],
        "form": "sigmoid", "scale": 0.1, "offset": 0, "weight": 1, "label_smoothing": 0, "nll": [0, 0, 0, 0],
        "norm": "records"}
QWEN25_05B = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
    "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_scaling": None,
    "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": None, "attention_dropout": 0.0,
    "hidden_act": "silu", "initializer_range": 0.02, "bos_token_id": 151643, "eos_token_id": 151645,
    "torch_dtype": "bfloat16",
}
GROUP = ("y1x1", "y2x1", "y2x2", "y1x2")
ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def rope_of(cfg):
    D = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    return {"inv_freq": inv.float().tolist(), "attention_factor": 1.0, "window": None}


def table_of(cfg):
    m = CausalLM(cfg, rope_of(cfg))
    return [{"key": k, "shape": list(p.shape), "decay": p.dim() >= 2} for k, p in m.named_parameters()]


def make_model(dir_, cfg, seed):
    """A model directory with random weights (normal(0, 0.02), norms 1) in the config's dtype."""
    os.makedirs(dir_, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    tensors = []
    for row in table_of(cfg):
        shape = row["shape"]
        t = torch.ones(shape) if row["key"].endswith("norm.weight") else torch.randn(shape, generator=g) * 0.02
        tensors.append((row["key"], t))
    dtype = {"bfloat16": "BF16", "float16": "F16"}.get(cfg.get("torch_dtype"), "F32")
    write_file(os.path.join(dir_, "model.safetensors"), tensors, dtype=dtype, metadata={"format": "pt"})
    with open(os.path.join(dir_, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def groups_of_lengths(n, vocab, prompt, response, seed):
    rnd = random.Random(seed)
    ids = lambda k: [rnd.randrange(2, vocab) for _ in range(k)]  # noqa: E731
    out = []
    for i in range(n):
        x1, x2, y1, y2 = ids(prompt), ids(prompt), ids(response), ids(response)
        pairs = {"y1x1": (x1, y1), "y2x1": (x1, y2), "y2x2": (x2, y2), "y1x2": (x2, y1)}
        out.append({"id": f"g{i}", "seqs": [{"prompt": pairs[s][0], "response": pairs[s][1]} for s in GROUP]})
    return out


def run_job(work, model_dir, cfg, records, steps, per_step, device, dtype, lr=5e-4, ref_dir=None, **extra):
    """Write the job files and run one rank; returns the step events and the `done` event."""
    os.makedirs(work, exist_ok=True)
    table = table_of(cfg)
    with open(os.path.join(work, "records.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    plan, tokens = [], 0
    for k in range(steps):
        idx = sorted(((k * per_step) + j) % len(records) for j in range(per_step))
        tokens += sum(len(q["prompt"]) + len(q["response"]) for i in idx for q in records[i]["seqs"])
        plan.append({"step": k + 1, "records": idx, "lr": lr,
                     "state": {"epoch": 0, "cursor": 0, "rng": [0, 0, 0, 0], "tokens": tokens}})
    with open(os.path.join(work, "plan.json"), "w") as f:
        json.dump({"orders": {"0": list(range(len(records)))}, "steps": plan}, f)
    with open(os.path.join(work, "ref_todo.jsonl"), "w") as f:
        for r in records:
            for q in r["seqs"]:
                f.write(json.dumps(q) + "\n")
    job = {"version": 1, "dir": work, "out": os.path.join(work, "out"), "init": model_dir, "ref": ref_dir or model_dir,
           "model_config": cfg, "ref_config": cfg, "table": table, "param_table_hash": "gpu-check",
           "rope": rope_of(cfg), "loss": IOPO, "batch": per_step, "accum": 1, "clip": 1.0,
           "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}, "device": device,
           "dtype": dtype, "grad_checkpointing": extra.get("grad_checkpointing", False),
           "fsdp": extra.get("fsdp", False), "lora": extra.get("lora"), "save_every": 0,
           "stop_at": extra.get("stop_at", steps + 1), "total_steps": steps, "ref_is_base": ref_dir is None,
           "base_name": model_dir, "save_dtype": "BF16", "side_files": [],
           "checkpoint_config": {}, "resume": None, "ref_todo": True, "threads": 0}
    os.makedirs(job["out"], exist_ok=True)
    with open(os.path.join(work, "job.json"), "w") as f:
        json.dump(job, f)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), PYTHONDONTWRITEBYTECODE="1",
               PYTHONUNBUFFERED="1", RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(29500 + random.randrange(1000)))
    p = subprocess.Popen([sys.executable, "-m", "iopo_torch", "train", os.path.join(work, "job.json")], env=env,
                         stdout=subprocess.PIPE, text=True)
    events = []
    S = len(GROUP)
    for line in p.stdout:
        e = json.loads(line)
        events.append(e)
        if e["event"] == "logps":  # the supervisor's part: refs per record, then refs.json
            v = e["values"]
            refs = [v[i * S:(i + 1) * S] for i in range(len(records))]
            tmp = os.path.join(work, "refs.json.tmp")
            with open(tmp, "w") as f:
                json.dump(refs, f)
            os.replace(tmp, os.path.join(work, "refs.json"))
        if e["event"] == "error":
            print("  rank error:", e)
    if p.wait() != 0:
        raise SystemExit(f"gpu-check: rank failed (exit {p.returncode}) in {work}")
    steps_ev = [e for e in events if e["event"] == "step"]
    done = next(e for e in events if e["event"] == "done")
    ready = next(e for e in events if e["event"] == "ready")
    return steps_ev, done, ready


def peft_check(base, adapter):
    """The saved adapter loads with peft onto the transformers base: every lora tensor present and equal."""
    try:
        import peft
        import transformers
    except ImportError as e:
        print(f"peft check: skipped ({e})")
        return None
    from iopo_torch.safetensors_io import read_file
    model = transformers.AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float32)
    model = peft.PeftModel.from_pretrained(model, adapter)
    saved = read_file(os.path.join(adapter, "adapter_model.safetensors"))
    loaded = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    worst, missing = 0.0, 0
    for k, t in saved.items():
        # peft inserts the adapter name: ...q_proj.lora_A.default.weight
        key = k.replace(".lora_A.weight", ".lora_A.default.weight").replace(".lora_B.weight", ".lora_B.default.weight")
        if key not in loaded:
            missing += 1
            continue
        worst = max(worst, float((loaded[key].float() - t.float()).abs().max()))
    ok = missing == 0 and worst == 0.0 and len(loaded) == len(saved)
    print(f"peft {peft.__version__}: adapter loads, {len(saved)} tensors, {missing} missing, max |Δ| {worst:.1e}"
          f" {'OK' if ok else 'FAIL'}")
    return ok


def throughput(steps_ev):
    tps = [(s["tokens"]["prompt"] + s["tokens"]["response"]) / s["seconds"] for s in steps_ev[1:]]
    return statistics.median(tps) if tps else float("nan")


def main():
    assert torch.cuda.is_available(), "gpu-check needs a CUDA GPU"
    t_all = time.time()
    lora_ok = os.path.exists(os.path.join(ROOT, "python", "iopo_torch", "lora.py"))
    summary = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "results": {}}
    print(f"gpu-check: torch {torch.__version__}, {summary['gpu']}")
    work = tempfile.mkdtemp(prefix="iopo-gpu-check-")

    # 1. tiny model: bf16 on the GPU vs fp32 on the CPU.
    golden = os.path.join(ROOT, "test", "fixtures", "golden", "qwen2-tiny")
    with open(os.path.join(golden, "policy", "config.json")) as f:
        tiny = json.load(f)
    groups = [json.loads(l) for l in open(os.path.join(golden, "tokens.jsonl"))]
    recs = [{"id": f"g{i}", "seqs": [{"prompt": g[x], "response": g[y]} for x, y in
                                      (("x1", "y1"), ("x1", "y2"), ("x2", "y2"), ("x2", "y1"))]}
            for i, g in enumerate(groups)]
    pol, ref = os.path.join(golden, "policy"), os.path.join(golden, "reference")
    cpu, _, _ = run_job(os.path.join(work, "tiny-cpu"), pol, tiny, recs, 3, 3, "cpu", "fp32", ref_dir=ref)
    gpu, _, _ = run_job(os.path.join(work, "tiny-gpu"), pol, tiny, recs, 3, 3, "cuda", "bf16", ref_dir=ref)
    diffs = [abs(a["loss"] - b["loss"]) for a, b in zip(cpu, gpu)]
    ok = max(diffs) <= 1e-2
    print(f"tiny qwen2: fp32 CPU {[round(s['loss'], 5) for s in cpu]} vs bf16 GPU {[round(s['loss'], 5) for s in gpu]}"
          f" max |Δ| {max(diffs):.2e} {'OK' if ok else 'FAIL (> 1e-2)'}")
    summary["results"]["tiny_bf16_vs_fp32"] = {"max_abs_diff": max(diffs), "ok": ok}

    # 2. Qwen2.5-0.5B shapes, random weights, IOPO in bf16.
    big = os.path.join(work, "qwen25-05b")
    t0 = time.time()
    make_model(big, QWEN25_05B, 0)
    print(f"0.5B-shaped model written in {time.time() - t0:.0f} s")
    data = groups_of_lengths(8, QWEN25_05B["vocab_size"], 256, 256, 0)
    runs = [("full bf16", {}), ("full bf16 + grad checkpointing", {"grad_checkpointing": True}),
            ("FSDP full-shard, 1 GPU", {"fsdp": True})]
    if lora_ok:
        lora = {"rank": 8, "alpha": 16, "dropout": 0.0, "targets": list(ALL_LINEAR), "seed": 0}
        runs.append(("LoRA r8 all-linear", {"lora": lora, "stop_at": 6}))  # saves checkpoint-6 for the peft check
    else:
        print("LoRA: not run (python/iopo_torch has no LoRA yet)")
    for name, extra in runs:
        torch.cuda.empty_cache()
        t0 = time.time()
        run_dir = os.path.join(work, f"run{len(summary['results'])}")
        steps_ev, done, ready = run_job(run_dir, big, QWEN25_05B, data, 6, 2, "cuda", "bf16", lr=1e-5, **extra)
        tps = throughput(steps_ev)
        peak = (done.get("peak_gpu_bytes") or 0) / 2**30
        losses = [round(s["loss"], 4) for s in steps_ev]
        print(f"{name}: {ready['model']} model, {ready['params']} trainable parameters; {tps:.0f} tokens/s "
              f"(median of steps 2-6, 2 groups x 4 x 512 tokens); peak GPU memory {peak:.1f} GiB; losses {losses}; "
              f"{time.time() - t0:.0f} s")
        summary["results"][name] = {"tokens_per_s": tps, "peak_gib": peak, "losses": losses}
        if "lora" in extra:
            summary["results"]["peft_loads_adapter"] = peft_check(big, os.path.join(run_dir, "out", "checkpoint-6"))
    print(f"gpu-check: done in {time.time() - t_all:.0f} s")
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "gpu-check.json"), "w") as f:
            json.dump(summary, f, indent=2)
    return 0 if summary["results"]["tiny_bf16_vs_fp32"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
