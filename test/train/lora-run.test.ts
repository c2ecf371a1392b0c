// LoRA runs of `iopo train` on the embedded engine: only adapter tensors change (PEFT layout checkpoints, the base
// untouched), stop-and-resume is bit-identical, an adapter directory loads as the merged model (`--model-dir`), and
// `iopo merge-lora` writes a model whose log-probs equal the adapter model's. Refusals name the flag.

import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadAdapter, loadModelDir } from "../../src/model/index.ts";
import { lossParams, resolveLoss, runTraining, TrainStep } from "../../src/train/index.ts";
import { runCli } from "../helpers/cli.ts";
import { config, quietLogger, tinyModel, tmp, writeCaseGroups } from "./helpers.ts";

async function setup(name: string) {
  const dir = await tmp(name);
  await tinyModel(join(dir, "model"));
  const data = join(dir, "groups.jsonl");
  await writeCaseGroups(data, 6);
  const run = (out: string, o: Record<string, unknown> = {}) =>
    runTraining(
      config({
        method: "iopo",
        model: join(dir, "model"),
        data,
        out: join(dir, out),
        lr: 5e-3,
        max_steps: 4,
        batch: 2,
        accum: 1,
        lora_rank: 4,
        lora_targets: "q_proj,v_proj,down_proj",
        ref_cache: join(dir, "cache"),
        ...o,
      }),
      quietLogger(),
    );
  return { dir, data, run };
}

test("LoRA IOPO: adapter-only checkpoints, bit-identical resume, adapter dirs as models, merge-lora", async () => {
  const { dir, run } = await setup("lora-run");
  const baseBefore = await readFile(join(dir, "model", "model.safetensors"));
  const full = await run("full");
  assert.equal(full.steps, 4);
  const files = await readdir(full.checkpoint);
  assert.ok(files.includes("adapter_model.safetensors") && !files.includes("model.safetensors"), files.join(", "));
  assert.deepEqual(await readFile(join(dir, "model", "model.safetensors")), baseBefore, "the base is never written");
  const base = await loadModelDir(join(dir, "model"));
  const adapter = await loadAdapter(full.checkpoint, base.config);
  assert.equal(adapter.base, join(dir, "model"));
  assert.equal(adapter.params.table.length, 2 * 3 * base.config.num_hidden_layers);
  assert.ok(
    adapter.params.tensors.some((t, i) => i % 2 === 1 && t.some((x) => x !== 0)),
    "B moved away from zero",
  );

  // Stop at step 2, resume: the same adapter as the uninterrupted run, bit for bit.
  await run("split", { stop_at: 2 });
  const resumed = await run("split", { resume: true });
  const a = await loadAdapter(resumed.checkpoint, base.config);
  for (const [i, t] of a.params.tensors.entries()) assert.deepEqual(t, adapter.params.tensors[i], `tensor ${i}`);

  // The adapter directory loads as the merged model; merge-lora writes the same model.
  const merged = await loadModelDir(full.checkpoint);
  const out = join(dir, "merged");
  const r = await runCli([
    "merge-lora",
    "--model",
    join(dir, "model"),
    "--adapter",
    full.checkpoint,
    "--out",
    out,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const written = await loadModelDir(out);
  // Log-probs of the adapter model (the LoRA training graph) and of the merged directory agree.
  const loss = resolveLoss(lossParams({ name: "iopo" }));
  const seqs = [
    { prompt: [5, 6, 7, 8], response: [9, 10, 11] },
    { prompt: [12, 13], response: [14, 15, 16, 17] },
  ];
  const scoreOf = async (tensors: Float32Array[]) => {
    const s = await TrainStep.create(written.config, written.params.table, tensors, loss, {
      batch: 1,
      clip: 0,
      threads: 2,
      adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    });
    const lp = await s.logps(tensors, seqs);
    await s.close();
    return [...lp];
  };
  const fromDir = await scoreOf(merged.params.tensors);
  const fromMerge = await scoreOf(written.params.tensors);
  const fromBase = await scoreOf(base.params.tensors);
  for (const [i, v] of fromMerge.entries()) {
    assert.ok(Math.abs(v - fromDir[i]!) <= 1e-5 * Math.abs(v), `merged ${v} vs adapter dir ${fromDir[i]}`);
    assert.ok(Math.abs(v - fromBase[i]!) > 1e-6, "the adapter changed the model");
  }
  // generate --model-dir takes the adapter directory.
  const prompts = join(dir, "prompts.jsonl");
  await writeFile(
    prompts,
    `${JSON.stringify({ id: "a", messages: [{ role: "user", content: "Write about rivers." }] })}\n`,
  );
  const g = await runCli([
    "generate",
    "--in",
    prompts,
    "--out",
    join(dir, "gen.jsonl"),
    "--model-dir",
    full.checkpoint,
    "--max-tokens",
    "8",
  ]);
  assert.equal(g.code, 0, g.stderr);
});

test("LoRA refusals: --ref, --lora-dropout on the embedded engine, unknown targets", async () => {
  const { dir, run } = await setup("lora-bad");
  await assert.rejects(run("a", { ref: join(dir, "model") }), /reference is the base model[\s\S]*--ref/);
  await assert.rejects(run("b", { lora_dropout: 0.1 }), /no LoRA dropout[\s\S]*--engine torch/);
  await assert.rejects(run("c", { lora_targets: "q_proj,wrong" }), /unknown LoRA target module[\s\S]*--lora-targets/);
});
