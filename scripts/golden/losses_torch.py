"""Independent PyTorch reference for iopo's loss family: reads JSON cases on stdin, writes their losses and
gradients (float64 autograd) on stdout. Each method is written from its paper, not from iopo's loss table:

  IOPO (Eq. 8)       z = ½(Π1 + Π2), Π1 = 2ρ(y1|x1) − ρ(y2|x1) − ρ(y1|x2), Π2 = 2ρ(y2|x2) − ρ(y1|x2) − ρ(y2|x1)
  IOPO* (App. E)     z = Π1
  w/o input pref.    mean of DPO on (x1: y1 ≻ y2) and (x2: y2 ≻ y1)   (= DPO*, token-matched)
  w/o output pref.   mean of the input preferences (y1: x1 ≻ x2) and (y2: x2 ≻ x1)
  DPO                −log σ(β(ρ_w − ρ_l)); hinge relu(1 − β z); IPO (z − 1/(2β))²; label smoothing ε
  SimPO              −log σ(β/|y_w| log π(y_w) − β/|y_l| log π(y_l) − γ)
  ORPO               −log P(y_w)/|y_w| − λ log σ(log odds(y_w) − log odds(y_l)), odds = P/(1 − P), P = exp(mean log-prob)
  SFT term           γ · Σ −lp/|y| over the preferred responses

Input: [{"name", "params": {...}, "logp": [...], "ref": [...], "tokens": [...]}]; output: [{"loss", "dlogp": [...]}].
Sequence order per group: (x1,y1), (x1,y2), (x2,y2), (x2,y1); per pair: chosen, rejected.
"""
import json
import sys

import torch
import torch.nn.functional as F


def form_loss(z, p):
    beta = p["beta"]
    form = p.get("form", "sigmoid")
    if form == "hinge":
        return torch.relu(1 - beta * z)
    if form == "ipo":
        return (z - 1 / (2 * beta)) ** 2
    eps = p.get("label_smoothing", 0.0)
    return -(1 - eps) * F.logsigmoid(beta * z) - eps * F.logsigmoid(-beta * z)


def loss_of(case):
    name, p = case["name"], case["params"]
    lp = torch.tensor(case["logp"], dtype=torch.float64, requires_grad=True)
    ref = torch.tensor(case["ref"], dtype=torch.float64)
    n = torch.tensor(case["tokens"], dtype=torch.float64)
    rho = lp - ref
    sft = p.get("sft_weight", 0.0)
    if name in ("iopo", "iopo-star", "iopo-no-input", "iopo-no-output", "dpo-star"):
        y1x1, y2x1, y2x2, y1x2 = rho[0], rho[1], rho[2], rho[3]
        pi1 = 2 * y1x1 - y2x1 - y1x2
        pi2 = 2 * y2x2 - y1x2 - y2x1
        if name == "iopo":
            loss = form_loss(0.5 * (pi1 + pi2), p)
        elif name == "iopo-star":
            loss = form_loss(pi1, p)
        elif name in ("iopo-no-input", "dpo-star"):
            loss = 0.5 * (form_loss(y1x1 - y2x1, p) + form_loss(y2x2 - y1x2, p))
        else:
            loss = 0.5 * (form_loss(y1x1 - y1x2, p) + form_loss(y2x2 - y2x1, p))
        loss = loss + sft * (-lp[0] / n[0] - lp[2] / n[2])
    elif name == "dpo":
        loss = form_loss(rho[0] - rho[1], p) + sft * (-lp[0] / n[0])
    elif name == "simpo":
        u = p["beta"] * lp[0] / n[0] - p["beta"] * lp[1] / n[1] - p["simpo_gamma"]
        loss = -F.logsigmoid(u) + sft * (-lp[0] / n[0])
    elif name == "orpo":
        mean = lp / n
        log_odds = mean - torch.log1p(-torch.exp(mean))
        loss = -mean[0] - p["orpo_lambda"] * F.logsigmoid(log_odds[0] - log_odds[1])
    elif name in ("sft", "sft-star"):
        loss = -lp[0]
    else:
        raise SystemExit(f"unknown method {name}")
    loss.backward()
    return {"loss": loss.item(), "dlogp": lp.grad.tolist()}


if __name__ == "__main__":
    json.dump([loss_of(c) for c in json.load(sys.stdin)], sys.stdout)
