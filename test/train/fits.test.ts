// Up-front refusals (issue 13): `iopo train` (embedded engine) and `iopo logps` check the memory estimate and the
// sliding window from config.json alone, before any weight is read — a model directory with no weights file is
// refused with the estimate and the options that fit, not a missing-file error; within budget, training runs.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ConfigError } from "../../src/errors.ts";
import { createModel, estimateMemory, loadModelConfig, newModelConfig, saveModelDir } from "../../src/model/index.ts";
import { checkTrainingFits, logpsMemoryRun, memoryBudget, trainMemoryRun } from "../../src/train/fits.ts";
import { runTraining } from "../../src/train/index.ts";
import { config, corpus, quietLogger, tmp, writeCaseGroups } from "./helpers.ts";

const run = promisify(execFile);
const BIN = new URL("../../bin/iopo.js", import.meta.url).pathname;
const GB = 2 ** 30;

const QWEN = newModelConfig({
  arch: "qwen2",
  vocabSize: 151936,
  hidden: 896,
  layers: 24,
  heads: 14,
  kvHeads: 2,
  intermediate: 4864,
  bosTokenId: null,
  eosTokenId: 0,
  padTokenId: null,
});

/** A Qwen2.5-0.5B-shaped config.json and nothing else (no weights, no tokenizer). */
async function configOnly(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), JSON.stringify({ ...QWEN, ...extra }));
  return dir;
}

test("train: an oversize full run is refused before loading, naming the estimate and the options that fit", async () => {
  const dir = await tmp("fits");
  const model = await configOnly(join(dir, "model"));
  const c = config({ method: "iopo", out: join(dir, "run"), model, data: join(dir, "absent.jsonl"), batch: 2 });
  const c730 = { ...c, max_len: 730 };
  const est = estimateMemory(QWEN, trainMemoryRun(c730));
  assert.ok(est.total > 12 * GB, `${est.total / GB}`);
  const before = process.env.IOPO_MEMORY_GB;
  process.env.IOPO_MEMORY_GB = "12";
  try {
    await assert.rejects(runTraining(c730, quietLogger()), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /the run would need more memory than there is; expected at most 12\.0 GB/);
      assert.match(err.message, new RegExp(`got an estimated ${(est.total / GB).toFixed(1)} GB \\(runtime`));
      assert.match(err.message, /full training with 8 sequences × 730 tokens per micro-batch/);
      assert.match(err.message, /HINT: options that fit: .*LoRA \(--lora-rank 8\)/);
      assert.match(err.message, /--batch 1/);
      return true;
    });
  } finally {
    if (before === undefined) delete process.env.IOPO_MEMORY_GB;
    else process.env.IOPO_MEMORY_GB = before;
  }
  // The first option offered passes the same check.
  await checkTrainingFits({ ...c730, lora_rank: 8, lora_targets: "q_proj,v_proj", batch: 1, max_len: 256 }, 12 * GB);
  await assert.rejects(checkTrainingFits({ ...c730, batch: 1 }, 12 * GB), /the run would need more memory/);
  // A separate reference is one more copy of the weights; the policy as its own reference is not copied.
  const withRef = estimateMemory(QWEN, trainMemoryRun({ ...c730, ref: model }));
  assert.equal(withRef.parts.weights, 2 * est.parts.weights);
});

test("train: gradient checkpointing turns itself on only when the run would not fit without it", async () => {
  const dir = await tmp("fits-ck");
  const model = await configOnly(join(dir, "model"));
  const c = {
    ...config({ method: "iopo", out: join(dir, "run"), model, data: join(dir, "absent.jsonl"), lora_rank: 8 }),
    max_len: 730,
  };
  const without = estimateMemory(QWEN, trainMemoryRun(c)).total;
  const withCk = estimateMemory(QWEN, trainMemoryRun({ ...c, grad_checkpointing: true })).total;
  assert.ok(withCk < 0.6 * without, `${withCk / GB} vs ${without / GB} GB`);
  const between = (without + withCk) / 2;
  const auto = await checkTrainingFits(c, between);
  assert.equal(auto.checkpoint, true);
  assert.match(auto.why ?? "", /^gradient checkpointing on: the run needs an estimated \d+\.\d GB without it/);
  // Room enough: left off. Set explicitly: as set, and a run that cannot fit without it names it.
  assert.deepEqual(await checkTrainingFits(c, without + GB), { checkpoint: false });
  assert.equal((await checkTrainingFits({ ...c, grad_checkpointing: true }, without + GB)).checkpoint, true);
  await assert.rejects(
    checkTrainingFits({ ...c, grad_checkpointing: false }, between),
    /options that fit: .*--grad-checkpointing/,
  );
});

