import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { initTinyModel, runCli } from "../helpers/cli.ts";
import { ROOT } from "../helpers/paths.ts";

test("iopo generate --model-dir runs a model created here, deterministically, and resumes from its cache", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-gen-model-"));
  const model = join(dir, "model");
  let r = await initTinyModel(model, join(ROOT, "README.md"));
  assert.equal(r.code, 0, r.stderr);
  const input = join(dir, "prompts.jsonl");
  writeFileSync(
    input,
    `${JSON.stringify({ id: "a", prompt: "Write a haiku" })}\n${JSON.stringify({ id: "b", messages: [{ role: "user", content: "List two colours" }] })}\n`,
  );
  const out = join(dir, "out.jsonl");
  const generate = [
    "generate",
    "--in",
    input,
    "--out",
    out,
    "--model-dir",
    model,
    "--max-tokens",
    "6",
    "--temperature",
    "0",
  ];
  r = await runCli(generate);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.id),
    ["a", "b"],
  );
  for (const l of lines) {
    assert.equal(typeof l.text, "string");
    assert.ok(l.usage.completion_tokens > 0 && l.usage.completion_tokens <= 6, JSON.stringify(l.usage));
  }
  // A second run with the same cache is answered from it: identical output.
  const before = readFileSync(out, "utf8");
  r = await runCli([...generate, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, "utf8"), before);
  assert.equal(JSON.parse(r.stdout).cached, 2);
});
