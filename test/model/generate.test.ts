// Generation: greedy decoding on the KV cache gives exactly the tokens of repeated full forward passes; the prompt
// prefilled in one pass (several prompts batched) gives the logits and tokens of token-by-token prefill; sampling is
// reproducible by seed; stop strings, EOS and the token limit end generation; the ChatProvider renders the chat
// template and reports usage.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Generator, ModelProvider } from "../../src/model/generate.ts";
import { initParams, loadModelDir, parseModelConfig } from "../../src/model/index.ts";
import { tinyModel, tmp } from "../train/helpers.ts";

const golden = (name: string) => new URL(`../fixtures/golden/${name}/policy`, import.meta.url).pathname;

for (const name of ["qwen2-tiny", "llama-tiny"]) {
  test(`${name}: greedy (and seeded sampling) with the KV cache equals repeated full forward passes`, async () => {
    const model = await loadModelDir(golden(name));
    const gen = await Generator.create(model, 2);
    const prompt = [18, 16, 10, 8, 50];
    const o = { maxTokens: 24, stopIds: [] };
    const cached = await gen.generate(prompt, o, true);
    const full = await gen.generate(prompt, o, false);
    assert.deepEqual(cached.ids, full.ids);
    assert.equal(cached.ids.length, 24);
    assert.equal(cached.finish, "length");
    // Greedy on a random tiny model may repeat one token; seeded sampling walks varied tokens through the cache.
    const so = { ...o, temperature: 1, seed: 3 };
    const sampledCached = await gen.generate(prompt, so, true);
    assert.deepEqual(sampledCached.ids, (await gen.generate(prompt, so, false)).ids);
    assert.ok(new Set(sampledCached.ids).size > 4, `sampled continuation ${sampledCached.ids}`);
    await gen.release();
  });
}

test("sampling: same seed same text, another seed differs; stop strings and EOS end generation", async () => {
  const dir = await tmp("gen");
  await tinyModel(join(dir, "m"));
  const p = await ModelProvider.open(join(dir, "m"), 2);
  const msgs = [{ role: "user" as const, content: "Write one sentence about owls." }];
  const a = await p.chat(msgs, { temperature: 1.5, top_p: 0.95, seed: 4, max_tokens: 12 });
  const b = await p.chat(msgs, { temperature: 1.5, top_p: 0.95, seed: 4, max_tokens: 12 });
  const c = await p.chat(msgs, { temperature: 1.5, top_p: 0.95, seed: 5, max_tokens: 12 });
  assert.deepEqual(a, b);
  assert.notEqual(a.text, c.text);
  assert.ok(a.usage.prompt_tokens > 5 && a.usage.completion_tokens <= 12);
  if (a.finish === "length") assert.equal(a.usage.completion_tokens, 12);
  // A stop string taken from the middle of the unconstrained text cuts it there.
  const g = await p.chat(msgs, { max_tokens: 16 });
  const cut = g.text.slice(3, 5);
  if (cut.length === 2) {
    const s = await p.chat(msgs, { max_tokens: 16, stop: [cut] });
    assert.equal(s.finish, "stop");
    assert.equal(s.text, g.text.slice(0, g.text.indexOf(cut)));
  }
  await p.close();
});

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

