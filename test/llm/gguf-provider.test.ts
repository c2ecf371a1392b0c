// The GGUF back end sees the prompt every other back end sees: an exported model run through `--gguf`
// (GgufProvider, node-llama-cpp) counts exactly the prompt tokens of the same model under `--model-dir` (no default
// system prompt added), with and without a system message, and greedy decoding applies no repeat penalty.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { exportGguf } from "../../src/export/index.ts";
import { GgufProvider } from "../../src/llm/index.ts";
import { createModel, ModelProvider, saveModelDir } from "../../src/model/index.ts";

const dir = mkdtempSync(join(tmpdir(), "iopo-gguf-provider-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("--gguf and --model-dir count the same prompt tokens for the same chat", async () => {
  const text = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const model = createModel([text], {
    arch: "qwen2",
    vocabSize: 400,
    hidden: 32,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    intermediate: 64,
    maxPosition: 512,
    seed: 5,
  });
  const md = join(dir, "model");
  await saveModelDir(md, model);
  const file = join(dir, "model.gguf");
  await exportGguf(md, file, { dtype: "f32" });
  const gguf = await GgufProvider.open({ path: file, gpu: false, threads: 1 });
  const local = await ModelProvider.open(md, 1);
  try {
    for (const messages of [
      [{ role: "user" as const, content: "Write one sentence about rivers." }],
      [
        { role: "system" as const, content: "Be brief." },
        { role: "user" as const, content: "Name a colour." },
      ],
    ]) {
      const opts = { temperature: 0, max_tokens: 4 };
      const a = await gguf.chat(messages, opts);
      const b = await local.chat(messages, opts);
      assert.equal(a.usage.prompt_tokens, b.usage.prompt_tokens, JSON.stringify(messages));
      assert.ok(a.usage.completion_tokens > 0);
    }
  } finally {
    await gguf.close();
    await local.close();
  }
});