test("train: a run that fits only with checkpointing turns it on, says so, and trains", async () => {
  const dir = await tmp("fits-ck-run");
  // Four layers: with one, keeping each layer's input costs more than the layer's activations it saves.
  const m = createModel(corpus(), {
    arch: "qwen2",
    vocabSize: 320,
    hidden: 32,
    layers: 4,
    heads: 2,
    kvHeads: 1,
    intermediate: 64,
    seed: 0,
  });
  await saveModelDir(join(dir, "model"), m);
  const data = join(dir, "groups.jsonl");
  await writeCaseGroups(data, 2);
  const c = config({
    method: "iopo",
    model: join(dir, "model"),
    data,
    out: join(dir, "run"),
    max_steps: 1,
    batch: 2,
    accum: 1,
    ref_cache: join(dir, "cache"),
  });
  const cfg = await loadModelConfig(c.model);
  const without = estimateMemory(cfg, trainMemoryRun(c)).total;
  const withCk = estimateMemory(cfg, trainMemoryRun({ ...c, grad_checkpointing: true })).total;
  assert.ok(withCk < without, `${withCk} vs ${without}`);
  const before = process.env.IOPO_MEMORY_GB;
  process.env.IOPO_MEMORY_GB = String((without + withCk) / 2 / GB);
  try {
    const logger = quietLogger();
    const r = await runTraining(c, logger);
    assert.ok(
      logger.lines.some((l) => /^gradient checkpointing on: the run needs an estimated/.test(l)),
      logger.lines.join("\n"),
    );
    assert.equal(r.steps, 1);
  } finally {
    if (before === undefined) delete process.env.IOPO_MEMORY_GB;
    else process.env.IOPO_MEMORY_GB = before;
  }
});

test("train: --max-len past a Qwen2 sliding window is refused before loading", async () => {
  const dir = await tmp("fits-window");
  const model = await configOnly(join(dir, "model"), {
    use_sliding_window: true,
    sliding_window: 512,
    max_window_layers: 0,
  });
  const c = config({ method: "iopo", out: join(dir, "run"), model, data: join(dir, "absent.jsonl"), max_len: 1024 });
  await assert.rejects(
    runTraining(c, quietLogger()),
    /sliding-window attention is not supported beyond the window.*--max-len: 1024 tokens/s,
  );
});

test("memory budget: IOPO_MEMORY_GB overrides the machine's RAM; a bad value is a clear error", () => {
  assert.equal(memoryBudget({ IOPO_MEMORY_GB: "2.5" }), 2.5 * GB);
  assert.ok(memoryBudget({}) > 0);
  assert.throws(() => memoryBudget({ IOPO_MEMORY_GB: "lots" }), /IOPO_MEMORY_GB is not a positive number/);
});

test("logps CLI: an oversize run is refused before loading, with the estimate and a HINT, no stack trace", async () => {
  const dir = await tmp("fits-logps");
  const model = await configOnly(join(dir, "model"));
  const ids = (n: number) => Array.from({ length: n }, (_, i) => (i * 7) % 1000);
  const groups = Array.from({ length: 4 }, () => ({ x1: ids(400), y1: ids(300), x2: ids(410), y2: ids(320) }));
  const tokens = join(dir, "tokens.jsonl");
  await writeFile(tokens, groups.map((g) => `${JSON.stringify(g)}\n`).join(""));
  const r = logpsMemoryRun(groups, true, false);
  assert.deepEqual([r.mode, r.sequences, r.maxLen, r.scored], ["full", 16, 730, 320]);
  const err = await run(process.execPath, [BIN, "logps", "--model", model, "--tokens", tokens, "--grad"], {
    env: { ...process.env, IOPO_MEMORY_GB: "6" },
  }).then(
    () => null,
    (e: { stderr: string; code: number }) => e,
  );
  assert.ok(err, "the run was not refused");
  assert.notEqual(err.code, 0);
  assert.match(err.stderr, /the run would need more memory than there is; expected at most 6\.0 GB, got an estimated/);
  assert.match(err.stderr, /full training with 16 sequences × 730 tokens/);
  assert.match(err.stderr, /HINT: split --tokens into smaller files .*or leave out --grad/);
  assert.doesNotMatch(err.stderr, /\n\s+at /);
});