for (const name of ["qwen2-tiny", "llama-tiny"]) {
  test(`${name}: one-pass prefill (batched across prompts) equals token-by-token prefill and full forwards`, async () => {
    const model = await loadModelDir(golden(name));
    const gen = await Generator.create(model, 2);
    // Lengths that pad little share one pass; very unequal ones go one pass per prompt into their cache rows.
    for (const prompts of [
      [
        [18, 16, 10, 8, 50],
        [3, 4, 5, 6, 7],
        [9, 9, 1, 2, 3],
        [4, 3, 2, 1],
      ],
      [[18, 16, 10, 8, 50], [3, 4, 5], [7, 7, 7, 7, 7, 7, 7, 7, 9, 2, 11], [42]],
    ]) {
      // The logits after the prompt: batch prefill of all four, token-by-token prefill, a full forward each.
      const batch = await gen.promptLogits(prompts, "batch");
      const tokens = await gen.promptLogits(prompts, "tokens");
      for (const [b, prompt] of prompts.entries()) {
        const full = await gen.lastLogits(prompt);
        assert.ok(
          maxAbsDiff(batch[b]!, tokens[b]!) < 1e-5,
          `prompt ${b}: batch vs tokens ${maxAbsDiff(batch[b]!, tokens[b]!)}`,
        );
        assert.ok(maxAbsDiff(batch[b]!, full) < 1e-5, `prompt ${b}: batch vs full ${maxAbsDiff(batch[b]!, full)}`);
      }
      // Generated tokens: each prompt alone with either prefill, and all prompts in one batch, greedy and sampled.
      for (const o of [
        { maxTokens: 12, stopIds: [] },
        { maxTokens: 12, stopIds: [], temperature: 1, seed: 3 },
      ]) {
        const together = await gen.generateBatch(prompts, o);
        for (const [b, prompt] of prompts.entries()) {
          const one = await gen.generate(prompt, { ...o, prefill: "batch" });
          const byToken = await gen.generate(prompt, { ...o, prefill: "tokens" });
          assert.deepEqual(one.ids, byToken.ids);
          assert.deepEqual(together[b]!.ids, one.ids);
          assert.equal(one.ids.length, 12);
        }
      }
    }
    await gen.release();
  });
}

test("generation on a yarn model with attention and mlp biases: cached (batch prefill) equals full forwards", async () => {
  const base = await loadModelDir(golden("llama-tiny"));
  const config = parseModelConfig({
    ...base.config,
    rope_scaling: { rope_type: "yarn", factor: 4.0, original_max_position_embeddings: 16 },
    attention_bias: true,
    mlp_bias: true,
  });
  const params = initParams(config, 5);
  // Reuse the fixture's trained-looking weights where shapes agree; give the new biases non-zero values.
  for (const [i, row] of params.table.entries()) {
    const j = base.params.table.findIndex((r) => r.key === row.key);
    if (j >= 0) params.tensors[i] = base.params.tensors[j]!;
    else params.tensors[i] = params.tensors[i]!.map((_, k) => 0.1 * Math.sin(k + i));
  }
  const gen = await Generator.create({ config, params }, 2);
  const prompt = [5, 9, 13, 2, 40, 41];
  const o = { maxTokens: 10, stopIds: [], temperature: 1, seed: 11 };
  const cached = await gen.generate(prompt, o, true);
  assert.deepEqual(cached.ids, (await gen.generate(prompt, o, false)).ids);
  assert.deepEqual(cached.ids, (await gen.generate(prompt, { ...o, prefill: "tokens" })).ids);
  await gen.release();
});

test("chatMany generates several conversations together, each equal to chat alone", async () => {
  const dir = await tmp("gen-many");
  await tinyModel(join(dir, "m"));
  const p = await ModelProvider.open(join(dir, "m"), 2);
  const convs = [
    [{ role: "user" as const, content: "Write one sentence about owls." }],
    [{ role: "user" as const, content: "Hi" }],
    [
      { role: "system" as const, content: "Answer in uppercase letters only." },
      { role: "user" as const, content: "Name three rivers and say which is the longest one." },
    ],
  ];
  for (const o of [{ max_tokens: 10 }, { max_tokens: 10, temperature: 1.2, seed: 7 }]) {
    const many = await p.chatMany(convs, o);
    for (const [i, c] of convs.entries()) assert.deepEqual(many[i], await p.chat(c, o));
  }
  await p.close();
});

test("generate.ts has no attention, MLP, norm or RoPE of its own: the cached path runs llama.ts's decoder", async () => {
  const src = await readFile(new URL("../../src/model/generate.ts", import.meta.url), "utf8");
  for (const op of ["rope", "rmsNorm", "softmax", "linear", "silu", "matmul"])
    assert.doesNotMatch(src, new RegExp(`E\\.${op}\\(`), `generate.ts calls E.${op}`);
  assert.match(src, /decoder\(cfg, p, ids, a, cache\)/);
});
