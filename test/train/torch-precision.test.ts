// Precision and memory options of `--engine torch` on the CPU: --dtype bf16 (autocast, float32 master weights and
// moments) stays within 1e-2 of float32 over the first steps; --grad-checkpointing recomputes activations and gives
// the float32 run's losses and weights. Real Python ranks.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { readSafetensors } from "../../src/model/index.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { trainTorch, weightsHashOfDir } from "../../src/train/torch/index.ts";
import { asGroups, config, golden, goldenDir, quietLogger, tmp } from "./helpers.ts";

const NAME = "qwen2-tiny";

async function run(dir: string, name: string, o: Partial<TrainConfig>) {
  const { groups, policy, reference } = await golden(NAME);
  const logger = quietLogger();
  const out = join(dir, name);
  await trainTorch({
    config: config({
      method: "iopo",
      engine: "torch",
      model: `${goldenDir(NAME)}policy`,
      ref: `${goldenDir(NAME)}reference`,
      ref_cache: join(dir, "cache"),
      out,
      lr: 5e-4,
      schedule: "constant",
      warmup: 0,
      batch: 3,
      accum: 1,
      max_steps: 3,
      ...o,
    }),
    modelConfig: policy.config,
    records: asGroups(groups),
    logger,
    refHash: await weightsHashOfDir(`${goldenDir(NAME)}reference`, reference.config),
  });
  return {
    losses: logger.steps.map((m) => m.loss!),
    weights: await readSafetensors(join(out, "checkpoint-3", "model.safetensors")),
  };
}

test("--dtype bf16 within 1e-2 of fp32 (first 3 losses); --grad-checkpointing equals fp32", async () => {
  const dir = await tmp("precision");
  const fp32 = await run(dir, "fp32", {});
  const bf16 = await run(dir, "bf16", { dtype: "bf16" });
  const ckpt = await run(dir, "ckpt", { grad_checkpointing: true });
  console.log(`fp32 ${fp32.losses.join(" ")}\nbf16 ${bf16.losses.join(" ")}`);
  for (const [i, l] of fp32.losses.entries()) {
    assert.ok(Math.abs(bf16.losses[i]! - l) <= 1e-2, `bf16 step ${i + 1}: ${bf16.losses[i]} vs ${l}`);
    assert.ok(bf16.losses[i] !== l, "bf16 really computed in bf16");
    assert.ok(Math.abs(ckpt.losses[i]! - l) <= 1e-6, `checkpointing step ${i + 1}: ${ckpt.losses[i]} vs ${l}`);
  }
  // Master weights stay float32 and are saved in the config's dtype (F32 here).
  for (const [k, t] of fp32.weights.tensors) {
    assert.equal(bf16.weights.tensors.get(k)!.dtype, "F32");
    const u = ckpt.weights.tensors.get(k)!.data;
    for (let i = 0; i < t.data.length; i++) assert.ok(Math.abs(t.data[i]! - u[i]!) <= 1e-6, `${k}[${i}]`);
  }
});
