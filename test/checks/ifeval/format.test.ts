import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("number_bullet_lists counts * and - bullets exactly", () => {
  const kw = { num_bullets: 2 };
  assert.equal(run("detectable_format:number_bullet_lists", kw, "Intro\n* one\n- two").ok, true);
  assert.deepEqual(run("detectable_format:number_bullet_lists", kw, "* one\n* two\n* three"), {
    ok: false,
    issues: [{ code: "wrong_count", expected: "2 bullet points", got: "3" }],
  });
  assert.equal(run("detectable_format:number_bullet_lists", kw, "**bold** line\n* one\n* two").ok, true);
});

test("constrained_response needs one of the three fixed answers", () => {
  assert.equal(run("detectable_format:constrained_response", {}, "Well... My answer is maybe.").ok, true);
  assert.equal(run("detectable_format:constrained_response", {}, "my answer is yes").ok, false);
});

test("number_highlighted_sections counts *x* and **x**, ignoring empty ones", () => {
  const kw = { num_highlights: 2 };
  assert.equal(run("detectable_format:number_highlighted_sections", kw, "*one* and *two*").ok, true);
  assert.equal(run("detectable_format:number_highlighted_sections", kw, "**bold** text").ok, false);
  assert.equal(run("detectable_format:number_highlighted_sections", { num_highlights: 1 }, "**bold** text").ok, true);
  assert.deepEqual(run("detectable_format:number_highlighted_sections", kw, "* * and *one*"), {
    ok: false,
    issues: [{ code: "too_small", expected: "at least 2 highlights", got: "1" }],
  });
});

test("multiple_sections splits on the splitter followed by a number", () => {
  const kw = { section_spliter: "Section", num_sections: 2 };
  assert.equal(run("detectable_format:multiple_sections", kw, "Section 1\na\nSection 2\nb").ok, true);
  assert.equal(run("detectable_format:multiple_sections", kw, "SECTION 1\na\nSECTION 2\nb").ok, false);
});

test("json_format accepts fenced JSON and Python's NaN/Infinity, rejects other text", () => {
  assert.equal(run("detectable_format:json_format", {}, '```json\n{"a": [1, 2]}\n```').ok, true);
  assert.equal(run("detectable_format:json_format", {}, '{"x": NaN, "y": -Infinity}').ok, true);
  assert.equal(run("detectable_format:json_format", {}, '{"x": "NaN"').ok, false);
  assert.deepEqual(run("detectable_format:json_format", {}, "Here: {}"), {
    ok: false,
    issues: [{ code: "bad_format", expected: "valid JSON", got: "unparseable text" }],
  });
});

test("title needs non-empty text in << >> on one line", () => {
  assert.equal(run("detectable_format:title", {}, "<<My Poem>>\nroses").ok, true);
  assert.equal(run("detectable_format:title", {}, "<< >> and <<\n>>").ok, false);
});
