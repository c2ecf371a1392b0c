// The in-graph loss of the one training step (step.ts → program.ts) equals the pure loss family (losses.ts) for
// every method of the table, form, label smoothing and SFT weight, on real log-probs of the tiny golden model.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  computeLoss,
  LOSS_NAMES,
  LOSSES,
  lossParams,
  needsReference,
  resolveLoss,
  TrainStep,
} from "../../src/train/index.ts";
import { asGroups, asPairs, golden } from "./helpers.ts";

const PREF = ["iopo", "iopo-star", "iopo-no-input", "iopo-no-output", "dpo-star", "dpo"];
const CASES: Record<string, unknown>[] = [
  ...PREF.flatMap((name) => [
    { name },
    { name, form: "hinge" },
    { name, form: "ipo", beta: 0.5 },
    { name, label_smoothing: 0.1, sft_weight: 0.3 },
  ]),
  { name: "simpo" },
  { name: "simpo", beta: 2.5, simpo_gamma: 1.4, sft_weight: 0.2 },
  { name: "orpo" },
  { name: "orpo", orpo_lambda: 0.5 },
  { name: "sft" },
  { name: "sft-star" },
];

test("every method of the loss table is covered by the cases", () => {
  for (const name of LOSS_NAMES)
    assert.ok(
      CASES.some((c) => c.name === name),
      name,
    );
});

test("in-graph loss of the training step equals computeLoss for every method and form", async () => {
  const { groups, policy, reference } = await golden("qwen2-tiny");
  let worst = 0;
  for (const raw of CASES) {
    const l = resolveLoss(lossParams(raw as { name: string }));
    const records =
      l.kind === "group"
        ? asGroups(groups)
        : l.kind === "pair"
          ? asPairs(groups)
          : asPairs(groups).map((r) => ({ ...r, seqs: r.seqs.slice(0, 1) }));
    const S = records[0]!.seqs.length;
    const step = await TrainStep.create(
      policy.config,
      policy.params.table,
      policy.params.tensors.map((t) => Float32Array.from(t)),
      l,
      // Two records per micro-batch: the step accumulates over micro-batches.
      { batch: 2, clip: 0, threads: 2, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } },
    );
    const seqs = records.flatMap((r) => r.seqs);
    const lp0 = needsReference(l.name)
      ? await step.logps(reference.params.tensors, seqs)
      : new Float32Array(seqs.length);
    const ref = records.map((_, i) => Float64Array.from(lp0.subarray(i * S, (i + 1) * S)));
    const out = await step.gradients(records, ref);
    const tokens = seqs.reduce((a, s) => a + s.response.length, 0);
    let want = 0;
    records.forEach((r, i) => {
      const res = computeLoss(
        { logp: [...out.lp[i]!], ref: [...ref[i]!], tokens: r.seqs.map((s) => s.response.length) },
        l,
      );
      want += l.norm === "tokens" ? res.loss / tokens : res.loss / records.length;
    });
    const err = Math.abs(out.loss - want) / Math.max(1, Math.abs(want));
    worst = Math.max(worst, err);
    assert.ok(err <= 1e-5, `${JSON.stringify(raw)}: graph ${out.loss} vs computeLoss ${want}`);
    assert.ok(out.gradNorm > 0 && Number.isFinite(out.gradNorm), `${JSON.stringify(raw)}: grad norm ${out.gradNorm}`);
    assert.equal(LOSSES[l.name].kind, l.kind);
    await step.close();
  }
  console.log(`${CASES.length} loss configurations: max rel diff graph vs computeLoss ${worst.toExponential(2)}`);
});
