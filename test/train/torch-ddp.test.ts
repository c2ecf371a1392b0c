// Data parallel `--engine torch` with real Python ranks on the CPU (gloo): --nproc 2 equals --nproc 1 with twice the
// accumulation (same global batch); a rank killed with SIGKILL mid-run ends the run naming the rank and its exit;
// --resume then finishes bit-identical to an uninterrupted run. Also --print-launch and the CLI end to end.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { IopoError } from "../../src/errors.ts";
import { readSafetensors } from "../../src/model/index.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { runTraining } from "../../src/train/index.ts";
import { trainTorch, weightsHashOfDir } from "../../src/train/torch/index.ts";
import { asGroups, config, golden, goldenDir, quietLogger, tinyModel, tmp, writeCaseGroups } from "./helpers.ts";

const NAME = "llama-tiny";
const BIN = new URL("../../bin/iopo.js", import.meta.url).pathname;

async function run(o: Partial<TrainConfig> & { out: string }, cache: string, logger = quietLogger()) {
  const { groups, policy, reference } = await golden(NAME);
  const c = config({
    method: "iopo",
    engine: "torch",
    model: `${goldenDir(NAME)}policy`,
    ref: `${goldenDir(NAME)}reference`,
    ref_cache: cache,
    lr: 5e-4,
    weight_decay: 0.1,
    schedule: "cosine",
    warmup: 1,
    clip: 1,
    batch: 1,
    max_steps: 6,
    seed: 3,
    ...o,
  });
  const r = await trainTorch({
    config: c,
    modelConfig: policy.config,
    records: asGroups(groups),
    logger,
    refHash: await weightsHashOfDir(`${goldenDir(NAME)}reference`, reference.config),
  });
  return { r, logger };
}

