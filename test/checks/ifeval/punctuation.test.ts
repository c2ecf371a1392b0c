import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

test("no_comma fails on any ASCII comma, not on other comma-like characters", () => {
  const p = parseInstruction("punctuation:no_comma", {});
  assert.ok(p.success);
  assert.deepEqual(checkInstruction("Hello world; fine，", p.def), { ok: true, issues: [] });
  assert.deepEqual(checkInstruction("Hello, world", p.def), {
    ok: false,
    issues: [{ code: "forbidden_word", expected: "no commas", got: "a comma" }],
  });
  assert.equal(parseInstruction("punctuation:no_comma", { extra: 1 }).success, false);
});
