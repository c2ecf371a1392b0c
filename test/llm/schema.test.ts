import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatOptionsSchema, GenerateInputSchema, GenerateOutputSchema, PriceTableSchema } from "../../src/llm/index.ts";

test("generate input lines: {id, messages} or {id, prompt}", () => {
  assert.ok(GenerateInputSchema.safeParse({ id: 1, prompt: "p" }).success);
  assert.ok(GenerateInputSchema.safeParse({ id: "a", messages: [{ role: "user", content: "c" }] }).success);
  assert.ok(!GenerateInputSchema.safeParse({ id: "a" }).success, "neither");
  assert.ok(!GenerateInputSchema.safeParse({ prompt: "p" }).success, "no id");
  assert.ok(!GenerateInputSchema.safeParse({ id: 1, messages: [] }).success, "empty messages");
  assert.ok(!GenerateInputSchema.safeParse({ id: 1, messages: [{ role: "tool", content: "x" }] }).success, "role");
  assert.ok(!GenerateInputSchema.safeParse({ id: null, prompt: "p" }).success, "null id");
});

test("generate output lines: a result or an error with a known cause", () => {
  const usage = { prompt_tokens: 1, completion_tokens: 2 };
  assert.ok(GenerateOutputSchema.safeParse({ id: 1, text: "t", usage, finish: "stop", attempts: 1 }).success);
  assert.ok(GenerateOutputSchema.safeParse({ id: 1, error: { cause: "timeout", message: "m", attempts: 5 } }).success);
  assert.ok(
    !GenerateOutputSchema.safeParse({ id: 1, error: { cause: "gremlins", message: "m", attempts: 5 } }).success,
  );
  assert.ok(!GenerateOutputSchema.safeParse({ id: 1, text: "t", usage, finish: "done", attempts: 1 }).success);
});

test("sampling options and price tables are range-checked", () => {
  assert.ok(ChatOptionsSchema.safeParse({ temperature: 0.7, max_tokens: 10, stop: ["\n"] }).success);
  assert.ok(!ChatOptionsSchema.safeParse({ temperature: 3 }).success);
  assert.ok(!ChatOptionsSchema.safeParse({ max_tokens: 0 }).success);
  assert.ok(PriceTableSchema.safeParse({ "gpt-4o-mini": { prompt: 0.15, completion: 0.6 } }).success);
  assert.ok(!PriceTableSchema.safeParse({ m: { prompt: -1, completion: 0 } }).success);
});
