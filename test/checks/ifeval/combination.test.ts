import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("two_responses: exactly two different non-empty parts around ******", () => {
  assert.equal(run("combination:two_responses", {}, "first\n******\nsecond").ok, true);
  assert.equal(run("combination:two_responses", {}, "******\nfirst\n******\nsecond\n******").ok, true);
  assert.equal(run("combination:two_responses", {}, "same\n******\nsame").ok, false);
  assert.deepEqual(run("combination:two_responses", {}, "a\n******\n\n******\nb"), {
    ok: false,
    issues: [{ code: "bad_format", expected: "no empty response", got: "empty part 2" }],
  });
});

test("repeat_prompt: the response starts with the request, ignoring case and outer whitespace", () => {
  const kw = { prompt_to_repeat: "Write a poem. " };
  assert.equal(run("combination:repeat_prompt", kw, "  WRITE A POEM. Roses are red").ok, true);
  assert.equal(run("combination:repeat_prompt", kw, "Sure! Write a poem.").ok, false);
  assert.equal(parseInstruction("combination:repeat_prompt", { prompt_to_repeat: "" }).success, false);
});
