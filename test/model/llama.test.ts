// The Llama/Qwen2 forward graph and the one training step (src/train/step.ts) against the PyTorch golden fixtures
// (test/fixtures/golden, from scripts/golden/gen_golden.py): logits, the four log-probs per group, IOPO and DPO
// losses, every parameter's gradient norm, and a 10-step AdamW trajectory. Prints the worst relative error.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { batchFeeds, forward, llamaInputs, loadModelDir, paramFeeds } from "../../src/model/index.ts";
import { lossParams, resolveLoss, type TokenizedRecord, TrainStep, tokenizedFromIds } from "../../src/train/index.ts";

const ORDER = ["y1|x1", "y2|x1", "y2|x2", "y1|x2"] as const;
interface Group {
  x1: number[];
  y1: number[];
  x2: number[];
  y2: number[];
}
const logSigmoid = (x: number) => -Math.log1p(Math.exp(-x));

async function golden(name: string) {
  const dir = new URL(`../fixtures/golden/${name}/`, import.meta.url).pathname;
  const expected = JSON.parse(readFileSync(`${dir}expected.json`, "utf8"));
  const groups: Group[] = readFileSync(`${dir}tokens.jsonl`, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const policy = await loadModelDir(`${dir}policy`);
  const reference = await loadModelDir(`${dir}reference`);
  const cfg = policy.config;
  const G = groups.length;
  const records: TokenizedRecord[] = groups.map((g, i) =>
    tokenizedFromIds(`g${i}`, "group", [g.x1, g.x2], [g.y1, g.y2]),
  );
  return { expected, groups, policy, reference, cfg, records, G };
}

/** The one training step for the fixture: IOPO with the fixture's β, one micro-batch of every group, no clipping. */
async function stepOf(
  policy: Awaited<ReturnType<typeof loadModelDir>>,
  beta: number,
  o = { lr: 0, wd: 0, b: [0.9, 0.999], eps: 1e-8 },
) {
  return TrainStep.create(
    policy.config,
    policy.params.table,
    policy.params.tensors.map((t) => Float32Array.from(t)),
    resolveLoss(lossParams({ name: "iopo", beta })),
    { batch: 64, clip: 0, threads: 2, adam: { beta1: o.b[0]!, beta2: o.b[1]!, eps: o.eps, weightDecay: o.wd } },
  );
}

/** Reference log-probs per record (4 per group). */
async function refOf(step: TrainStep, reference: Awaited<ReturnType<typeof loadModelDir>>, records: TokenizedRecord[]) {
  const lp = await step.logps(
    reference.params.tensors,
    records.flatMap((r) => r.seqs),
  );
  return records.map((_, i) => Float64Array.from(lp.subarray(4 * i, 4 * i + 4)));
}

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);

for (const name of ["llama-tiny", "qwen2-tiny"]) {
  test(`${name}: logits, log-probs, losses and gradient norms match PyTorch`, async () => {
    const { expected, policy, reference, records } = await golden(name);
    const tol = expected.tolerances;
    const step = await stepOf(policy, expected.beta);
    const ref = await refOf(step, reference, records);
    const refLp = Float32Array.from(ref.flatMap((r) => [...r]));
    const g0 = await step.gradients(records, ref);
    const lp = Float32Array.from(g0.lp.flatMap((r) => [...r]));
    let worst = 0;
    const groups: { lp: Record<string, number>; ref_lp: Record<string, number>; dpo_loss: number }[] =
      expected.policy_vs_reference.groups;
    for (const [i, g] of groups.entries()) {
      for (const [j, k] of ORDER.entries())
        worst = Math.max(worst, rel(lp[4 * i + j], g.lp[k]), rel(refLp[4 * i + j], g.ref_lp[k]));
      // DPO on x1 with y1 preferred: z = ρ(y1|x1) − ρ(y2|x1).
      const dpo = -logSigmoid(expected.beta * (lp[4 * i] - refLp[4 * i] - (lp[4 * i + 1] - refLp[4 * i + 1])));
      assert.ok(Math.abs(dpo - g.dpo_loss) <= tol.loss_abs, `group ${i} dpo ${dpo} vs ${g.dpo_loss}`);
    }
    assert.ok(worst <= tol.lp_rel, `log-prob rel error ${worst}`);
    const loss = g0.loss;
    assert.ok(
      Math.abs(loss - expected.policy_vs_reference.mean_iopo_loss) <= tol.loss_abs,
      `iopo loss ${loss} vs ${expected.policy_vs_reference.mean_iopo_loss}`,
    );
    let worstGrad = 0;
    const byKey = new Map(step.table.map((row, i) => [row.key, step.opt.grads[i]!]));
    for (const [key, want] of Object.entries(expected.policy_vs_reference.grad_norms as Record<string, number>)) {
      const g = byKey.get(key)!;
      assert.ok(g, `no gradient for ${key}`);
      const norm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      worstGrad = Math.max(worstGrad, rel(norm, want));
      assert.ok(rel(norm, want) <= tol.grad_norm_rel, `${key}: grad norm ${norm} vs ${want}`);
    }
    console.log(
      `${name}: max rel err log-probs ${worst.toExponential(2)}, grad norms ${worstGrad.toExponential(2)}, loss ${Math.abs(loss - expected.policy_vs_reference.mean_iopo_loss).toExponential(2)}`,
    );
    await step.close();
  });

  test(`${name}: logits of one sequence match PyTorch`, async () => {
    const { expected, policy, cfg } = await golden(name);
    const { graph, result } = E.trace(() => {
      const { params, batch } = llamaInputs(cfg);
      return forward(cfg, params, batch);
    });
    const prog = await E.Program.create(E.toOnnx(graph, { logits: result }), { threads: 2 });
    const toks: number[] = expected.logits.tokens;
    const out = await prog.run({
      ...batchFeeds(cfg, [{ prompt: toks, response: [] }]),
      ...paramFeeds(policy.params.table, policy.params.tensors),
    });
    const got = out.logits as Float32Array;
    const want: number[] = expected.logits.policy;
    assert.equal(got.length, want.length);
    const maxErr = want.reduce((m, w, i) => Math.max(m, Math.abs(got[i] - w)), 0);
    assert.ok(maxErr <= expected.tolerances.logits_abs, `logits max abs err ${maxErr}`);
    await prog.release();
  });

  test(`${name}: 10 AdamW steps of IOPO follow the PyTorch loss trajectory`, async () => {
    const { expected, policy, reference, records } = await golden(name);
    const o = expected.trajectory.optimizer;
    const step = await stepOf(policy, expected.beta, { lr: o.lr, wd: o.weight_decay, b: o.betas, eps: o.eps });
    const ref = await refOf(step, reference, records);
    const losses: number[] = [];
    for (let s = 0; s < 10; s++) losses.push((await step.run(records, ref, o.lr)).loss);
    losses.push((await step.gradients(records, ref)).loss);
    const want = [...expected.trajectory.iopo.losses, expected.trajectory.iopo.loss_after];
    const diffs = losses.map((l, i) => Math.abs(l - want[i]));
    console.log(`${name}: trajectory max |Δloss| ${Math.max(...diffs).toExponential(2)}`);
    for (const [i, d] of diffs.entries()) assert.ok(d <= 1e-5, `step ${i}: loss ${losses[i]} vs ${want[i]}`);
    await step.close();
  });
}
