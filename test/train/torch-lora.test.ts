// LoRA on `--engine torch` (real Python ranks): only adapter tensors are trained and saved, in the PEFT layout; the
// reference is the base with the adapters off (recomputed after training, the values equal the base's exactly); a
// LoRA run stopped and resumed ends bit-identical to an uninterrupted one; the merged model (model/lora.ts mergeLora,
// as `iopo merge-lora`) scores as the adapter model.

import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadAdapter, mergeLora, numel, readSafetensors } from "../../src/model/index.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { lossParams, resolveLoss } from "../../src/train/losses.ts";
import { TrainPrograms } from "../../src/train/program.ts";
import { weightsHash } from "../../src/train/refcache.ts";
import { adapterTable, loraOf, trainTorch } from "../../src/train/torch/index.ts";
import { train } from "../../src/train/trainer.ts";
import { asGroups, config, golden, goldenDir, quietLogger, tmp } from "./helpers.ts";

const NAME = "llama-tiny";

async function run(o: Partial<TrainConfig> & { out: string; ref_cache: string }) {
  const { groups, policy } = await golden(NAME);
  const logger = quietLogger();
  const c = config({
    method: "iopo",
    engine: "torch",
    model: `${goldenDir(NAME)}policy`,
    lr: 1e-2,
    schedule: "constant",
    warmup: 0,
    batch: 3,
    accum: 1,
    max_steps: 4,
    save_every: 2,
    lora_rank: 4,
    lora_alpha: 8,
    ...o,
  });
  const r = await trainTorch({
    config: c,
    modelConfig: policy.config,
    records: asGroups(groups),
    logger,
    refHash: weightsHash(policy.config, policy.params),
  });
  return { r, logger, c };
}

const cacheValues = async (dir: string) => {
  const [file] = await readdir(dir);
  return (await readFile(join(dir, file!), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { k: string; lp: number })
    .sort((a, b) => a.k.localeCompare(b.k));
};

test("LoRA: adapters only, PEFT layout, reference = adapters off, resume bit-identical", async () => {
  const dir = await tmp("lora");
  const { logger, c } = await run({ out: join(dir, "full"), ref_cache: join(dir, "cache1") });
  const { policy } = await golden(NAME);
  const table = adapterTable(policy.config, loraOf(c)!);
  assert.equal(table.length, 2 * 7 * policy.config.num_hidden_layers);
  const trainable = table.reduce((a, r) => a + numel(r.shape), 0);
  assert.ok(
    logger.lines.some((l) => l.includes(`${trainable} parameters`)),
    "only the adapter is trained",
  );
  // B = 0 at the start and the reference is the same base: the first margin is exactly 0, the loss ln 2.
  assert.ok(Math.abs(logger.steps[0]!.loss! - Math.log(2)) < 1e-7);
  assert.ok(logger.steps[3]!.loss! < logger.steps[0]!.loss!, "the adapters learn");

  const ck = join(dir, "full", "checkpoint-4");
  const files = (await readdir(ck)).sort();
  assert.ok(files.includes("adapter_config.json") && files.includes("adapter_model.safetensors"));
  assert.ok(!files.includes("model.safetensors"), "the base is not copied");
  const acfg = JSON.parse(await readFile(join(ck, "adapter_config.json"), "utf8"));
  assert.equal(acfg.peft_type, "LORA");
  assert.equal(acfg.r, 4);
  assert.equal(acfg.lora_alpha, 8);
  assert.deepEqual(acfg.target_modules, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]);
  const adapter = await readSafetensors(join(ck, "adapter_model.safetensors"));
  assert.deepEqual(
    [...adapter.tensors.keys()],
    table.map((r) => `base_model.model.${r.key}`),
  );
  const bNorm = [...adapter.tensors]
    .filter(([k]) => k.endsWith("lora_B.weight"))
    .reduce((a, [, t]) => a + t.data.reduce((s, x) => s + x * x, 0), 0);
  assert.ok(bNorm > 0, "B moved away from zero");
  const manifest = JSON.parse(await readFile(join(ck, "manifest.json"), "utf8"));
  assert.equal(manifest.adam_t, 4);

  // Stop at 2, resume to 4 with a fresh reference cache: the reference is recomputed with the trained adapters
  // off and equals the base's values exactly; the run ends bit-identical.
  const out = join(dir, "resumed");
  await run({ out, ref_cache: join(dir, "cache2"), stop_at: 2 });
  const resumed = await run({ out, ref_cache: join(dir, "cache3"), resume: true });
  assert.ok(resumed.logger.lines.some((l) => l.includes("reference log-probs: 12 computed")));
  assert.deepEqual(await cacheValues(join(dir, "cache3")), await cacheValues(join(dir, "cache1")));
  const a = await readFile(join(dir, "full", "checkpoint-4", "adapter_model.safetensors"));
  const b = await readFile(join(out, "checkpoint-4", "adapter_model.safetensors"));
  assert.ok(a.equals(b), "resumed adapter bit-identical");
  assert.deepEqual(
    resumed.logger.steps.map((m) => m.loss),
    logger.steps.slice(2).map((m) => m.loss),
  );
});

