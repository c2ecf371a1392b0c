// The Llama/Qwen2 forward graph against the PyTorch golden fixtures (test/fixtures/golden, from
// scripts/golden/gen_golden.py): logits, the four log-probs per group, IOPO and DPO losses, every parameter's
// gradient norm, and a 10-step AdamW trajectory. Prints the worst relative error per quantity.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import {
  batchFeeds,
  forward,
  iopoLossGraph,
  llamaInputs,
  loadModelDir,
  paramFeeds,
  type ScoredSequence,
  sequenceLogps,
} from "../../src/model/index.ts";

const ORDER = ["y1|x1", "y2|x1", "y2|x2", "y1|x2"] as const;
interface Group {
  x1: number[];
  y1: number[];
  x2: number[];
  y2: number[];
}
const seqsOf = (g: Group): ScoredSequence[] => [
  { prompt: g.x1, response: g.y1 },
  { prompt: g.x1, response: g.y2 },
  { prompt: g.x2, response: g.y2 },
  { prompt: g.x2, response: g.y1 },
];
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
  // One program: summed log-probs of the 4G sequences, mean IOPO loss, gradients of every parameter.
  const { graph, result } = E.trace(() => {
    const ref = E.input("ref_logps", ["G", 4]);
    const { params, batch, table } = llamaInputs(cfg, "4*G");
    const lp = sequenceLogps(cfg, params, batch); // [4G]
    const loss = E.mul(E.reduceSum(iopoLossGraph(lp, E.reshape(ref, [-1]), expected.beta), [0]), 1 / G);
    const grads = E.grad(() => loss)(...params.values());
    return { lp, loss, ...Object.fromEntries(table.map((r, i) => [`grad:${r.key}`, grads[i]])) };
  });
  const prog = await E.Program.create(E.toOnnx(graph, result), { threads: 2 });
  const batch = batchFeeds(cfg, groups.flatMap(seqsOf));
  return { expected, groups, policy, reference, cfg, prog, batch, G };
}

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);

for (const name of ["llama-tiny", "qwen2-tiny"]) {
  test(`${name}: logits, log-probs, losses and gradient norms match PyTorch`, async () => {
    const { expected, policy, reference, prog, batch, G } = await golden(name);
    const tol = expected.tolerances;
    const zeros = { ref_logps: { data: new Float32Array(4 * G), dims: [G, 4] } };
    const refLp = (
      await prog.run({ ...batch, ...zeros, ...paramFeeds(reference.params.table, reference.params.tensors) })
    ).lp as Float32Array;
    const out = await prog.run({
      ...batch,
      ref_logps: { data: refLp, dims: [G, 4] },
      ...paramFeeds(policy.params.table, policy.params.tensors),
    });
    const lp = out.lp as Float32Array;
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
    const loss = (out.loss as Float32Array)[0];
    assert.ok(
      Math.abs(loss - expected.policy_vs_reference.mean_iopo_loss) <= tol.loss_abs,
      `iopo loss ${loss} vs ${expected.policy_vs_reference.mean_iopo_loss}`,
    );
    let worstGrad = 0;
    for (const [key, want] of Object.entries(expected.policy_vs_reference.grad_norms as Record<string, number>)) {
      const g = out[`grad:${key}`] as Float32Array;
      assert.ok(g, `no gradient for ${key}`);
      const norm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      worstGrad = Math.max(worstGrad, rel(norm, want));
      assert.ok(rel(norm, want) <= tol.grad_norm_rel, `${key}: grad norm ${norm} vs ${want}`);
    }
    console.log(
      `${name}: max rel err log-probs ${worst.toExponential(2)}, grad norms ${worstGrad.toExponential(2)}, loss ${Math.abs(loss - expected.policy_vs_reference.mean_iopo_loss).toExponential(2)}`,
    );
    await prog.release();
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
    const { expected, policy, reference, prog, batch, G } = await golden(name);
    const zeros = { ref_logps: { data: new Float32Array(4 * G), dims: [G, 4] } };
    const refLp = (
      await prog.run({ ...batch, ...zeros, ...paramFeeds(reference.params.table, reference.params.tensors) })
    ).lp as Float32Array;
    const table = policy.params.table;
    const tensors = policy.params.tensors.map((t) => Float32Array.from(t));
    const o = expected.trajectory.optimizer;
    const opt = new E.AdamW(
      table.map((r, i) => ({ data: tensors[i], decay: r.decay })),
      { lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weight_decay },
    );
    const losses: number[] = [];
    for (let s = 0; s <= 10; s++) {
      const out = await prog.run({ ...batch, ref_logps: { data: refLp, dims: [G, 4] }, ...paramFeeds(table, tensors) });
      losses.push((out.loss as Float32Array)[0]);
      if (s < 10) opt.step(table.map((r) => out[`grad:${r.key}`] as Float32Array));
    }
    const want = [...expected.trajectory.iopo.losses, expected.trajectory.iopo.loss_after];
    const diffs = losses.map((l, i) => Math.abs(l - want[i]));
    console.log(`${name}: trajectory max |Δloss| ${Math.max(...diffs).toExponential(2)}`);
    for (const [i, d] of diffs.entries()) assert.ok(d <= 1e-5, `step ${i}: loss ${losses[i]} vs ${want[i]}`);
    await prog.release();
  });
}
