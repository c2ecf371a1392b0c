import assert from "node:assert/strict";
import { test } from "node:test";
import { computeLoss, LOSS_NAMES, LOSSES, lossParams, type RecordLogps } from "../../src/train/losses.ts";

const close = (a: number, b: number, tol = 1e-9, msg?: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${msg ?? ""} ${a} vs ${b}`);
const rec = (logp: number[], ref: number[] = logp.map(() => 0), tokens: number[] = logp.map(() => 5)): RecordLogps => ({
  logp,
  ref,
  tokens,
});
const LN2 = Math.log(2);

test("every sigmoid-form reference-based loss equals ln 2 when the policy is the reference (ρ = 0)", () => {
  for (const name of LOSS_NAMES) {
    if (LOSSES[name].score !== "rho") continue;
    const n = LOSSES[name].kind === "group" ? 4 : 2;
    const lp = [-3, -7, -2.5, -9].slice(0, n);
    close(computeLoss(rec(lp, lp), lossParams({ name })).loss, LN2, 1e-12, name);
  }
});

test("IOPO by hand: z = ½(Π1 + Π2), L = −log σ(βz)", () => {
  // ρ = [a, b, c, d] = [1, −2, 0.5, −1] → Π1 = 2 + 2 + 1 = 5, Π2 = 1 + 1 + 2 = 4, z = 4.5, βz = 0.45.
  const r = rec([1, -2, 0.5, -1]);
  const out = computeLoss(r, lossParams({ name: "iopo", beta: 0.1 }));
  close(out.loss, Math.log1p(Math.exp(-0.45)), 1e-12);
  close(out.metrics["rewards/margins"]!, 0.45, 1e-12);
  // Output preference parts: β(a − b) = 0.3, β(c − d) = 0.15; input preference parts: β(a − d) = 0.2, β(c − b) = 0.25.
  close(out.metrics["rewards/output_margin_x1"]!, 0.3, 1e-12);
  close(out.metrics["rewards/output_margin_x2"]!, 0.15, 1e-12);
  close(out.metrics["rewards/input_margin_y1"]!, 0.2, 1e-12);
  close(out.metrics["rewards/input_margin_y2"]!, 0.25, 1e-12);
  const mixed = computeLoss(rec([1, 2, 0, -1]), lossParams({ name: "iopo" })); // a − b < 0, c − d > 0; a − d > 0, c − b < 0
  assert.equal(mixed.metrics["rewards/output_accuracies"], 0.5);
  assert.equal(mixed.metrics["rewards/input_accuracies"], 0.5);
  // dL/dz·dz/dρ: dL/d(βz) = −(1 − σ(0.45)); dz/da = 1, db = −1, dc = 1, dd = −1.
  const g = -(1 - 1 / (1 + Math.exp(-0.45))) * 0.1;
  assert.deepEqual(
    [...out.dlogp].map((x) => Number(x.toFixed(12))),
    [g, -g, g, -g].map((x) => Number(x.toFixed(12))),
  );
});

test("IOPO is unchanged when (x1, y1) and (x2, y2) swap roles", () => {
  const p = lossParams({ name: "iopo", beta: 0.3 });
  const [a, b, c, d] = [-4.2, -6.1, -3.3, -8.0];
  const ref = [-4, -6, -3.5, -7.5];
  const one = computeLoss(rec([a, b, c, d], ref), p);
  const two = computeLoss(rec([c, d, a, b], [ref[2]!, ref[3]!, ref[0]!, ref[1]!]), p);
  close(one.loss, two.loss, 1e-12);
});

test("IOPO* uses Π1 only: changing c leaves it unchanged, changing a does not", () => {
  const p = lossParams({ name: "iopo-star" });
  const base = computeLoss(rec([1, 2, 3, 4]), p).loss;
  close(computeLoss(rec([1, 2, 30, 4]), p).loss, base, 1e-12);
  assert.notEqual(computeLoss(rec([2, 2, 3, 4]), p).loss, base);
  close(base, Math.log1p(Math.exp(-0.1 * (2 * 1 - 2 - 4))), 1e-12);
});

test("ablations on both halves: w/o input preference (a − b, c − d), w/o output preference (a − d, c − b)", () => {
  const [a, b, c, d] = [1, -1, 5, 2];
  const r = rec([a, b, c, d]);
  const nls = (z: number) => Math.log1p(Math.exp(-0.1 * z)); // −log σ(βz)
  close(computeLoss(r, lossParams({ name: "iopo-no-input" })).loss, (nls(a - b) + nls(c - d)) / 2, 1e-12);
  close(computeLoss(r, lossParams({ name: "iopo-no-output" })).loss, (nls(a - d) + nls(c - b)) / 2, 1e-12);
  // Margins are the mean of the two halves: (2 + 3)/2 and (−1 + 6)/2.
  close(computeLoss(r, lossParams({ name: "iopo-no-input" })).metrics["rewards/margins"]!, 0.1 * 2.5, 1e-12);
  close(computeLoss(r, lossParams({ name: "iopo-no-output" })).metrics["rewards/margins"]!, 0.1 * 2.5, 1e-12);
  // DPO* is the group as two DPO pairs (x1: y1 ≻ y2), (x2: y2 ≻ y1): the same objective as w/o input preference.
  close(computeLoss(r, lossParams({ name: "dpo-star" })).loss, (nls(a - b) + nls(c - d)) / 2, 1e-12);
});

test("SimPO by hand: −log σ(β(lp_w/|y_w| − lp_l/|y_l|) − γ), no reference", () => {
  const r = rec([-10, -12], [-99, -99], [5, 4]); // the reference is ignored
  const u = 2 * (-10 / 5 - -12 / 4) - 1; // β = 2, γ = 1: 2·(−2 + 3) − 1 = 1
  const out = computeLoss(r, lossParams({ name: "simpo" }));
  close(out.loss, Math.log1p(Math.exp(-u)), 1e-12);
  close(out.metrics["rewards/margins"]!, 2 * 1, 1e-12);
});

test("ORPO by hand: NLL of the chosen (token mean) − λ log σ(log odds(y_w) − log odds(y_l))", () => {
  const r = rec([-1, -3], [-99, -99], [2, 3]); // mean token log-probs −0.5 and −1
  const odds = (m: number) => m - Math.log(1 - Math.exp(m));
  const lor = odds(-0.5) - odds(-1);
  const out = computeLoss(r, lossParams({ name: "orpo", orpo_lambda: 0.25 }));
  close(out.loss, 0.5 + 0.25 * Math.log1p(Math.exp(-lor)), 1e-12);
  close(out.metrics.log_odds_ratio!, lor, 1e-12);
});

test("DPO: sigmoid with label smoothing, hinge and IPO by hand", () => {
  const r = rec([-10, -14], [-11, -12]); // ρ_w = 1, ρ_l = −2, z = 3
  const bz = 0.1 * 3;
  close(computeLoss(r, lossParams({ name: "dpo" })).loss, Math.log1p(Math.exp(-bz)), 1e-12);
  const eps = 0.2;
  close(
    computeLoss(r, lossParams({ name: "dpo", label_smoothing: eps })).loss,
    (1 - eps) * Math.log1p(Math.exp(-bz)) + eps * Math.log1p(Math.exp(bz)),
    1e-12,
  );
  close(computeLoss(r, lossParams({ name: "dpo", form: "hinge" })).loss, 1 - bz, 1e-12);
  close(computeLoss(r, lossParams({ name: "dpo", form: "ipo" })).loss, (3 - 1 / 0.2) ** 2, 1e-12);
  assert.throws(() => lossParams({ name: "dpo", form: "hinge", label_smoothing: 0.1 }), /sigmoid form only/);
});

test("the SFT term adds γ times the preferred responses' mean token NLL", () => {
  const r = rec([-10, -3, -20, -1], [-10, -3, -20, -1], [5, 2, 10, 1]);
  const out = computeLoss(r, lossParams({ name: "iopo", sft_weight: 0.5 }));
  close(out.loss, LN2 + 0.5 * (10 / 5 + 20 / 10), 1e-12);
});

test("gradients match central finite differences for every loss and form", () => {
  const base = [-4.2, -6.1, -3.3, -8.0];
  const ref = [-4, -6.5, -3.5, -7.5];
  for (const name of LOSS_NAMES) {
    const forms = LOSSES[name].score === "rho" ? (["sigmoid", "hinge", "ipo"] as const) : [undefined];
    for (const form of forms) {
      const n = LOSSES[name].kind === "group" ? 4 : LOSSES[name].kind === "pair" ? 2 : 1;
      const extra =
        name === "simpo"
          ? { beta: 2.5, simpo_gamma: 0.7, sft_weight: 0.3 }
          : name === "orpo"
            ? { orpo_lambda: 0.4 }
            : {};
      const p = lossParams(form ? { name, form, beta: 0.7, sft_weight: 0.3 } : { name, ...extra });
      const r = rec(base.slice(0, n), ref.slice(0, n), [3, 4, 5, 6].slice(0, n));
      const g = computeLoss(r, p).dlogp;
      for (let i = 0; i < n; i++) {
        const h = 1e-6;
        const up = [...r.logp];
        const down = [...r.logp];
        up[i]! += h;
        down[i]! -= h;
        const fd = (computeLoss({ ...r, logp: up }, p).loss - computeLoss({ ...r, logp: down }, p).loss) / (2 * h);
        close(g[i]!, fd, 1e-6, `${name}/${form} d${i}`);
      }
    }
  }
});

test("the stable log-sigmoid does not overflow on large margins", () => {
  const out = computeLoss(rec([500, -500], [0, 0]), lossParams({ name: "dpo", beta: 1 }));
  assert.ok(Number.isFinite(out.loss) && out.loss >= 0 && out.loss < 1e-300 + 1e-12);
  const bad = computeLoss(rec([-500, 500], [0, 0]), lossParams({ name: "dpo", beta: 1 }));
  close(bad.loss, 1000, 1e-9);
});
