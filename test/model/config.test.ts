import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { batchFeeds, checkSequenceLength, modelDims, newModelConfig, parseModelConfig } from "../../src/model/index.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url);
const qwen2Raw = async () => JSON.parse(await readFile(new URL("qwen2-tiny/reference/config.json", GOLDEN), "utf8"));

test("a Qwen2 config gives q/k/v bias, a tied head and GQA dims", async () => {
  const d = modelDims(parseModelConfig(await qwen2Raw()));
  assert.deepEqual(d, {
    V: 64,
    C: 32,
    L: 2,
    H: 4,
    Hkv: 2,
    D: 8,
    I: 64,
    qkvBias: true,
    oBias: false,
    mlpBias: false,
    tied: true,
    ropeTheta: 1e6,
    rope: { kind: "default" },
    window: null,
    eps: 1e-6,
  });
});

test("a Llama config: no bias unless attention_bias, defaults for missing keys, unknown keys kept", () => {
  const raw = {
    model_type: "llama",
    vocab_size: 100,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 3,
    num_attention_heads: 8,
    transformers_version: "4.45.0",
  };
  const cfg = parseModelConfig(raw);
  const d = modelDims(cfg);
  assert.equal(d.Hkv, 8);
  assert.equal(d.D, 8);
  assert.equal(d.qkvBias, false);
  assert.equal(d.tied, false);
  assert.equal(cfg.rope_theta, 10000);
  assert.equal((cfg as Record<string, unknown>).transformers_version, "4.45.0");
  const biased = modelDims(parseModelConfig({ ...raw, attention_bias: true, mlp_bias: true, head_dim: 16 }));
  assert.deepEqual([biased.qkvBias, biased.oBias, biased.mlpBias, biased.D], [true, true, true, 16]);
  assert.equal(modelDims(parseModelConfig({ ...raw, head_dim: null })).D, 8); // as transformers: null = hidden / heads
  // transformers ≥ 5 keeps θ in rope_parameters.
  const v5 = modelDims(parseModelConfig({ ...raw, rope_parameters: { rope_type: "default", rope_theta: 1e6 } }));
  assert.deepEqual([v5.ropeTheta, v5.rope.kind], [1e6, "default"]);
  // Qwen2 has q/k/v biases whatever attention_bias says, and never o/mlp biases.
  const q = modelDims(parseModelConfig({ ...raw, model_type: "qwen2", attention_bias: true, mlp_bias: true }));
  assert.deepEqual([q.qkvBias, q.oBias, q.mlpBias], [true, false, false]);
});

test("unsupported or inconsistent configs are refused by field", () => {
  const base = {
    model_type: "llama",
    vocab_size: 10,
    hidden_size: 16,
    intermediate_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 4,
  };
  const bad: [object, string][] = [
    [{ ...base, rope_scaling: { rope_type: "llama3", factor: 8 } }, "rope_scaling.low_freq_factor"],
    [
      { ...base, rope_scaling: { rope_type: "longrope", short_factor: [1], long_factor: [2] } },
      "rope_scaling.rope_type",
    ],
    [{ ...base, rope_scaling: { type: "su" } }, "rope_scaling.type"],
    [{ ...base, rope_scaling: { rope_type: "linear" } }, "rope_scaling.factor"],
    [{ ...base, rope_scaling: { rope_type: "linear", factor: "2" } }, "rope_scaling.factor"],
    [{ ...base, num_key_value_heads: 3 }, "num_key_value_heads"],
    [{ ...base, hidden_size: 12 }, "head_dim"],
    [{ ...base, model_type: "gpt2" }, "model_type"],
    [{ ...base, vocab_size: "ten" }, "vocab_size"],
  ];
  for (const [raw, field] of bad)
    assert.throws(
      () => parseModelConfig(raw, "m/config.json"),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.fields.field, field);
        assert.match(err.message, /^m\/config\.json: /);
        return true;
      },
    );
});

test("newModelConfig writes the fields transformers needs for each architecture", () => {
  const common = {
    vocabSize: 300,
    hidden: 32,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    intermediate: 64,
    bosTokenId: 297,
    eosTokenId: 299,
    padTokenId: 297,
  };
  const q = newModelConfig({ arch: "qwen2", ...common });
  assert.deepEqual(q.architectures, ["Qwen2ForCausalLM"]);
  assert.equal(q.tie_word_embeddings, true);
  assert.equal("attention_bias" in q, false);
  const l = newModelConfig({ arch: "llama", ...common });
  assert.deepEqual(l.architectures, ["LlamaForCausalLM"]);
  assert.equal(l.tie_word_embeddings, false);
  assert.equal(l.attention_bias, false);
  assert.equal(l.eos_token_id, 299);
});

test("Qwen2 sliding window: ignored while the longest sequence fits, refused naming the field beyond it", async () => {
  const raw = { ...(await qwen2Raw()), use_sliding_window: true, sliding_window: 8, max_window_layers: 1 };
  const cfg = parseModelConfig(raw);
  assert.equal(modelDims(cfg).window, 8);
  checkSequenceLength(cfg, 8, "--max-len"); // every query sees at most 8 tokens: full attention is exact
  assert.throws(
    () => checkSequenceLength(cfg, 9, "--max-len"),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.fields.field, "use_sliding_window");
      assert.match(err.message, /sliding_window = 8/);
      assert.match(err.message, /got --max-len: 9 tokens/);
      assert.match(err.message, /HINT: use --max-len 8 or less/);
      return true;
    },
  );
  // The feeds of a batch check it too, so no caller can skip it.
  const seq = (n: number) => ({ prompt: [1, 2, 3], response: Array.from({ length: n - 3 }, (_, i) => 4 + i) });
  assert.doesNotThrow(() => batchFeeds(cfg, [seq(8)]));
  assert.throws(() => batchFeeds(cfg, [seq(8), seq(12)]), /use_sliding_window/);
  // Disabled, or no layer at or past max_window_layers, or Llama: the window never applies.
  for (const off of [
    { ...raw, use_sliding_window: false },
    { ...raw, max_window_layers: 2 },
    { ...raw, sliding_window: null },
    { ...raw, model_type: "llama" },
  ]) {
    const c = parseModelConfig(off);
    assert.equal(modelDims(c).window, null);
    checkSequenceLength(c, 10_000);
  }
  // Qwen2's default max_window_layers is 28: a 2-layer model with only use_sliding_window set never uses it.
  const { max_window_layers: _, ...noLayers } = raw;
  assert.equal(modelDims(parseModelConfig(noLayers)).window, null);
});