const lossesOf = async (out: string) =>
  (await readFile(join(out, "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number>);

/** The pid of rank `rank` of the job in `out` (a process this test started, found by its job file and RANK). */
async function rankPid(out: string, rank: number): Promise<number | null> {
  const job = join(out, "torch", "job.json");
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = (await readFile(`/proc/${d}/cmdline`, "utf8")).split("\0");
      if (!cmd.includes(job) || !cmd.includes("iopo_torch")) continue;
      const env = (await readFile(`/proc/${d}/environ`, "utf8")).split("\0");
      if (env.includes(`RANK=${rank}`)) return Number(d);
    } catch {
      // a process that ended meanwhile
    }
  }
  return null;
}

test("--nproc 2 equals --nproc 1 with twice the accumulation; a rank killed mid-run; --resume finishes identical", async () => {
  const dir = await tmp("ddp");
  const cache = join(dir, "cache");
  await run({ out: join(dir, "one"), nproc: 1, accum: 2, save_every: 2 }, cache);
  const two = await run({ out: join(dir, "two"), nproc: 2, accum: 1, save_every: 2 }, cache);
  assert.ok(two.logger.lines.some((l) => l.includes("2 rank(s)")));
  const [m1, m2] = [await lossesOf(join(dir, "one")), await lossesOf(join(dir, "two"))];
  assert.equal(m1.length, 6);
  assert.equal(m2.length, 6);
  for (const [i, a] of m1.entries())
    for (const k of ["loss", "grad_norm", "rewards/margins", "logps/y1x1", "lr", "tokens_prompt"])
      assert.ok(Math.abs(a[k]! - m2[i]![k]!) <= 1e-5 * Math.max(1, Math.abs(a[k]!)), `step ${i + 1} ${k}`);
  const A = await readSafetensors(join(dir, "one", "checkpoint-6", "model.safetensors"));
  const B = await readSafetensors(join(dir, "two", "checkpoint-6", "model.safetensors"));
  let worst = 0;
  for (const [k, t] of A.tensors) {
    const u = B.tensors.get(k)!.data;
    let n2 = 0;
    let d2 = 0;
    for (let i = 0; i < t.data.length; i++) {
      n2 += t.data[i]! ** 2;
      d2 += (t.data[i]! - u[i]!) ** 2;
    }
    worst = Math.max(worst, Math.sqrt(d2 / n2));
  }
  console.log(`nproc 2 vs nproc 1 × accum 2: max ‖Δw‖/‖w‖ ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-5, `weights differ: ${worst}`);

  // Kill rank 1 after the checkpoint of step 2, then resume.
  const out = join(dir, "killed");
  process.env.IOPO_TORCH_STEP_DELAY = "0.4";
  const killed = run({ out, nproc: 2, accum: 1, save_every: 2 }, cache).then(
    () => null,
    (e: unknown) => e,
  );
  let pid: number | null = null;
  for (let i = 0; i < 600 && pid === null; i++) {
    await new Promise((s) => setTimeout(s, 100));
    const ready = await stat(join(out, "checkpoint-2", "manifest.json")).then(
      () => true,
      () => false,
    );
    if (ready) pid = await rankPid(out, 1);
  }
  assert.ok(pid !== null, "rank 1 was running after checkpoint-2");
  process.kill(pid, "SIGKILL");
  const err = await killed;
  delete process.env.IOPO_TORCH_STEP_DELAY;
  assert.ok(err instanceof IopoError, `expected the run to fail, got ${String(err)}`);
  assert.match(err.message, /PyTorch rank 1 of 2 died \(killed by SIGKILL \(exit code 137\)\); the run stopped/);
  assert.match(err.message, /HINT: .*--resume/);
  const resumed = await run({ out, nproc: 2, accum: 1, save_every: 2, resume: true }, cache);
  assert.ok(resumed.logger.lines.some((l) => /resumed from .*checkpoint-[24] at step [24]/.test(l)));
  assert.equal(resumed.r.steps, 6);
  assert.deepEqual(
    (await lossesOf(out)).map((m) => m.loss),
    m2.map((m) => m.loss),
  );
  const a = await readFile(join(dir, "two", "checkpoint-6", "model.safetensors"));
  const b = await readFile(join(out, "checkpoint-6", "model.safetensors"));
  assert.ok(a.equals(b), "resumed weights are bit-identical to the uninterrupted run");
  const oa = await readFile(join(dir, "two", "checkpoint-6", "optimizer.safetensors"));
  const ob = await readFile(join(out, "checkpoint-6", "optimizer.safetensors"));
  assert.ok(oa.equals(ob), "and so are the AdamW moments");
});

test("--print-launch: torchrun and srun lines for 4 machines × 8 ranks; the plan uses the global batch", async () => {
  const dir = await tmp("launch");
  await tinyModel(join(dir, "model"));
  const data = join(dir, "groups.jsonl");
  await writeCaseGroups(data, 40);
  const out = join(dir, "run");
  const logger = quietLogger();
  const c = config({
    method: "sft-star",
    engine: "torch",
    model: join(dir, "model"),
    data,
    out,
    batch: 1,
    accum: 2,
    nproc: 8,
    nnodes: 4,
    epochs: 1,
    print_launch: true,
  });
  const r = await runTraining(c, logger);
  assert.equal(r.steps, 0);
  const job = join(out, "torch", "job.json");
  const text = logger.lines.join("\n");
  assert.match(text, new RegExp(`torchrun --nnodes 4 --nproc-per-node 8 .*-m iopo_torch train ${job}`));
  assert.match(
    text,
    new RegExp(`srun --nodes 4 --ntasks-per-node 8 .*RANK=\\$SLURM_PROCID.*-m iopo_torch train ${job}`),
  );
  const plan = JSON.parse(await readFile(join(out, "torch", "plan.json"), "utf8"));
  // 80 SFT examples (two per group), 1 × 2 per rank × 32 ranks = 64 per step: 2 steps, the second with 16.
  assert.deepEqual(
    plan.steps.map((s: { records: number[] }) => s.records.length),
    [64, 16],
  );
  await assert.rejects(stat(join(out, "checkpoint-1")), "nothing was trained");
});

test("CLI: iopo train --engine torch --nproc 2 writes the same metrics keys and a loadable checkpoint", async () => {
  const dir = await tmp("tcli");
  await tinyModel(join(dir, "model"));
  const data = join(dir, "groups.jsonl");
  await writeCaseGroups(data, 4);
  const out = join(dir, "run");
  const { stdout, stderr } = await promisify(execFile)("node", [
    BIN,
    "train",
    "--engine",
    "torch",
    "--nproc",
    "2",
    "--method",
    "iopo",
    "--model",
    join(dir, "model"),
    "--data",
    data,
    "--out",
    out,
    "--lr",
    "1e-3",
    "--batch",
    "1",
    "--accum",
    "1",
    "--epochs",
    "1",
    "--ref-cache",
    join(dir, "cache"),
    "--json",
  ]);
  const summary = JSON.parse(stdout);
  assert.equal(summary.steps, 2);
  assert.match(stderr, /step 2\/2 loss \d\.\d{4} out /);
  assert.match(stderr, /reference log-probs: 16 computed, 0 from the cache/);
  const m = await lossesOf(out);
  assert.ok("rewards/output_margin_x1" in m[0]! && "rewards/input_accuracies" in m[1]!);
  const cfg = JSON.parse(await readFile(join(out, "train_config.json"), "utf8"));
  assert.equal(cfg.engine, "torch");
  assert.equal(cfg.nproc, 2);
  const { loadModelDir } = await import("../../src/model/index.ts");
  const model = await loadModelDir(join(out, "checkpoint-2"));
  assert.ok(model.files["tokenizer.json"] !== undefined, "the checkpoint carries the tokenizer");
});