test("LoRA: the merged model (mergeLora, as iopo merge-lora) scores as the adapter model", async () => {
  const { groups, policy } = await golden(NAME);
  const dir = await tmp("lora2");
  const common = {
    method: "iopo",
    model: `${goldenDir(NAME)}policy`,
    lr: 1e-2,
    schedule: "constant",
    warmup: 0,
    batch: 3,
    accum: 1,
    max_steps: 5,
    lora_rank: 4,
    lora_alpha: 8,
    seed: 7,
  } as const;
  // Stopped after 4 steps, then step 5 scores the records with the step-4 adapter before updating.
  await run({ ...common, out: join(dir, "torch"), ref_cache: join(dir, "c2"), stop_at: 4, save_every: 0 });
  const torch = await run({ ...common, out: join(dir, "torch"), ref_cache: join(dir, "c2"), resume: true });
  assert.equal(torch.r.steps, 5);
  const torchSteps = (await readFile(join(dir, "torch", "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, number>);
  // Merge the step-4 adapter into the base (model/lora.ts mergeLora, as `iopo merge-lora`) and score the records
  // with the embedded engine: the torch ranks' step-5 log-probs (base + adapter) are the same numbers.
  const adapter = await loadAdapter(join(dir, "torch", "checkpoint-4"), policy.config);
  const merged = mergeLora(policy.params, adapter);
  const records = asGroups(groups);
  const programs = await TrainPrograms.create(policy.config, resolveLoss(lossParams({ name: "iopo" })), { threads: 2 });
  try {
    const lp = await programs.logps(
      merged.tensors,
      records.flatMap((r) => r.seqs),
    );
    const base = await programs.logps(
      policy.params.tensors,
      records.flatMap((r) => r.seqs),
    );
    ["logps/y1x1", "logps/y2x1", "logps/y2x2", "logps/y1x2"].forEach((name, s) => {
      const mean = (lp[s]! + lp[4 + s]! + lp[8 + s]!) / 3;
      const baseMean = (base[s]! + base[4 + s]! + base[8 + s]!) / 3;
      const got = torchSteps[4]![name]!;
      assert.ok(Math.abs(mean - got) <= 1e-5 * Math.abs(mean), `${name}: merged ${mean} vs adapter ${got}`);
      assert.ok(Math.abs(baseMean - got) > 1e-3, `${name}: the adapter changed the log-probs (${baseMean})`);
    });
  } finally {
    await programs.release();
  }
});

test("LoRA on both engines from the same initial adapter: the same losses and adapter weights", async () => {
  const { groups, policy } = await golden(NAME);
  const dir = await tmp("lora3");
  // The reference is the policy itself (ρ = 0 at step 1): this caught the engine's Max gradient at ties (a margin of
  // exactly 0 gave d log σ = 1.5 instead of 0.5), fixed by splitting ties evenly as PyTorch does.
  const common = {
    method: "iopo",
    model: `${goldenDir(NAME)}policy`,
    lr: 1e-2,
    schedule: "constant",
    warmup: 0,
    clip: 1,
    batch: 3,
    accum: 1,
    max_steps: 4,
    lora_rank: 4,
    lora_alpha: 8,
    lora_targets: "all-linear",
    seed: 7,
  } as const;
  const ort = quietLogger();
  await train({
    config: config({ ...common, out: join(dir, "ort"), ref_cache: join(dir, "c1") }),
    model: policy,
    reference: policy,
    records: asGroups(groups),
    logger: ort,
  });
  const { logger: torch } = await run({ ...common, out: join(dir, "torch"), ref_cache: join(dir, "c2") });
  assert.equal(torch.steps.length, 4);
  for (const [i, m] of ort.steps.entries())
    for (const k of ["loss", "grad_norm", "rewards/margins", "logps/y1x1"])
      assert.ok(
        Math.abs(m[k]! - torch.steps[i]![k]!) <= 1e-5 * Math.max(1, Math.abs(m[k]!)),
        `step ${i + 1} ${k}: ort ${m[k]} torch ${torch.steps[i]![k]}`,
      );
  const A = await readSafetensors(join(dir, "ort", "checkpoint-4", "adapter_model.safetensors"));
  const B = await readSafetensors(join(dir, "torch", "checkpoint-4", "adapter_model.safetensors"));
  assert.deepEqual([...A.tensors.keys()], [...B.tensors.keys()]);
  for (const [k, t] of A.tensors) {
    const u = B.tensors.get(k)!.data;
    let n2 = 0;
    let d2 = 0;
    for (let i = 0; i < t.data.length; i++) {
      n2 += t.data[i]! ** 2;
      d2 += (t.data[i]! - u[i]!) ** 2;
    }
    assert.ok(Math.sqrt(d2 / n2) <= 1e-5, `${k}: ‖Δ‖/‖w‖ ${Math.sqrt(d2 / n2)}`);
  }
});
