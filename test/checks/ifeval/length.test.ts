import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("number_sentences counts punkt sentences", () => {
  const kw = { num_sentences: 3, relation: "less than" };
  assert.equal(run("length_constraints:number_sentences", kw, "Dr. Who is here. Hi.").ok, true);
  assert.deepEqual(run("length_constraints:number_sentences", kw, "One. Two. Three."), {
    ok: false,
    issues: [{ code: "too_big", expected: "fewer than 3 sentences", got: "3" }],
  });
});

test("number_words counts \\w+ runs", () => {
  const kw = { num_words: 4, relation: "at least" };
  assert.equal(run("length_constraints:number_words", kw, "it's a nice-day").ok, true);
  assert.deepEqual(run("length_constraints:number_words", kw, "three short words"), {
    ok: false,
    issues: [{ code: "too_small", expected: "at least 4 words", got: "3" }],
  });
});

test("number_paragraphs splits on *** and rejects empty inner paragraphs", () => {
  const kw = { num_paragraphs: 2 };
  assert.equal(run("length_constraints:number_paragraphs", kw, "one\n***\ntwo").ok, true);
  assert.equal(run("length_constraints:number_paragraphs", kw, "***\none\n***\ntwo\n***").ok, true);
  assert.deepEqual(run("length_constraints:number_paragraphs", kw, "one\n***\n***\ntwo"), {
    ok: false,
    issues: [{ code: "bad_format", expected: "no empty paragraph", got: "empty paragraph 2" }],
  });
  assert.equal(run("length_constraints:number_paragraphs", kw, "one only").ok, false);
});

test("nth_paragraph_first_word: paragraph count and first word, punctuation and quotes dropped", () => {
  const kw = { num_paragraphs: 3, nth_paragraph: 2, first_word: "Second" };
  assert.equal(run("length_constraints:nth_paragraph_first_word", kw, 'a\n\n"second," b\n\nc').ok, true);
  assert.deepEqual(run("length_constraints:nth_paragraph_first_word", kw, "a\n\nthird b\n\nc"), {
    ok: false,
    issues: [{ code: "missing_keyword", expected: 'first word "second"', got: '"third"' }],
  });
  assert.equal(run("length_constraints:nth_paragraph_first_word", kw, "a\n\nsecond").ok, false);
  assert.equal(
    parseInstruction("length_constraints:nth_paragraph_first_word", { ...kw, nth_paragraph: 4 }).success,
    false,
  );
});
