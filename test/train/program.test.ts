// The in-graph loss of the training program equals the pure loss family (losses.ts) for every method, form,
// label smoothing and SFT weight, on real log-probs of the tiny golden model.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  computeLoss,
  graphLoss,
  LOSS_NAMES,
  LOSSES,
  type LossParams,
  lossParams,
  TrainPrograms,
} from "../../src/train/index.ts";
import { asGroups, asPairs, golden } from "./helpers.ts";

const CASES: Record<string, unknown>[] = [
  ...LOSS_NAMES.filter((n) => n !== "sft").flatMap((name) => [
    { name },
    { name, form: "hinge" },
    { name, form: "ipo", beta: 0.5 },
    { name, label_smoothing: 0.1, sft_weight: 0.3 },
  ]),
  { name: "sft" },
];

test("in-graph loss equals computeLoss for every method and form", async () => {
  const { groups, policy, reference } = await golden("qwen2-tiny");
  const progs = new Map<number, TrainPrograms>();
  let worst = 0;
  for (const raw of CASES) {
    const p: LossParams = lossParams(raw as { name: string });
    const g = graphLoss(p);
    const kind = LOSSES[p.name].kind;
    const records =
      kind === "group"
        ? asGroups(groups)
        : kind === "pair"
          ? asPairs(groups)
          : asPairs(groups).map((r) => ({ ...r, seqs: r.seqs.slice(0, 1) }));
    const key = `${p.name}/${"form" in p ? p.form : ""}/${"label_smoothing" in p ? p.label_smoothing : ""}`;
    const prog = await TrainPrograms.create(policy.config, g, 2);
    progs.set(progs.size, prog);
    const seqs = records.flatMap((r) => r.seqs);
    const ref = await prog.logps(reference.params.tensors, seqs);
    const R = records.length;
    const tokens = seqs.reduce((a, s) => a + s.response.length, 0);
    const nll = new Float32Array(seqs.length);
    const pref = [0, 2];
    records.forEach((r, i) => {
      if (p.name === "sft") nll[i] = 1 / tokens;
      else if (p.sft_weight)
        for (const s of g.S === 4 ? pref : [0]) nll[i * g.S + s] = p.sft_weight / R / r.seqs[s]!.response.length;
    });
    const out = await prog.step(policy.params.tensors, {
      seqs,
      ref,
      nllWeight: nll,
      recordWeight: new Float32Array(R).fill(1 / R),
    });
    let want = 0;
    records.forEach((r, i) => {
      const res = computeLoss(
        {
          logp: [...out.lp.subarray(i * g.S, (i + 1) * g.S)],
          ref: [...ref.subarray(i * g.S, (i + 1) * g.S)],
          tokens: r.seqs.map((s) => s.response.length),
        },
        p,
      );
      want += p.name === "sft" ? res.loss / tokens : res.loss / R;
    });
    const err = Math.abs(out.loss - want);
    worst = Math.max(worst, err / Math.max(1, Math.abs(want)));
    assert.ok(err <= 1e-5 * Math.max(1, Math.abs(want)), `${key}: graph ${out.loss} vs computeLoss ${want}`);
    assert.ok(out.grads.every((gr) => gr.every(Number.isFinite)));
    await prog.release();
  }
  console.log(`${CASES.length} loss configurations: max rel diff graph vs computeLoss ${worst.toExponential(2)}`);
});
