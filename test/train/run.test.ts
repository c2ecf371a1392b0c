// Runs from files: the CLI smoke run (child process, exits 0, writes manifest, metrics and the effective config),
// truncation reporting, and IOPO from a fresh model learning hand-made groups (loss below ln 2, accuracy above 0.5).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { runTraining } from "../../src/train/index.ts";
import { config, quietLogger, tinyModel, tmp, writeCaseGroups } from "./helpers.ts";

const run = promisify(execFile);
const BIN = new URL("../../bin/iopo.js", import.meta.url).pathname;

async function dataset(dir: string, n: number): Promise<string> {
  const path = join(dir, "groups.jsonl");
  await writeCaseGroups(path, n);
  return path;
}

test("CLI smoke run: iopo train exits 0 and writes manifest, metrics and train_config.json", async () => {
  const dir = await tmp("cli");
  await tinyModel(join(dir, "model"));
  const data = await dataset(dir, 4);
  const out = join(dir, "run");
  const args = [
    "train",
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
  ];
  const { stdout, stderr } = await run("node", [
    BIN,
    ...args,
    "--batch",
    "2",
    "--accum",
    "1",
    "--epochs",
    "1",
    "--ref-cache",
    join(dir, "cache"),
    "--threads",
    "1",
    "--json",
  ]);
  const summary = JSON.parse(stdout);
  assert.equal(summary.steps, 2);
  assert.match(stderr, /truncation: none of 4 records/);
  assert.match(stderr, /config: \{"method":"iopo"/);
  const manifest = JSON.parse(await readFile(join(out, "checkpoint-2", "manifest.json"), "utf8"));
  assert.equal(manifest.format, "iopo-checkpoint");
  assert.equal(manifest.step, 2);
  for (const f of [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "optimizer.safetensors",
    "trainer_state.json",
  ])
    await readFile(join(out, "checkpoint-2", f));
  const metrics = (await readFile(join(out, "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    metrics.map((m) => m.step),
    [1, 2],
  );
  for (const k of [
    "loss",
    "lr",
    "grad_norm",
    "tokens_per_s",
    "rewards/output_margin_x1",
    "rewards/input_margin_y1",
    "rewards/accuracies",
  ])
    assert.ok(Number.isFinite(metrics[0][k]), `metric ${k}`);
  const saved = JSON.parse(await readFile(join(out, "train_config.json"), "utf8"));
  assert.equal(saved.lr, 1e-3);
  assert.equal(saved.accum, 1);
  // A bad flag is a usage error (exit 2) naming the flag.
  await assert.rejects(
    run("node", [BIN, ...args, "--batch", "two"]),
    (e: { code: number; stderr: string }) => e.code === 2 && /--batch/.test(e.stderr),
  );
});

test("truncation is counted and reported at the start of a run", async () => {
  const dir = await tmp("trunc");
  await tinyModel(join(dir, "model"));
  const data = await dataset(dir, 3);
  const logger = quietLogger();
  const r = await runTraining(
    config({
      method: "sft-star",
      model: join(dir, "model"),
      data,
      out: join(dir, "run"),
      max_len: 24,
      max_steps: 1,
      batch: 3,
      accum: 1,
      ref_cache: join(dir, "cache"),
    }),
    logger,
  );
  assert.equal(r.truncation.records, 6); // SFT*: each group gives the examples (x1, y1) and (x2, y2)
  assert.ok(r.truncation.truncated > 0 && r.truncation.promptTokensCut > 0, JSON.stringify(r.truncation));
  assert.ok(r.truncation.longest <= 24);
  assert.ok(
    logger.lines.some((l) => /truncation: 6 of 6 records cut to --max-len 24/.test(l)),
    logger.lines.join("\n"),
  );
});

test("IOPO from a fresh model drives the loss below ln 2 and the reward accuracy above 0.5", async () => {
  const dir = await tmp("learn");
  await tinyModel(join(dir, "model"), 3);
  const data = await dataset(dir, 8);
  const logger = quietLogger();
  await runTraining(
    config({
      method: "iopo",
      model: join(dir, "model"),
      data,
      out: join(dir, "run"),
      lr: 3e-3,
      warmup: 0,
      batch: 4,
      accum: 1,
      epochs: 6,
      ref_cache: join(dir, "cache"),
    }),
    logger,
  );
  const last = logger.steps.slice(-4);
  const mean = (k: string) => last.reduce((a, m) => a + m[k]!, 0) / last.length;
  console.log(
    `IOPO on 8 groups: first loss ${logger.steps[0]!.loss!.toFixed(4)}, last-4 mean ${mean("loss").toFixed(4)}, accuracy ${mean("rewards/accuracies")}`,
  );
  assert.ok(mean("loss") < Math.log(2), `loss ${mean("loss")}`);
  assert.ok(mean("rewards/accuracies") > 0.5, `accuracy ${mean("rewards/accuracies")}`);
  assert.ok(mean("rewards/input_accuracies") > 0.5 && mean("rewards/output_accuracies") > 0.5);
});
