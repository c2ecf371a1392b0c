// The one training step: `iopo bench train` and `iopo train` run the same step (identical per-step losses on the
// same model, records and configuration), and pre-tokenized data (`--format tokens`) trains every record kind.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { BenchTrainOptionsSchema, benchSetup, benchTrain } from "../../src/cli/bench-train.ts";
import { runTraining, train } from "../../src/train/index.ts";
import { config, quietLogger, tinyModel, tmp } from "./helpers.ts";

const TINY = { vocab: 64, hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 24, prompt: 5, response: 4 };

for (const method of ["iopo", "dpo", "sft"] as const) {
  test(`${method}: iopo bench train and iopo train's loop give the same per-step losses`, async () => {
    const o = BenchTrainOptionsSchema.parse({ ...TINY, method, groups: 3, steps: 4, warmup: 0, profile: false });
    const bench = await benchTrain(o);
    assert.equal(bench.losses.length, 4);
    const { cfg, config: c, records, params } = benchSetup(o);
    const out = await tmp("samestep");
    const logger = quietLogger();
    const model = { config: cfg, params, files: {} };
    await train({
      config: { ...c, out, max_steps: 4, ref_cache: join(out, "cache") },
      model,
      reference: model,
      records,
      logger,
    });
    const losses = logger.steps.map((m) => m.loss!);
    assert.deepEqual(losses, bench.losses, "the two paths must run the very same step");
    assert.ok(losses[3]! < losses[0]!, `the loss falls: ${losses.join(", ")}`);
  });
}

test("--format tokens: groups, pairs and SFT examples as token ids; SFT* splits groups; ids are checked", async () => {
  const dir = await tmp("tokens");
  const m = await tinyModel(join(dir, "model"));
  const V = m.config.vocab_size;
  const ids = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i * 7 + k) % V);
  const files = {
    groups: [0, 1].map((k) => ({ x1: ids(6, k), y1: ids(3, k + 1), x2: ids(7, k + 2), y2: ids(4, k + 3) })),
    pairs: [0, 1, 2].map((k) => ({ prompt: ids(5, k), chosen: ids(3, k + 1), rejected: ids(4, k + 2) })),
    sft: [0, 1].map((k) => ({ prompt: ids(5, k), response: ids(3, k + 1) })),
  };
  for (const [name, lines] of Object.entries(files))
    await writeFile(join(dir, `${name}.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  const run = (method: "iopo" | "dpo" | "sft" | "sft-star", data: string, out: string) =>
    runTraining(
      config({
        method,
        model: join(dir, "model"),
        data: join(dir, data),
        out: join(dir, out),
        format: "tokens",
        max_steps: 1,
        batch: 1,
        accum: 2,
        ref_cache: join(dir, "cache"),
      }),
      quietLogger(),
    );
  assert.equal((await run("iopo", "groups.jsonl", "a")).truncation.records, 2);
  assert.equal((await run("dpo", "pairs.jsonl", "b")).truncation.records, 3);
  assert.equal((await run("sft", "sft.jsonl", "c")).truncation.records, 2);
  assert.equal((await run("sft-star", "groups.jsonl", "d")).truncation.records, 4);
  await assert.rejects(run("dpo", "groups.jsonl", "e"), /groups\.jsonl:1: --method dpo trains on pairs/);
  await writeFile(join(dir, "bad.jsonl"), `${JSON.stringify({ prompt: [1, 2], response: [V + 5] })}\n`);
  await assert.rejects(run("sft", "bad.jsonl", "f"), (e: Error) => {
    assert.match(e.message, /bad\.jsonl:1: a token id is outside the model's vocabulary/);
    assert.match(e.message, new RegExp(`got ${V + 5}`));
    return true;
  });
});
