import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("number_placeholders counts [..] spans on one line", () => {
  const kw = { num_placeholders: 2 };
  assert.equal(run("detectable_content:number_placeholders", kw, "Dear [name], at [address]").ok, true);
  assert.deepEqual(run("detectable_content:number_placeholders", kw, "Dear [name\n] only [one]"), {
    ok: false,
    issues: [{ code: "too_small", expected: "at least 2 placeholders", got: "1" }],
  });
});

test("postscript: P.S. / P.P.S at a line start, any case; other markers are patterns", () => {
  assert.equal(run("detectable_content:postscript", { postscript_marker: "P.S." }, "Hi\n\np.s. bye").ok, true);
  assert.equal(run("detectable_content:postscript", { postscript_marker: "P.P.S" }, "Hi\nP. P. S bye").ok, true);
  assert.equal(run("detectable_content:postscript", { postscript_marker: "P.S." }, "Hi, PS bye").ok, false);
  assert.equal(run("detectable_content:postscript", { postscript_marker: "Note:" }, "x\nNOTE: y").ok, true);
});
