// The memory estimate: its parts by hand arithmetic, the engine's measured peak RSS of a training step's forward +
// backward on a model shape it was not fitted on, with and without gradient checkpointing (child process, within
// −25%/+35%), and the refusal of an oversize run that names the estimate and the options that fit (a
// Qwen2.5-0.5B shape with TRACE-length IOPO groups).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/errors.ts";
import { checkMemory, estimateMemory, MEMORY_FIT, memoryOptions, parseModelConfig } from "../../src/model/index.ts";

import { probeShape } from "./probe-shape.ts";

const PROBE = fileURLToPath(new URL("./memory-probe.ts", import.meta.url));
const GB = 2 ** 30;
const shape = probeShape;

test("estimate parts by hand: weights, optimizer, activations, logits, gradients", () => {
  const cfg = shape(64, 2, 4, 2, 176, 1000); // D 16, tied
  // Parameters: embedding 64000; per layer 2·64 norms + q 64·64+64 + k,v 2·(32·64+32) + o 64·64 + mlp 3·176·64 = 46,336;
  // final norm 64. Total 64000 + 2·46,336 + 64 = 156,736.
  const P = 156_736;
  const full = estimateMemory(cfg, { mode: "full", sequences: 4, maxLen: 100, scored: 40 });
  assert.equal(full.parts.weights, 4 * P);
  assert.equal(full.parts.optimizer, 12 * P);
  const perTokenLayer = MEMORY_FIT.perHidden * 64 + MEMORY_FIT.perMlp * 176 + MEMORY_FIT.perHeadKey * 4 * 100;
  assert.ok(Math.abs(full.parts.activations - MEMORY_FIT.margin * 4 * 4 * 100 * 2 * perTokenLayer) < 1e-6);
  assert.ok(Math.abs(full.parts.logits - MEMORY_FIT.margin * 4 * 4 * 40 * 1000 * MEMORY_FIT.perScoredVocab) < 1e-6);
  assert.ok(Math.abs(full.parts.gradients - MEMORY_FIT.margin * 4 * MEMORY_FIT.perParamBackward * P) < 1e-6);
  // LoRA rank 4 on q and v: per layer 4·(64+64) + 4·(32+64) = 896 adapter parameters; a BF16 base holds 2 bytes
  // a weight, except its [V, C] head (float32).
  const lora = estimateMemory(cfg, {
    mode: "lora",
    sequences: 4,
    maxLen: 100,
    scored: 40,
    weightBytes: 2,
    lora: { rank: 4, targets: ["q_proj", "v_proj"] },
  });
  assert.equal(lora.parts.weights, 2 * (P - 64_000) + 4 * 64_000);
  assert.equal(lora.parts.optimizer, 12 * 2 * 896);
  // Gradient checkpointing: one layer's activations plus the values kept per layer between the passes.
  const ck = estimateMemory(cfg, { mode: "full", sequences: 4, maxLen: 100, scored: 40, checkpoint: true });
  const kept = MEMORY_FIT.perCheckpointHidden * 64 * 2;
  assert.ok(Math.abs(ck.parts.activations - MEMORY_FIT.margin * 4 * 4 * 100 * (perTokenLayer + kept)) < 1e-6);
  assert.equal(ck.parts.logits, full.parts.logits);
  // Scoring keeps no activations for a backward pass.
  const score = estimateMemory(cfg, { mode: "score", sequences: 4, maxLen: 100 });
  assert.equal(score.parts.optimizer + score.parts.gradients, 0);
  assert.ok(score.parts.logits < full.parts.logits);
  assert.equal(
    score.total,
    Object.values(score.parts).reduce((a, b) => a + b, 0),
  );
});

for (const checkpoint of [false, true])
  test(`the estimate of a training step's forward + backward matches the engine's measured peak RSS on an unfitted shape${checkpoint ? " (gradient checkpointing)" : ""}`, () => {
    const args = [320, 3, 5, 1, 896, 6144, 4, 320, 140];
    const r = spawnSync(process.execPath, ["--import", "tsx", PROBE, ...args.map(String), checkpoint ? "1" : "0"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const { grown } = JSON.parse(r.stdout) as { grown: number };
    const [hidden, layers, heads, kv, mlp, vocab, B, T, R] = args as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const est = estimateMemory(shape(hidden, layers, heads, kv, mlp, vocab), {
      mode: "full",
      sequences: B,
      maxLen: T,
      scored: R,
      checkpoint,
    });
    const run = est.parts.activations + est.parts.logits + est.parts.gradients;
    console.log(`measured ${(grown / 2 ** 20).toFixed(0)} MB, estimated ${(run / 2 ** 20).toFixed(0)} MB`);
    assert.ok(run >= 0.75 * grown && run <= 1.35 * grown, `estimate ${run} vs measured ${grown}`);
  });

test("an oversize run is refused naming the estimate and the options that fit (Qwen2.5-0.5B, TRACE groups)", () => {
  const qwen = parseModelConfig({
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: 151936,
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
  });
  // Two IOPO groups per micro-batch (--batch 2): 8 sequences, 4 per record.
  const run = { mode: "full", sequences: 8, perRecord: 4, maxLen: 730, scored: 317 } as const;
  const est = estimateMemory(qwen, run);
  assert.ok(est.total > 22 * GB, `${est.total / GB} GB`);
  assert.throws(
    () => checkMemory(qwen, run, 22 * GB, "q/config.json"),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /^q\/config\.json: the run would need more memory than there is; expected at most 22\.0 GB, got an estimated \d+\.\d GB \(runtime/,
      );
      assert.match(err.message, /full training with 8 sequences × 730 tokens per micro-batch/);
      assert.match(err.message, /HINT: options that fit: .*--grad-checkpointing, --batch 1 \(≈ \d+\.\d GB\)/);
      assert.match(err.message, /LoRA \(--lora-rank 8\)/);
      return true;
    },
  );
  // Every option offered fits, and each is a real change of the run.
  const options = memoryOptions(qwen, run, 22 * GB);
  assert.ok(options.length >= 2);
  for (const o of options) {
    assert.ok(o.total <= 22 * GB && estimateMemory(qwen, o.run).total === o.total);
    assert.notDeepEqual(o.run, run);
    assert.ok(o.run.sequences >= 4 && o.run.maxLen <= run.maxLen);
  }
  assert.ok(options.some((o) => o.run.mode === "lora"));
  assert.ok(options.some((o) => o.run.checkpoint && o.run.mode === "full"));
  // No option adds a change to another option that fits already.
  const changes = options.map((o) => o.change.replace(/ \d+/g, "").split(", "));
  for (const a of changes)
    for (const b of changes) if (a !== b && a.every((c) => b.includes(c))) assert.fail(`${b} extends ${a}`);
  // Within budget: no error.
  checkMemory(qwen, { ...run, mode: "lora", sequences: 4, maxLen: 512, scored: 256 }, 22 * GB);
});
