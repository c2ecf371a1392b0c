// `--engine torch` beside the embedded engine: a run stopped by one engine is resumed by the other (checkpoint,
// trainer state, moments and reference cache are shared), the NaN/inf guard stops before the update naming the last
// good checkpoint, and a sharded bfloat16 model directory (as released 7B checkpoints are) trains alike on both
// engines and is saved in bfloat16. Real Python ranks.

import assert from "node:assert/strict";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadModelDir, readSafetensors, writeSafetensors } from "../../src/model/index.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { weightsHash } from "../../src/train/refcache.ts";
import { trainTorch, weightsHashOfDir } from "../../src/train/torch/index.ts";
import { train } from "../../src/train/trainer.ts";
import { asGroups, config, golden, goldenDir, quietLogger, tmp } from "./helpers.ts";

const NAME = "llama-tiny";

async function both(engine: "ort" | "torch", o: Partial<TrainConfig> & { out: string }, model?: string) {
  const { groups, policy, reference } = await golden(NAME);
  const dir = model ?? `${goldenDir(NAME)}policy`;
  const c = config({
    method: "iopo",
    model: dir,
    ref: `${goldenDir(NAME)}reference`,
    lr: 5e-4,
    weight_decay: 0.1,
    schedule: "cosine",
    warmup: 1,
    clip: 1,
    batch: 1,
    accum: 2,
    max_steps: 6,
    seed: 5,
    ...o,
  });
  const logger = quietLogger();
  const records = asGroups(groups);
  if (engine === "ort") {
    const m = model ? await loadModelDir(model) : policy;
    await train({ config: c, model: m, reference, records, logger });
  } else {
    const cfg = model ? (await loadModelDir(model)).config : policy.config;
    await trainTorch({
      config: { ...c, engine: "torch" },
      modelConfig: cfg,
      records,
      logger,
      refHash: weightsHash(reference.config, reference.params),
    });
  }
  return logger;
}

const metrics = async (out: string) =>
  (await readFile(join(out, "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number>);

test("stopped by the embedded engine at step 3, resumed by --engine torch to 6: the uninterrupted run", async () => {
  const dir = await tmp("interop");
  const cache = join(dir, "cache");
  await both("ort", { out: join(dir, "full"), ref_cache: cache });
  const out = join(dir, "mixed");
  await both("ort", { out, ref_cache: cache, stop_at: 3 });
  const logger = await both("torch", { out, ref_cache: cache, resume: true });
  assert.ok(logger.lines.some((l) => /resumed from .*checkpoint-3 at step 3/.test(l)));
  // The reference log-probs the embedded engine computed are reused (the same cache key).
  assert.ok(logger.lines.some((l) => l.includes("reference log-probs: 0 computed, 12 from the cache")));
  const [a, b] = [await metrics(join(dir, "full")), await metrics(out)];
  assert.equal(b.length, 6);
  for (const [i, m] of a.entries())
    for (const k of ["loss", "grad_norm", "lr", "epoch", "rewards/margins"])
      assert.ok(Math.abs(m[k]! - b[i]![k]!) <= 1e-5 * Math.max(1, Math.abs(m[k]!)), `step ${i + 1} ${k}`);
  const A = await readSafetensors(join(dir, "full", "checkpoint-6", "model.safetensors"));
  const B = await readSafetensors(join(out, "checkpoint-6", "model.safetensors"));
  for (const [k, t] of A.tensors) {
    const u = B.tensors.get(k)!.data;
    let n2 = 0;
    let d2 = 0;
    for (let i = 0; i < t.data.length; i++) {
      n2 += t.data[i]! ** 2;
      d2 += (t.data[i]! - u[i]!) ** 2;
    }
    assert.ok(Math.sqrt(d2 / n2) <= 1e-5, `${k}: ${Math.sqrt(d2 / n2)}`);
  }
  const sa = JSON.parse(await readFile(join(dir, "full", "checkpoint-6", "trainer_state.json"), "utf8"));
  const sb = JSON.parse(await readFile(join(out, "checkpoint-6", "trainer_state.json"), "utf8"));
  assert.deepEqual(sb, sa, "the trainer state continues exactly (order, rng, epoch, cursor, tokens)");
});

test("NaN/inf guard: --engine torch stops before the update and names the last good checkpoint", async () => {
  const dir = await tmp("tnan");
  const out = join(dir, "run");
  const err = await both("torch", {
    out,
    ref_cache: join(dir, "cache"),
    lr: 1e30,
    batch: 3,
    accum: 1,
    save_every: 1,
  }).then(
    () => null,
    (e: unknown) => e as Error,
  );
  assert.ok(err, "the run failed");
  assert.match(err.message, /non-finite (loss|gradient norm) at step 2 .*stopped without updating/);
  assert.match(err.message, /HINT: the last good checkpoint is .*checkpoint-1; lower --lr/);
  assert.deepEqual(
    (await readdir(out)).filter((n) => n.startsWith("checkpoint-")),
    ["checkpoint-1"],
  );
});

test("a sharded bfloat16 model directory: the same hash and losses on both engines, saved in bfloat16", async () => {
  const dir = await tmp("shards");
  const model = join(dir, "model");
  await cp(`${goldenDir(NAME)}policy`, model, { recursive: true });
  const cfg = JSON.parse(await readFile(join(model, "config.json"), "utf8"));
  await writeFile(join(model, "config.json"), JSON.stringify({ ...cfg, torch_dtype: "bfloat16" }));
  const { tensors } = await readSafetensors(join(model, "model.safetensors"));
  const names = [...tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  const weightMap: Record<string, string> = {};
  for (const [i, part] of shards.entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(
      join(model, file),
      part.map((n) => ({ name: n, shape: tensors.get(n)!.shape, data: tensors.get(n)!.data, dtype: "BF16" as const })),
    );
    for (const n of part) weightMap[n] = file;
  }
  await writeFile(join(model, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const { rm } = await import("node:fs/promises");
  await rm(join(model, "model.safetensors"));
  const loaded = await loadModelDir(model);
  assert.equal(await weightsHashOfDir(model, loaded.config), weightsHash(loaded.config, loaded.params));
  const cache = join(dir, "cache");
  const ort = await both("ort", { out: join(dir, "ort"), ref_cache: cache, max_steps: 3 }, model);
  const torch = await both("torch", { out: join(dir, "torch"), ref_cache: cache, max_steps: 3 }, model);
  for (const [i, m] of ort.steps.entries())
    assert.ok(Math.abs(m.loss! - torch.steps[i]!.loss!) <= 1e-5, `step ${i + 1}: ${m.loss} vs ${torch.steps[i]!.loss}`);
  const saved = await readSafetensors(join(dir, "torch", "checkpoint-3", "model.safetensors"));
  assert.ok(
    [...saved.tensors.values()].every((t) => t.dtype === "BF16"),
    "saved in the config's dtype",
  );
  const savedCfg = JSON.parse(await readFile(join(dir, "torch", "checkpoint-3", "config.json"), "utf8"));
  assert.equal(savedCfg.torch_dtype, "bfloat16");
});
