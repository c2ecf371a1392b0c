// Every method of the loss table against an independent PyTorch computation (scripts/golden/losses_torch.py, each
// method written from its paper, float64 autograd): loss values and gradients in the log-probs, all forms.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { computeLoss, LOSS_NAMES, LOSSES, lossParams, type RecordLogps } from "../../src/train/index.ts";

const PYTHON = "/usr/bin/python3"; // Debian's python3-torch (scripts/test-deps.sh installs it)
const SCRIPT = new URL("../../scripts/golden/losses_torch.py", import.meta.url).pathname;

function cases(): { name: string; params: Record<string, unknown>; rec: RecordLogps }[] {
  const out: { name: string; params: Record<string, unknown>; rec: RecordLogps }[] = [];
  const lps = [
    [-14.2, -16.1, -13.3, -18.0],
    [-3.1, -2.2, -7.5, -1.4],
  ];
  const refs = [
    [-14, -16.5, -13.5, -17.5],
    [-3.3, -2.0, -7.1, -1.9],
  ];
  const tokens = [7, 5, 9, 4];
  for (const name of LOSS_NAMES) {
    const n = LOSSES[name].kind === "group" ? 4 : LOSSES[name].kind === "pair" ? 2 : 1;
    const params: Record<string, unknown>[] =
      LOSSES[name].score === "rho"
        ? [
            { beta: 0.1 },
            { beta: 0.7, form: "hinge" },
            { beta: 0.5, form: "ipo" },
            { beta: 0.3, label_smoothing: 0.15, sft_weight: 0.4 },
          ]
        : name === "simpo"
          ? [
              { beta: 2, simpo_gamma: 1 },
              { beta: 2.5, simpo_gamma: 0.4, sft_weight: 0.2 },
            ]
          : name === "orpo"
            ? [{ orpo_lambda: 0.1 }, { orpo_lambda: 1.5 }]
            : [{}];
    for (const p of params)
      for (const [i, lp] of lps.entries())
        out.push({
          name,
          params: lossParams({ name, ...p }) as unknown as Record<string, unknown>,
          rec: { logp: lp.slice(0, n), ref: refs[i]!.slice(0, n), tokens: tokens.slice(0, n) },
        });
  }
  return out;
}

test("every loss and its gradient equal an independent PyTorch computation", () => {
  const cs = cases();
  const input = cs.map((c) => ({ name: c.name, params: c.params, ...c.rec }));
  const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(input), encoding: "utf8" });
  assert.equal(r.status, 0, `${PYTHON} ${SCRIPT} failed (is python3-torch installed?): ${r.stderr}`);
  const want = JSON.parse(r.stdout) as { loss: number; dlogp: number[] }[];
  assert.equal(want.length, cs.length);
  let worst = 0;
  for (const [i, c] of cs.entries()) {
    const got = computeLoss(c.rec, lossParams({ name: c.name, ...c.params }));
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
    worst = Math.max(worst, rel(got.loss, want[i]!.loss));
    assert.ok(
      rel(got.loss, want[i]!.loss) < 1e-10,
      `${c.name} ${JSON.stringify(c.params)}: ${got.loss} vs ${want[i]!.loss}`,
    );
    for (const [s, g] of want[i]!.dlogp.entries()) {
      worst = Math.max(worst, rel(got.dlogp[s]!, g));
      assert.ok(rel(got.dlogp[s]!, g) < 1e-10, `${c.name} d${s}: ${got.dlogp[s]} vs ${g}`);
    }
  }
  console.log(
    `${cs.length} cases over ${LOSS_NAMES.length} methods: max rel diff vs PyTorch ${worst.toExponential(2)}`,
  );
});
