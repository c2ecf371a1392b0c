// Shared-prefix packing (model/packed.ts): IOPO groups as two rows y2 | x1 | y1 and y1 | x2 | y2, DPO pairs as one
// row, give the same log-probs, losses and gradients as the four- and two-sequence path, on both golden models, with
// one block-masked attention per row and with split attention; and where split attention is chosen.

import assert from "node:assert/strict";
import { test } from "node:test";
import { SPLIT_MIN_SCORES } from "../../src/model/index.ts";
import {
  lossParams,
  resolveLoss,
  stepOptions,
  type TokenizedRecord,
  TrainConfigSchema,
  TrainStep,
  tokenizedFromIds,
} from "../../src/train/index.ts";
import { asGroups, asPairs, golden, relNormDiff } from "./helpers.ts";

const OPTS = { batch: 2, clip: 0, threads: 2, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } };

for (const name of ["llama-tiny", "qwen2-tiny"])
  for (const method of ["iopo", "dpo", "iopo-no-output"] as const)
    test(`${name} ${method}: shared-prefix rows equal separate sequences (log-probs, loss, gradients), split or not`, async () => {
      const { groups, policy, reference } = await golden(name);
      const records: TokenizedRecord[] = method === "dpo" ? asPairs(groups) : asGroups(groups);
      const S = records[0]!.seqs.length;
      const loss = resolveLoss(lossParams({ name: method, sft_weight: 0.2 }));
      const run = async (sharedPrefix: boolean, splitAttention = false) => {
        const step = await TrainStep.create(
          policy.config,
          policy.params.table,
          policy.params.tensors.map((t) => Float32Array.from(t)),
          loss,
          { ...OPTS, sharedPrefix, splitAttention },
        );
        assert.equal(step.programs.packed, sharedPrefix);
        assert.equal(step.programs.split, sharedPrefix && splitAttention);
        const lp = await step.logps(
          reference.params.tensors,
          records.flatMap((r) => r.seqs),
        );
        const ref = records.map((_, i) => Float64Array.from(lp.subarray(i * S, (i + 1) * S)));
        const g = await step.gradients(records, ref);
        const grads = step.opt.grads.map((x) => Float32Array.from(x));
        await step.close();
        return { ...g, grads };
      };
      const flat = await run(false);
      for (const split of [false, true]) {
        const packed = await run(true, split);
        const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-3, Math.abs(b));
        assert.ok(rel(packed.loss, flat.loss) < 1e-5, `loss ${packed.loss} vs ${flat.loss}`);
        let worstLp = 0;
        for (const [i, l] of flat.lp.entries())
          for (const [s, v] of l.entries()) worstLp = Math.max(worstLp, rel(packed.lp[i]![s]!, v));
        assert.ok(worstLp < 1e-5, `log-probs differ by ${worstLp}`);
        let worstGrad = 0;
        for (const [k, g] of flat.grads.entries()) worstGrad = Math.max(worstGrad, relNormDiff(packed.grads[k]!, g));
        assert.ok(worstGrad < 1e-5, `gradients differ by ${worstGrad} (relative norm)`);
        console.log(
          `${name} ${method}${split ? ", split attention" : ""}: packed vs separate: loss ${rel(packed.loss, flat.loss).toExponential(1)}, log-probs ${worstLp.toExponential(1)}, gradients ${worstGrad.toExponential(1)}`,
        );
      }
    });

test("split attention is chosen where a row's second block holds SPLIT_MIN_SCORES scores (the median record)", () => {
  const rec = (prompt: number, response: number): TokenizedRecord =>
    tokenizedFromIds(
      "r",
      "group",
      [new Array(prompt).fill(1), new Array(prompt).fill(2)],
      [new Array(response).fill(3), new Array(response).fill(4)],
    );
  const config = TrainConfigSchema.parse({ method: "iopo", model: "m", data: "d", out: "o" });
  // R·S: 64·128 = 8,192 (no), 112·256 = 28,672 (yes), 317·730 = 231,410 (yes).
  assert.equal(stepOptions(config, [rec(64, 64)]).splitAttention, false);
  assert.equal(stepOptions(config, [rec(144, 112)]).splitAttention, true);
  assert.equal(stepOptions(config, [rec(413, 317)]).splitAttention, true);
  assert.ok(112 * 256 >= SPLIT_MIN_SCORES && 64 * 128 < SPLIT_MIN_SCORES);
  // The median record decides; without shared prefix there is nothing to split.
  assert.equal(stepOptions(config, [rec(64, 64), rec(413, 317), rec(413, 317)]).splitAttention, true);
  assert.equal(stepOptions(config, [rec(64, 64), rec(64, 64), rec(413, 317)]).splitAttention, false);
  assert.equal(stepOptions({ ...config, shared_prefix: false }, [rec(413, 317)]).splitAttention, false);
});
