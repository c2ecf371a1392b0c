import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("end_checker ignores case, trailing whitespace and surrounding double quotes", () => {
  const kw = { end_phrase: "Any other questions?" };
  assert.equal(run("startend:end_checker", kw, '"Text. any other QUESTIONS?"\n').ok, true);
  assert.deepEqual(run("startend:end_checker", kw, "Any other questions? Bye."), {
    ok: false,
    issues: [{ code: "missing_text", expected: 'the response to end with "any other questions?"', got: "no" }],
  });
});

test("quotation wants the stripped response to start and end with a double quote", () => {
  assert.equal(run("startend:quotation", {}, '  "quoted"  ').ok, true);
  assert.equal(run("startend:quotation", {}, '"').ok, false);
  assert.equal(run("startend:quotation", {}, "“curly”").ok, false);
});
