import assert from "node:assert/strict";
import { test } from "node:test";
import { findConflicts, type RuleSpec } from "../../../src/checks/rules/index.ts";

const codes = (specs: RuleSpec[]) => findConflicts(specs, { reserved: new Set(["the"]) }).map((c) => c.code);

test("lowercase conflicts with a capitalised keyword, not a lowercase one", () => {
  assert.deepEqual(
    codes([
      { kind: "lowercase", params: {} },
      { kind: "include_keywords", params: { words: ["AI"] } },
    ]),
    ["conflict"],
  );
  assert.deepEqual(
    codes([
      { kind: "lowercase", params: {} },
      { kind: "include_keywords", params: { words: ["solar"] } },
    ]),
    [],
  );
});

test("at most 20 words with at least 25 paragraphs, and JSON with a table, conflict", () => {
  assert.deepEqual(
    codes([
      { kind: "word_count", params: { relation: "at_most", n: 20 } },
      { kind: "paragraph_count", params: { relation: "at_least", n: 25 } },
    ]),
    ["conflict"],
  );
  assert.deepEqual(
    codes([
      { kind: "json_keys", params: { keys: ["a", "b"] } },
      { kind: "markdown_table", params: { columns: ["x"], min_rows: 1 } },
    ]),
    ["conflict"],
  );
});

test("forbidden and required word, empty ranges, function words, repeats", () => {
  assert.deepEqual(
    codes([
      { kind: "include_keywords", params: { words: ["grid"] } },
      { kind: "exclude_words", params: { words: ["Grid"] } },
    ]),
    ["conflict"],
  );
  assert.deepEqual(
    codes([
      { kind: "sentence_count", params: { relation: "at_least", n: 5 } },
      { kind: "sentence_count", params: { relation: "at_most", n: 3 } },
    ]),
    ["conflict"],
  );
  assert.deepEqual(codes([{ kind: "exclude_words", params: { words: ["the"] } }]), ["conflict"]);
  const one: RuleSpec = { kind: "bullet_list", params: { min: 2 } };
  assert.deepEqual(findConflicts([one, one]), [
    { i: 0, j: 1, code: "redundant", reason: "repeats constraint 1 (bullet_list)" },
  ]);
});
