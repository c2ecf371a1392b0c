// Checkpoints: the layout, the latest-step lookup, round trip of moments and state, and errors that name the file
// with a HINT on a format or architecture mismatch.

import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { createModel } from "../../src/model/index.ts";
import { latestCheckpoint, loadCheckpoint, paramTableHash, saveCheckpoint } from "../../src/train/index.ts";
import { corpus, tmp } from "./helpers.ts";

test("save → latest → load round-trips moments and state; mismatches name the file with a HINT", async () => {
  const out = await tmp("ckpt");
  const model = createModel(corpus(), {
    arch: "llama",
    vocabSize: 300,
    hidden: 16,
    layers: 1,
    heads: 2,
    kvHeads: 2,
    intermediate: 32,
    seed: 1,
  });
  const { table, tensors } = model.params;
  const m = tensors.map((t) => t.map((_, i) => i * 0.5));
  const v = tensors.map((t) => t.map((_, i) => i * 0.25));
  const state = {
    step: 4,
    epoch: 1,
    cursor: 2,
    order: [2, 0, 1],
    rng: [1, 2, 3, 4] as [number, number, number, number],
    total_steps: 9,
    tokens: 123,
  };
  await saveCheckpoint(out, model, { m, v, t: 4 }, { ...state, step: 2 }, { method: "iopo" }, 0.5);
  const dir = await saveCheckpoint(out, model, { m, v, t: 4 }, state, { method: "iopo" }, 0.4);
  await mkdir(join(out, "checkpoint-9")); // an unfinished directory without a manifest is not a checkpoint
  assert.equal(await latestCheckpoint(out), dir);
  assert.equal((await readdir(out)).filter((n) => n.startsWith(".")).length, 0, "no temporary directories left");
  const ck = await loadCheckpoint(dir, table);
  assert.deepEqual(ck.state, state);
  assert.equal(ck.manifest.adam_t, 4);
  assert.equal(ck.manifest.param_table_hash, paramTableHash(table));
  assert.deepEqual(ck.m[1], m[1]);
  assert.deepEqual(ck.v.at(-1), v.at(-1));
  const other = createModel(corpus(), {
    arch: "llama",
    vocabSize: 300,
    hidden: 16,
    layers: 2,
    heads: 2,
    kvHeads: 2,
    intermediate: 32,
    seed: 1,
  });
  await assert.rejects(
    loadCheckpoint(dir, other.params.table),
    /manifest\.json: checkpoint is of another architecture[\s\S]*HINT/,
  );
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ format: "something-else", version: 1 }));
  await assert.rejects(loadCheckpoint(dir, table), /manifest\.json: checkpoint file has the wrong format[\s\S]*HINT/);
});
