// The trainer end to end on the tiny golden models: the PyTorch AdamW loss trajectories (IOPO and DPO), gradient
// accumulation equivalence, stop-and-resume bit-identity, the NaN/inf guard and the reference-cache hit.

import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tokenizedFromIds } from "../../src/train/collate.ts";
import { train } from "../../src/train/trainer.ts";
import { asGroups, asPairs, config, golden, quietLogger, tmp } from "./helpers.ts";

for (const name of ["qwen2-tiny", "llama-tiny"]) {
  for (const method of ["iopo", "dpo"] as const) {
    test(`${name}: 10 AdamW steps of ${method} through train() follow the PyTorch trajectory`, async () => {
      const { expected, groups, policy, reference } = await golden(name);
      const o = expected.trajectory.optimizer;
      const out = await tmp("traj");
      const logger = quietLogger();
      await train({
        config: config({
          method,
          out,
          ref_cache: join(out, "cache"),
          lr: o.lr,
          adam_beta1: o.betas[0],
          adam_beta2: o.betas[1],
          adam_eps: o.eps,
          weight_decay: o.weight_decay,
          schedule: "constant",
          warmup: 0,
          clip: 0,
          batch: groups.length,
          accum: 1,
          max_steps: 10,
          beta: expected.beta,
        }),
        model: policy,
        reference,
        records: method === "iopo" ? asGroups(groups) : asPairs(groups),
        logger,
      });
      const want: number[] = expected.trajectory[method].losses;
      const gotLoss = logger.steps.map((m) => m.loss!);
      const gotNorm = logger.steps.map((m) => m.grad_norm!);
      const worst = Math.max(...gotLoss.map((l, i) => Math.abs(l - want[i]!)));
      console.log(`${name} ${method}: trajectory max |Δloss| ${worst.toExponential(2)}`);
      for (const [i, l] of gotLoss.entries())
        assert.ok(Math.abs(l - want[i]!) <= 1e-5, `step ${i}: ${l} vs ${want[i]}`);
      gotNorm.forEach((g, i) => {
        const w = expected.trajectory[method].grad_norms[i];
        assert.ok(Math.abs(g - w) / w <= 2e-3, `step ${i}: grad norm ${g} vs ${w}`);
      });
    });
  }
}

const BASE = { lr: 5e-4, schedule: "constant", warmup: 0, clip: 0, weight_decay: 0.1, beta: 0.1 } as const;

test("gradient accumulation: 1 record × 3 micro-batches equals 3 records × 1", async () => {
  const { groups, policy, reference } = await golden("qwen2-tiny");
  const run = async (batch: number, accum: number) => {
    const out = await tmp("accum");
    const logger = quietLogger();
    const r = await train({
      config: config({ method: "iopo", out, ref_cache: join(out, "cache"), ...BASE, batch, accum, max_steps: 4 }),
      model: policy,
      reference,
      records: asGroups(groups),
      logger,
    });
    return { params: r.params, losses: logger.steps.map((m) => m.loss!) };
  };
  const big = await run(3, 1);
  const small = await run(1, 3);
  for (const [i, l] of big.losses.entries())
    assert.ok(Math.abs(l - small.losses[i]!) <= 1e-6, `step ${i}: ${l} vs ${small.losses[i]}`);
  let worst = 0;
  for (const [i, p] of big.params.entries())
    for (const [j, v] of p.entries()) worst = Math.max(worst, Math.abs(v - small.params[i]![j]!));
  console.log(`accumulation: max |Δparam| after 4 steps ${worst.toExponential(2)}`);
  // Each step moves a weight by up to lr = 5e-4; fp32 summation order (padding to different lengths) leaves ~1e-6.
  assert.ok(worst <= 1e-5, `params differ by ${worst}`);
  // And the accumulated run really took different micro-batches: 3 records, one per micro-batch.
  assert.equal(big.losses.length, 4);
});

