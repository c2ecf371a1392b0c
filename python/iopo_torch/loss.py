"""The method's loss from the resolved loss TypeScript sends (src/train/losses.ts ResolvedLoss; program.ts builds
the same numbers in the embedded engine's graph): per-sequence scores, margin rows, form, NLL terms, record weights.
No table of methods here: every number comes from the job."""

import torch
import torch.nn.functional as F


def _scores(lp, ref, seq_scale, kind):
    """Per-sequence scores [R, S]: ρ = lp − ref, m = lp/|y|, or the log-odds m − log(1 − eᵐ)."""
    if kind == "rho":
        return lp - ref
    m = lp * seq_scale  # [R, S] mean token log-prob
    if kind == "mean":
        return m
    return m - torch.log(-torch.expm1(m))  # [R, S]


def _preference(z, loss):
    """Margins z [R, K] → loss [R, K] by form."""
    scale = loss["scale"]
    if loss["form"] == "hinge":
        return torch.relu(1 - z * scale)
    if loss["form"] == "ipo":
        return (z - 1 / (2 * scale)) ** 2
    u = z * scale - loss["offset"]
    eps = loss["label_smoothing"]
    out = -(1 - eps) * F.logsigmoid(u)
    return out - eps * F.logsigmoid(-u) if eps else out


def weights(recs, loss, step_records, step_response_tokens, device):
    """Per-sequence NLL weights and 1/|y| [R, S] and record weights [R] of a micro-batch (as step.ts microBatch):
    the step's loss is a mean over its records (SFT: over its response tokens), wherever the records run."""
    S = len(loss["nll"])
    nll_w = torch.zeros(len(recs), S, dtype=torch.float64)
    seq_scale = torch.zeros(len(recs), S, dtype=torch.float64)
    for i, r in enumerate(recs):
        for s in range(S):
            y = max(1, len(r["seqs"][s]["response"]))
            seq_scale[i, s] = 1 / y
            w = loss["nll"][s]
            if w:
                nll_w[i, s] = w / step_response_tokens if loss["norm"] == "tokens" else w / step_records / y
    rec_w = torch.full((len(recs),), 1 / step_records, dtype=torch.float64)
    f = lambda t: t.float().to(device)  # noqa: E731 — the graph's feeds are float32
    return f(nll_w), f(seq_scale), f(rec_w)


def record_loss(lp, ref, nll_w, seq_scale, rec_w, loss):
    """Per-record loss [R] from summed log-probs lp [R, S] (reference log-probs ref [R, S] are constants)."""
    per_record = (-lp * nll_w).sum(1)  # [R] weighted NLL
    if loss["score"] is None:
        return per_record
    K = len(loss["margins"])
    W = torch.tensor(loss["margins"], dtype=lp.dtype, device=lp.device).t()  # [S, K]: column k is margin row k
    z = _scores(lp, ref, seq_scale, loss["score"]) @ W  # [R, K]
    pref = _preference(z, loss).sum(1)  # [R]
    return per_record + pref * (rec_w * (loss["weight"] / K))
