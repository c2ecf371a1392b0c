"""One rank of a training job: read the job TypeScript wrote (records, step plan, resolved loss, refs), then per
planned step: forward + backward over this rank's share of the step's records in micro-batches, gradients summed
over ranks, NaN/inf guard, global-norm clip, AdamW exactly as src/engine/adamw.ts, checkpoints as
src/train/checkpoint.ts. Rank 0 prints one JSON line per event on stdout; nothing else is printed there."""

import json
import math
import os
import shutil
import sys
import time

import torch
import torch.distributed as dist

from . import MIN_TORCH
from .errors import JobError, report
from .loss import record_loss, weights
from .model import load
from .safetensors_io import read_file, write_file

EXIT_JOB_ERROR = 3
EXIT_NON_FINITE = 4


def _json_safe(x):
    """NaN and ±inf as the strings JavaScript's Number() reads ("NaN", "Infinity"), since JSON has no such numbers."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


class Rank:
    def __init__(self, job):
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = job["device"] == "cuda"
        if cuda:
            torch.cuda.set_device(local)
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu")
        supervised = os.environ.get("IOPO_SUPERVISED") == "1"
        self.events = None if supervised else os.path.join(job["dir"], "events.jsonl")
        # FSDP needs a process group even on one rank (`iopo train --fsdp --nproc 1`).
        if self.world > 1 or job.get("fsdp"):
            os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
            os.environ.setdefault("MASTER_PORT", "29500")
            os.environ.setdefault("RANK", "0")
            os.environ.setdefault("WORLD_SIZE", "1")
            dist.init_process_group("nccl" if cuda else "gloo", init_method="env://")

    def emit(self, **event):
        if self.rank == 0:
            line = json.dumps(_json_safe(event)) + "\n"
            sys.stdout.write(line)
            if self.events:  # launched by torchrun/srun: nobody reads stdout into metrics.jsonl, so keep the lines
                with open(self.events, "a") as f:
                    f.write(line)
            sys.stdout.flush()

    def sum_(self, t):
        """All-reduce (sum) in place over ranks; a no-op for one process."""
        if self.world > 1:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def sum_grads(self, grads, bucket=64 * 2**20):
        """All-reduce (sum) gradients in flat buckets of about `bucket` elements: a few collectives per step
        instead of one per tensor (a 7B LoRA has ~450 adapter tensors)."""
        if self.world == 1:
            return
        start = 0
        while start < len(grads):
            end, n = start, 0
            while end < len(grads) and (end == start or n + grads[end].numel() <= bucket):
                n += grads[end].numel()
                end += 1
            part = grads[start:end]
            flat = torch.cat([g.reshape(-1) for g in part])
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            at = 0
            for g in part:
                g.copy_(flat[at: at + g.numel()].view_as(g))
                at += g.numel()
            start = end

    def barrier(self):
        if self.world > 1:
            dist.barrier()


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def autocast(job, device):
    if job["dtype"] == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return torch.autocast(device_type=device.type, enabled=False)


def sequence_logps(model, seqs, device, job):
    """Summed response log-probs [B] of sequences {prompt, response} in one right-padded batch."""
    T = max(len(s["prompt"]) + len(s["response"]) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    labels = torch.zeros(len(seqs), T, dtype=torch.bool)  # position t holds a response token
    for b, s in enumerate(seqs):
        p, r = len(s["prompt"]), len(s["response"])
        ids[b, : p + r] = torch.tensor(s["prompt"] + s["response"])
        labels[b, p: p + r] = True
    ids, labels = ids.to(device), labels.to(device)
    with autocast(job, device):
        logits = model.logits(ids)  # [B, T, V]
    logp = logits[:, :-1].float().log_softmax(-1)  # [B, T-1, V]: log p(token t+1 | ≤ t)
    tok = logp.gather(-1, ids[:, 1:, None])[..., 0]  # [B, T-1]
    return (tok * labels[:, 1:]).sum(-1)  # [B]


# ---- the reference pass ----

def run_logps(job, rk, model=None):
    """Score the sequences of ref_todo.jsonl with the reference model (or `model`: the policy with its adapters
    off), split over ranks; rank 0 prints them."""
    seqs = read_jsonl(os.path.join(job["dir"], "ref_todo.jsonl"))
    own = model is None
    if own:
        model = load(job["ref"], job["ref_config"], job["table"], job["rope"], rk.device)
    was_training = model.module.training
    model.module.eval()
    out = torch.zeros(len(seqs), dtype=torch.float64, device=rk.device)
    mine = list(range(rk.rank, len(seqs), rk.world))
    chunk = max(1, job["batch"] * len(job["loss"]["nll"]))
    with torch.no_grad():
        for k in range(0, len(mine), chunk):
            part = mine[k: k + chunk]
            out[part] = sequence_logps(model, [seqs[i] for i in part], rk.device, job).double()
    rk.sum_(out)
    rk.emit(event="logps", values=[float(x) for x in out.float().cpu()])
    model.module.train(was_training)
    del model
    return 0


def wait_for(path, parent):
    """Wait for TypeScript to write `path` (atomically) after it stored the reference log-probs in its cache."""
    while not os.path.exists(path):
        if os.getppid() != parent:
            raise SystemExit("iopo_torch: the supervising iopo process is gone")
        time.sleep(0.05)


# ---- AdamW, as src/engine/adamw.ts ----

class AdamW:
    def __init__(self, params, decay, o):
        self.params, self.decay, self.o = params, decay, o
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def step(self, lr):
        """w ← w·(1 − lr·wd) − a·m/(√(v·c2) + eps), a = lr/(1 − β1ᵗ), c2 = 1/(1 − β2ᵗ); decay only where flagged.
        On the CPU the element arithmetic runs in float64 (stored float32), as the TypeScript loop does."""
        self.t += 1
        b1, b2, eps, wd = self.o["beta1"], self.o["beta2"], self.o["eps"], self.o["weight_decay"]
        a, c2 = lr / (1 - b1 ** self.t), 1 / (1 - b2 ** self.t)
        with torch.no_grad():
            for p, m, v, decay in zip(self.params, self.m, self.v, self.decay):
                exact = p.device.type == "cpu"
                dt = torch.float64 if exact else torch.float32
                g = p.grad.to(dt)
                mi = m.to(dt).mul_(b1).add_(g, alpha=1 - b1)  # first moment
                vi = v.to(dt).mul_(b2).add_(g * g, alpha=1 - b2)  # second moment
                m.copy_(mi)
                v.copy_(vi)
                w = p.data.to(dt)
                if decay and wd:
                    w = w * (1 - lr * wd)
                p.data.copy_(w - a * mi / ((vi * c2).sqrt() + eps))


# ---- checkpoints, as src/train/checkpoint.ts ----

def full_tensors(model, opt):
    """Weights and moments as full tensors in table order (gathered from the shards under FSDP; rank 0 only)."""
    if model.fsdp:
        from .fsdp import gather
        w, m, v = gather(model), gather(model, opt.m), gather(model, opt.v)
        return [[d.get(k) for k in model.keys] for d in (w, m, v)]
    return [p.data for p in model.params], opt.m, opt.v


def save_checkpoint(job, plan, keys, tensors, adam_t, step, state, loss):
    weights, m_all, v_all = tensors
    out = job["out"]
    final = os.path.join(out, f"checkpoint-{step}")
    tmp = os.path.join(out, f".checkpoint-{step}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    if job.get("lora"):
        # An adapter directory in the PEFT layout (the base stays where it is, named in adapter_config.json).
        from .lora import save_adapter
        save_adapter(tmp, job["lora"], job["base_name"], keys, weights)
    else:
        cfg = dict(job["model_config"])
        cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[job["save_dtype"]]
        if "dtype" in cfg:
            cfg["dtype"] = cfg["torch_dtype"]
        with open(os.path.join(tmp, "config.json"), "w") as f:
            f.write(json.dumps(cfg, indent=2) + "\n")
        write_file(os.path.join(tmp, "model.safetensors"), list(zip(keys, weights)), dtype=job["save_dtype"],
                   metadata={"format": "pt"})
    for src in job["side_files"]:
        shutil.copyfile(src, os.path.join(tmp, os.path.basename(src)))
    write_file(os.path.join(tmp, "optimizer.safetensors"),
               [(f"exp_avg.{k}", m) for k, m in zip(keys, m_all)]
               + [(f"exp_avg_sq.{k}", v) for k, v in zip(keys, v_all)], dtype="F32")
    trainer_state = {"step": step, "epoch": state["epoch"], "cursor": state["cursor"],
                     "order": plan["orders"][str(state["epoch"])], "rng": state["rng"],
                     "total_steps": job["total_steps"], "tokens": state["tokens"]}
    with open(os.path.join(tmp, "trainer_state.json"), "w") as f:
        f.write(json.dumps(trainer_state, separators=(",", ":")) + "\n")
    manifest = {"format": "iopo-checkpoint", "version": 1, "step": step, "param_table_hash": job["param_table_hash"],
                "adam_t": adam_t, "config": job["checkpoint_config"], "loss": loss}
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return final


def restore(job, model, opt):
    path = os.path.join(job["resume"]["dir"], "optimizer.safetensors")
    tensors = read_file(path)
    keys = model.keys  # the trained tensors: the model's, or the adapter's under LoRA
    for name in [f"{kind}.{k}" for kind in ("exp_avg", "exp_avg_sq") for k in keys]:
        if name not in tensors:
            raise JobError("optimizer state lacks a tensor", path=path, field=name,
                           hint="resume from an earlier checkpoint-<step> directory or start over without --resume")
    for kind, dst in (("exp_avg", opt.m), ("exp_avg_sq", opt.v)):
        full = {k: tensors[f"{kind}.{k}"].float() for k in keys}
        if model.fsdp:
            from .fsdp import scatter
            scatter(model, full, dst)
        else:
            for k, d in zip(keys, dst):
                d.copy_(full[k])
    opt.t = job["resume"]["adam_t"]


# ---- the loop ----

def build(job, rk):
    """The policy: loaded (and under LoRA its adapters attached, fresh or from the resumed checkpoint), sharded under
    FSDP; returns it and the table of what is trained."""
    fsdp = bool(job.get("fsdp"))
    # FSDP: built on the CPU, then sharded onto the device (a full 7B copy never sits on one GPU twice).
    model = load(job["init"], job["model_config"], job["table"], job["rope"], torch.device("cpu") if fsdp else rk.device)
    model.module.train()
    table = job["table"]
    if job.get("lora"):
        from .lora import attach, load_adapter
        table = attach(model, job["lora"], job["lora"].get("seed", 0))
        if job["resume"]:
            load_adapter(model, job["resume"]["dir"])
        elif job["lora"].get("init"):
            load_adapter(model, job["lora"]["init"])  # TypeScript's initial adapter (model/lora.ts initLora)
    if job["grad_checkpointing"]:
        if model.kind == "transformers":
            try:
                model.module.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            except TypeError:  # transformers before 4.35
                model.module.gradient_checkpointing_enable()
                model.module.enable_input_require_grads()
        else:
            model.module.grad_checkpointing = True
    if fsdp:
        from .fsdp import wrap
        wrap(model, rk.device)
    return model, table


def run_train(job, rk):
    parent = os.getppid()
    model, table = None, job["table"]
    if job.get("lora") and job.get("ref_is_base"):
        model, table = build(job, rk)
    if job.get("ref_todo"):
        # Reference log-probs missing from the cache first (this launch, so torch starts once per run); under LoRA
        # the reference is the policy with its adapters off.
        if model is not None:
            from .lora import enable
            enable(model, False)
            run_logps(job, rk, model)
            enable(model, True)
        else:
            run_logps(job, rk)
        wait_for(os.path.join(job["dir"], "refs.json"), parent)
    if model is None:
        model, table = build(job, rk)
    records = read_jsonl(os.path.join(job["dir"], "records.jsonl"))
    with open(os.path.join(job["dir"], "plan.json")) as f:
        plan = json.load(f)
    with open(os.path.join(job["dir"], "refs.json")) as f:
        refs = json.load(f)  # [record][sequence], zeros for reference-free methods
    opt = AdamW(model.params, [r["decay"] for r in table], job["adam"])
    if job["resume"]:
        restore(job, model, opt)
    rk.emit(event="ready", model=model.kind, torch=torch.__version__, world=rk.world,
            params=sum(p.numel() for p in model.params))
    loss_spec, S, B = job["loss"], len(job["loss"]["nll"]), job["batch"]
    per_rank = job["batch"] * job["accum"]
    last_saved = None
    delay = float(os.environ.get("IOPO_TORCH_STEP_DELAY", "0"))
    for st in plan["steps"]:
        t0 = time.perf_counter()
        idx = st["records"]  # the step's records, sorted (src/train/torch/plan.ts)
        step_recs = [records[i] for i in idx]
        response_tokens = sum(len(q["response"]) for r in step_recs for q in r["seqs"])
        prompt_tokens = sum(len(q["prompt"]) for r in step_recs for q in r["seqs"])
        lp_all = torch.zeros(len(idx), S, dtype=torch.float32, device=rk.device)
        loss = torch.zeros(1, dtype=torch.float64, device=rk.device)
        lo = rk.rank * per_rank
        mine = list(range(lo, min(lo + per_rank, len(idx))))
        if model.fsdp:
            model.module.zero_grad(set_to_none=True)
        else:
            for p in model.params:
                p.grad = torch.zeros_like(p)
        # FSDP: every rank runs as many micro-batches as rank 0 (collectives in each forward); a rank short of
        # records repeats one with weight 0.
        count = -(-min(len(idx), per_rank) // B) if model.fsdp else -(-len(mine) // B)
        for k in range(count):
            part = mine[k * B: (k + 1) * B]
            live = 1.0 if part else 0.0
            part = part or [0]
            recs = [step_recs[i] for i in part]
            lp = sequence_logps(model, [q for r in recs for q in r["seqs"]], rk.device, job).view(len(recs), S)
            ref = torch.tensor([refs[idx[i]] for i in part], dtype=torch.float32, device=rk.device)
            nll_w, seq_scale, rec_w = weights(recs, loss_spec, len(idx), response_tokens, rk.device)
            total = record_loss(lp, ref, nll_w, seq_scale, rec_w, loss_spec).sum() * live
            # FSDP averages gradients over ranks; the step's loss is their sum.
            (total * rk.world if model.fsdp else total).backward()
            loss += total.detach().double()
            if live:
                lp_all[part] = lp.detach()
        for p in model.params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if not model.fsdp:
            rk.sum_grads([p.grad for p in model.params])
        rk.sum_(loss)
        rk.sum_(lp_all)
        sq = torch.zeros(1, dtype=torch.float64, device=rk.device)
        for p in model.params:
            sq += (p.grad.double() ** 2).sum()
        if model.fsdp:
            rk.sum_(sq)  # disjoint shards: the squares add up
        norm = math.sqrt(float(sq))
        loss_v = float(loss)
        event = {"event": "step", "step": st["step"], "loss": loss_v, "grad_norm": norm,
                 "lp": lp_all.cpu().tolist(), "tokens": {"prompt": prompt_tokens, "response": response_tokens}}
        if not (math.isfinite(loss_v) and math.isfinite(norm)):
            rk.emit(**event, applied=False, seconds=time.perf_counter() - t0)
            return EXIT_NON_FINITE
        if job["clip"] > 0 and norm > job["clip"]:
            k = job["clip"] / (norm + 1e-6)
            for p in model.params:
                p.grad.mul_(k)
        opt.step(st["lr"])
        rk.emit(**event, applied=True, seconds=time.perf_counter() - t0)
        if delay:
            time.sleep(delay)  # IOPO_TORCH_STEP_DELAY: tests that stop a rank mid-run need a run that lasts
        step = st["step"]
        if (job["save_every"] > 0 and step % job["save_every"] == 0 and step < job["stop_at"]) \
                or step == job["stop_at"]:
            tensors = full_tensors(model, opt) if (model.fsdp or rk.rank == 0) else None
            if rk.rank == 0:
                last_saved = save_checkpoint(job, plan, model.keys, tensors, opt.t, step, st["state"], loss_v)
                rk.emit(event="checkpoint", dir=last_saved, step=step)
            rk.barrier()
    peak = torch.cuda.max_memory_allocated(rk.device) if rk.device.type == "cuda" else None
    rk.emit(event="done", peak_gpu_bytes=peak)
    return 0


def run(mode, job_path):
    with open(job_path) as f:
        job = json.load(f)
    version = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
    if version < MIN_TORCH:
        sys.stderr.write(f"iopo_torch: torch {torch.__version__} is older than 1.13\n")
        return 2
    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    torch.manual_seed(0)
    rk = Rank(job)
    try:
        return run_logps(job, rk) if mode == "logps" else run_train(job, rk)
    except JobError as e:
        if rk.rank == 0:
            report(e)
        else:
            sys.stderr.write(f"{e}\n")
        return EXIT_JOB_ERROR
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
