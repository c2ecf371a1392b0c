// A LoRA base held in half precision (model/hfdir.ts keepHalf, engine/half.ts): a BF16 or F16 checkpoint's matrices
// load as their 16-bit patterns (norm gains as Float32), carry the Float32 load's values and weights hash, and the
// LoRA training step on them — reference log-probs, log-probs, loss, adapter gradients, two AdamW updates — equals
// the same step on the Float32 load, with and without checkpointing and shared prefix. `iopo train --lora-rank` on
// a BF16 model says how the base is held, and the memory estimate counts it at 2 bytes per weight.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  countParams,
  decodeToF32,
  estimateMemory,
  type HeldTensor,
  holdsHalf,
  initLora,
  isHalfTensor,
  loadModelDir,
  loraTable,
  paramTable,
  saveModelDir,
} from "../../src/model/index.ts";
import { trainMemoryRun } from "../../src/train/fits.ts";
import { lossParams, resolveLoss, runTraining, TrainStep } from "../../src/train/index.ts";
import { weightsHash } from "../../src/train/refcache.ts";
import { asGroups, config, golden, tinyModel, tmp, writeCaseGroups } from "./helpers.ts";

const OPTS = { batch: 4, clip: 1, threads: 2, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } };
const SPEC = { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj", "o_proj", "down_proj"] as const };

const asF32 = (t: HeldTensor): Float32Array =>
  isHalfTensor(t)
    ? decodeToF32(new Uint8Array(t.bits.buffer), t.dtype === "bfloat16" ? "BF16" : "F16", t.bits.length)
    : t;

for (const [name, dtype] of [
  ["qwen2-tiny", "BF16"],
  ["llama-tiny", "F16"],
] as const)
  test(`${name}: a ${dtype} checkpoint loaded for LoRA keeps its matrices but the head's as stored, with the Float32 load's values and weights hash`, async () => {
    const { policy } = await golden(name);
    const dir = join(await tmp("half-load"), "m");
    await saveModelDir(dir, policy, { dtype });
    const [held, f32] = [await loadModelDir(dir, { keepHalf: true }), await loadModelDir(dir)];
    for (const [i, row] of held.params.table.entries()) {
      const t = held.params.tensors[i]!;
      // Matrices as stored, except the head's (a [V, C] float32 temporary every step if upcast).
      const head = policy.config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
      const half = row.shape.length >= 2 && row.key !== head;
      assert.equal(isHalfTensor(t), half, `${row.key} held as ${isHalfTensor(t) ? t.dtype : "F32"}`);
      if (isHalfTensor(t)) assert.equal(t.dtype, dtype === "BF16" ? "bfloat16" : "float16");
      assert.deepEqual(asF32(t), f32.params.tensors[i], row.key);
    }
    assert.equal(weightsHash(held.config, held.params), weightsHash(f32.config, f32.params));
  });

for (const [name, dtype, checkpoint, sharedPrefix] of [
  ["qwen2-tiny", "BF16", false, false],
  ["qwen2-tiny", "BF16", true, true],
  ["llama-tiny", "F16", false, true],
  ["llama-tiny", "BF16", true, false],
  ["qwen2-tiny", "F16", true, false],
] as const)
  test(`${name} ${dtype}${checkpoint ? ", checkpointed" : ""}${sharedPrefix ? ", shared prefix" : ""}: the LoRA step on the half-precision base equals the Float32 base`, async () => {
    const { groups, policy } = await golden(name);
    const dir = join(await tmp("half-step"), "m");
    await saveModelDir(dir, policy, { dtype });
    const [held, f32] = [await loadModelDir(dir, { keepHalf: true }), await loadModelDir(dir)];
    assert.ok(held.params.tensors.some(isHalfTensor));
    const cfg = held.config;
    const records = asGroups(groups);
    const loss = resolveLoss(lossParams({ name: "iopo" }));
    const table = loraTable(cfg, { ...SPEC, targets: [...SPEC.targets] });
    const o = { ...OPTS, checkpoint, sharedPrefix };
    const run = async (base: readonly HeldTensor[]) => {
      const step = await TrainStep.create(cfg, table, initLora(table, 5).tensors, loss, o, { scale: 2, base });
      try {
        const lp = await step.logps(
          base,
          records.flatMap((r) => r.seqs),
        );
        const ref = records.map((_, i) => Float64Array.from(lp.subarray(4 * i, 4 * i + 4)));
        const first = await step.gradients(records, ref);
        const grads = step.opt.grads.map((g) => Float32Array.from(g));
        await step.run(records, ref, 1e-2);
        await step.run(records, ref, 1e-2);
        return { lp, first, grads, params: step.params.map((p) => Float32Array.from(p)) };
      } finally {
        await step.close();
      }
    };
    const [h, f] = [await run(held.params.tensors), await run(f32.params.tensors)];
    assert.deepEqual([...h.lp], [...f.lp], "reference log-probs");
    assert.equal(h.first.loss, f.first.loss);
    assert.deepEqual(h.first.lp, f.first.lp);
    for (const [i, g] of h.grads.entries()) assert.deepEqual(g, f.grads[i], `gradient of ${table[i]!.key}`);
    for (const [i, p] of h.params.entries()) assert.deepEqual(p, f.params[i], `${table[i]!.key} after two updates`);
  });

test("iopo train --lora-rank on a BF16 model holds the base in bfloat16, says so, and the estimate counts 2 bytes a weight", async () => {
  const root = await tmp("half-run");
  const model = join(root, "model");
  const tiny = await tinyModel(join(root, "f32"));
  await saveModelDir(model, tiny, { dtype: "BF16" });
  const data = join(root, "groups.jsonl");
  await writeCaseGroups(data, 4);
  const lines: string[] = [];
  const c = config({
    method: "iopo",
    model,
    data,
    out: join(root, "out"),
    max_steps: 2,
    batch: 2,
    lora_rank: 4,
    ref_cache: join(root, "cache"),
  });
  const r = await runTraining(c, { info: (l) => lines.push(l), step: () => {} });
  assert.equal(r.steps, 2);
  assert.ok(
    lines.some((l) => /base held as stored: \d+ matrices in bfloat16/.test(l)),
    lines.join("\n"),
  );
  // The estimate reads the stored dtypes: the BF16 directory holds half, the Float32 one and an adapter directory
  // (loaded merged into Float32) do not.
  assert.equal(await holdsHalf(model), true);
  assert.equal(await holdsHalf(join(root, "f32")), false);
  assert.equal(await holdsHalf(r.checkpoint), false);
  const cfg = tiny.config;
  const lora = estimateMemory(cfg, trainMemoryRun(c, true));
  const lora32 = estimateMemory(cfg, trainMemoryRun(c, false));
  // Held as stored, except the [V, C] head (float32).
  const P = countParams(paramTable(cfg));
  const [V, C] = [cfg.vocab_size, cfg.hidden_size];
  assert.equal(lora.parts.weights, 2 * (P - V * C) + 4 * V * C);
  assert.equal(lora32.parts.weights, 4 * P);
});