test("stopped at step 3 and resumed to 7 ends bit-identical to an uninterrupted run to 7", async () => {
  const { groups, policy, reference } = await golden("llama-tiny");
  const records = asGroups(groups);
  // batch 1 × accum 2 over 3 records: epochs end mid-step and reshuffle, so the data order and rng state matter.
  const common = {
    method: "iopo",
    ...BASE,
    schedule: "cosine",
    warmup: 2,
    clip: 1,
    batch: 1,
    accum: 2,
    max_steps: 7,
    seed: 5,
  } as const;
  const outA = await tmp("resumeA");
  const a = await train({
    config: config({ ...common, out: outA, ref_cache: join(outA, "cache") }),
    model: policy,
    reference,
    records,
    logger: quietLogger(),
  });
  const outB = await tmp("resumeB");
  const cache = join(outB, "cache");
  await train({
    config: config({ ...common, out: outB, ref_cache: cache, stop_at: 3 }),
    model: policy,
    reference,
    records,
    logger: quietLogger(),
  });
  assert.deepEqual(
    (await readdir(outB)).filter((n) => n.startsWith("checkpoint-")),
    ["checkpoint-3"],
  );
  const logger = quietLogger();
  const b = await train({
    config: config({ ...common, out: outB, ref_cache: cache, resume: true }),
    model: policy,
    reference,
    records,
    logger,
  });
  assert.ok(logger.lines.some((l) => l.includes("resumed from") && l.includes("checkpoint-3")));
  assert.equal(b.steps, 7);
  for (const [i, p] of a.params.entries())
    assert.ok(Buffer.from(p.buffer).equals(Buffer.from(b.params[i]!.buffer)), `tensor ${i} differs`);
  const lossesOf = async (out: string) =>
    (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).loss as number);
  assert.deepEqual(await lossesOf(outB), await lossesOf(outA));
  const mA = await readFile(join(outA, "checkpoint-7", "model.safetensors"));
  const mB = await readFile(join(outB, "checkpoint-7", "model.safetensors"));
  assert.ok(mA.equals(mB), "final model.safetensors differ");
});

test("NaN/inf guard: stops with a clear message and keeps the last good checkpoint", async () => {
  const { groups, policy, reference } = await golden("qwen2-tiny");
  const out = await tmp("nan");
  // An absurd learning rate blows the weights up after the first update; the second forward overflows.
  const cfg = config({
    method: "iopo",
    out,
    ref_cache: join(out, "cache"),
    ...BASE,
    lr: 1e30,
    batch: 3,
    accum: 1,
    max_steps: 5,
    save_every: 1,
  });
  await assert.rejects(
    train({ config: cfg, model: policy, reference, records: asGroups(groups), logger: quietLogger() }),
    (err: Error) =>
      /non-finite (loss|gradient norm) at step 2/.test(err.message) && err.message.includes("checkpoint-1"),
  );
  const dirs = (await readdir(out)).filter((n) => n.startsWith("checkpoint-"));
  assert.deepEqual(dirs, ["checkpoint-1"]);
  assert.ok((await stat(join(out, "checkpoint-1", "manifest.json"))).isFile());
});

test("reference cache: a second run and DPO over the same (x1, y1)/(x1, y2) do no reference forward", async () => {
  const { groups, policy, reference } = await golden("qwen2-tiny");
  const cache = join(await tmp("cache"), "ref");
  const once = async (method: "iopo" | "dpo") => {
    const out = await tmp("cachehit");
    const r = await train({
      config: config({ method, out, ref_cache: cache, ...BASE, batch: 3, accum: 1, max_steps: 1 }),
      model: policy,
      reference,
      records: method === "iopo" ? asGroups(groups) : asPairs(groups),
      logger: quietLogger(),
    });
    return r.ref;
  };
  assert.deepEqual(await once("iopo"), { computed: 12, cached: 0 });
  assert.deepEqual(await once("iopo"), { computed: 0, cached: 12 });
  assert.deepEqual(await once("dpo"), { computed: 0, cached: 6 });
});

test("SFT has no preference term, so it computes no reference log-probs", async () => {
  const { groups, policy, reference } = await golden("qwen2-tiny");
  const out = await tmp("sft-noref");
  const logger = quietLogger();
  const r = await train({
    config: config({ method: "sft", out, ref_cache: join(out, "cache"), ...BASE, batch: 3, accum: 1, max_steps: 2 }),
    model: policy,
    reference,
    records: groups.map((g, i) => tokenizedFromIds(`e${i}`, "example", [g.x1], [g.y1])),
    logger,
  });
  assert.deepEqual(r.ref, { computed: 0, cached: 0 });
  assert.ok(logger.lines.some((l) => /reference log-probs: not needed/.test(l)));
  assert.equal(logger.steps.length, 2);
});
