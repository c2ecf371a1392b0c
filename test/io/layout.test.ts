import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseTracePrompt, renderTracePrompt, renumber } from "../../src/io/index.ts";
import { sharedData } from "../helpers/paths.ts";

interface Raw {
  id: string;
  messages: { role: string; content: string }[];
  description: string;
  constraints: string;
  constraints_splits: string[];
  constraints_num: number;
  input: string;
}

const items: Raw[] = readFileSync(sharedData("trace/trace_eval.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));

test("the TRACE file has 1,042 items", () => assert.equal(items.length, 1042));

test("rendering every TRACE item gives exactly its user message", () => {
  for (const r of items) {
    const input = r.input === "NULL" ? null : r.input;
    const rendered = renderTracePrompt({
      description: r.description,
      constraints: r.constraints_splits.map((text) => ({ text })),
      input,
    });
    assert.equal(rendered, r.messages[1]!.content, `item ${r.id}`);
  }
});

test("parsing every TRACE user message gives back description, constraint lines and input", () => {
  for (const r of items) {
    const parsed = parseTracePrompt(r.messages[1]!.content, { count: r.constraints_num });
    assert.deepEqual(
      parsed,
      { description: r.description, constraints: r.constraints_splits, input: r.input === "NULL" ? null : r.input },
      `item ${r.id}`,
    );
  }
});

test("without the count, all but the two ambiguous TRACE prompts parse exactly", () => {
  const wrong = items
    .filter((r) => {
      const p = parseTracePrompt(r.messages[1]!.content);
      return JSON.stringify(p.constraints) !== JSON.stringify(r.constraints_splits) || p.description !== r.description;
    })
    .map((r) => r.id);
  // 73: the description itself lists "1. 2. 3."; 177: a quoted document has a line "2.  保险责任".
  assert.deepEqual(wrong, ["73", "177"]);
});

test("layout edge cases: numbered continuation lines, sub-numbers, inputs", () => {
  const prompt =
    "Write a poem\n1. Use rhyme;\n   and keep 1.5 lines per idea\n2. Mention the sea.\n# Inputs:\nthe sea\n";
  assert.deepEqual(parseTracePrompt(prompt), {
    description: "Write a poem",
    constraints: ["1. Use rhyme;\n   and keep 1.5 lines per idea", "2. Mention the sea."],
    input: "the sea",
  });
  assert.deepEqual(parseTracePrompt("Just a task\n"), { description: "Just a task", constraints: [], input: null });
  assert.throws(() => parseTracePrompt("no newline"), /TRACE layout/);
});

test("renumber writes fresh numbers over old ones", () => {
  assert.deepEqual(renumber(["3. a", "b", "1、c"]), ["1. a", "2. b", "3. c"]);
});
