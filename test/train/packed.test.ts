// Shared-prefix packing (model/packed.ts): IOPO groups as two rows x1 | y1 | y2 and x2 | y2 | y1, DPO pairs as one
// row, give the same log-probs, losses and gradients as the four- and two-sequence path, on both golden models.

import assert from "node:assert/strict";
import { test } from "node:test";
import { lossParams, resolveLoss, type TokenizedRecord, TrainStep } from "../../src/train/index.ts";
import { asGroups, asPairs, golden, relNormDiff } from "./helpers.ts";

const OPTS = { batch: 2, clip: 0, threads: 2, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } };

for (const name of ["llama-tiny", "qwen2-tiny"])
  for (const method of ["iopo", "dpo", "iopo-no-output"] as const)
    test(`${name} ${method}: shared-prefix rows equal separate sequences (log-probs, loss, gradients)`, async () => {
      const { groups, policy, reference } = await golden(name);
      const records: TokenizedRecord[] = method === "dpo" ? asPairs(groups) : asGroups(groups);
      const S = records[0]!.seqs.length;
      const loss = resolveLoss(lossParams({ name: method, sft_weight: 0.2 }));
      const run = async (sharedPrefix: boolean) => {
        const step = await TrainStep.create(
          policy.config,
          policy.params.table,
          policy.params.tensors.map((t) => Float32Array.from(t)),
          loss,
          { ...OPTS, sharedPrefix },
        );
        assert.equal(step.programs.packed, sharedPrefix);
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
      const packed = await run(true);
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
        `${name} ${method}: packed vs separate: loss ${rel(packed.loss, flat.loss).toExponential(1)}, log-probs ${worstLp.toExponential(1)}, gradients ${worstGrad.toExponential(1)}`,
      );
    });
