// Checkpoints: the layout, the latest-step lookup, round trip of moments and state, and errors that name the file
// with a HINT on a format or architecture mismatch.

import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { createModel, initLora, loadModelDir, loraTable } from "../../src/model/index.ts";
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
  const weights = { kind: "model", model } as const;
  await saveCheckpoint(out, weights, { m, v, t: 4 }, { ...state, step: 2 }, { method: "iopo" }, 0.5);
  const dir = await saveCheckpoint(out, weights, { m, v, t: 4 }, state, { method: "iopo" }, 0.4);
  await mkdir(join(out, "checkpoint-9")); // an unfinished directory without a manifest is not a checkpoint
  assert.equal(await latestCheckpoint(out), dir);
  assert.equal((await readdir(out)).filter((n) => n.startsWith(".")).length, 0, "no temporary directories left");
  const ck = await loadCheckpoint(dir, table);
  assert.deepEqual(ck.state, state);
  assert.equal(ck.manifest.adam_t, 4);
  assert.equal(ck.manifest.param_table_hash, paramTableHash(table));
  assert.deepEqual(ck.m[1], m[1]);
  assert.deepEqual(ck.v.at(-1), v.at(-1));
  assert.deepEqual(ck.weights, tensors);
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

test("a bfloat16 model is checkpointed in bfloat16 with float32 masters (exact resume); LoRA as a PEFT adapter", async () => {
  const out = await tmp("ckpt-bf16");
  const base = createModel(corpus(), {
    arch: "qwen2",
    vocabSize: 300,
    hidden: 16,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    intermediate: 32,
    seed: 2,
  });
  const model = { ...base, config: { ...base.config, torch_dtype: "bfloat16" } };
  const { table, tensors } = model.params;
  const zeros = tensors.map((t) => new Float32Array(t.length));
  const state = {
    step: 1,
    epoch: 0,
    cursor: 1,
    order: [0],
    rng: [1, 2, 3, 4] as [number, number, number, number],
    total_steps: 2,
    tokens: 5,
  };
  const dir = await saveCheckpoint(out, { kind: "model", model }, { m: zeros, v: zeros, t: 1 }, state, {}, null);
  const files = await readdir(dir);
  assert.ok(files.includes("master.safetensors") && files.includes("model.safetensors"), files.join(", "));
  const saved = await loadModelDir(dir);
  assert.equal(saved.config.torch_dtype, "bfloat16");
  assert.ok(
    saved.params.tensors.some((t, i) => t.some((x, j) => x !== tensors[i]![j])),
    "bf16 rounds some weights",
  );
  assert.deepEqual((await loadCheckpoint(dir, table)).weights, tensors, "the masters are exact");

  const spec = { rank: 2, alpha: 4, dropout: 0, targets: ["q_proj", "v_proj"] as const };
  const lora = initLora(loraTable(base.config, { ...spec, targets: [...spec.targets] }), 1);
  const lz = lora.tensors.map((t) => new Float32Array(t.length));
  const adir = await saveCheckpoint(
    join(out, "lora"),
    {
      kind: "adapter",
      spec: { ...spec, targets: [...spec.targets] },
      params: lora,
      base: "/models/base",
      files: base.files,
    },
    { m: lz, v: lz, t: 1 },
    state,
    {},
    null,
  );
  const afiles = await readdir(adir);
  for (const f of ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "tokenizer.json"])
    assert.ok(afiles.includes(f), `${f} in ${afiles.join(", ")}`);
  assert.ok(!afiles.includes("config.json"), "an adapter directory, not a model directory");
  assert.deepEqual((await loadCheckpoint(adir, lora.table)).weights, lora.tensors);
});
