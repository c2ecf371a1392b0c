import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("existence: every keyword must appear, case-insensitively, as a regex search", () => {
  assert.deepEqual(run("keywords:existence", { keywords: ["Dog", "cat"] }, "A CAT and a dog."), {
    ok: true,
    issues: [],
  });
  assert.deepEqual(run("keywords:existence", { keywords: ["dog", "bird"] }, "a dog"), {
    ok: false,
    issues: [{ code: "missing_keyword", expected: 'keyword "bird"', got: "not found" }],
  });
  assert.equal(run("keywords:existence", { keywords: ["dog"] }, "hotdogs").ok, true);
});

test("frequency: counts regex matches against less than / at least", () => {
  const kw = { keyword: " the ", frequency: 3, relation: "at least" };
  assert.equal(run("keywords:frequency", kw, "The the THE").ok, true);
  assert.deepEqual(run("keywords:frequency", kw, "the end"), {
    ok: false,
    issues: [{ code: "too_small", expected: "at least 3 occurrences of  the ", got: "1" }],
  });
  assert.equal(run("keywords:frequency", { ...kw, relation: "less than" }, "the the").ok, true);
  assert.equal(run("keywords:frequency", { ...kw, relation: "less than" }, "the the the").ok, false);
});

test("forbidden_words: whole-word matches only, ignoring case", () => {
  const kw = { forbidden_words: ["bad", "ugly"] };
  assert.deepEqual(run("keywords:forbidden_words", kw, "badge and smugly"), { ok: true, issues: [] });
  assert.deepEqual(run("keywords:forbidden_words", kw, "It was BAD."), {
    ok: false,
    issues: [{ code: "forbidden_word", expected: 'no "bad"', got: "found" }],
  });
});

test("letter_frequency: counts the character literally, lower-cased, including non-letters", () => {
  const kw = { letter: "A", let_frequency: 3, let_relation: "at least" };
  assert.equal(run("keywords:letter_frequency", kw, "banana").ok, true);
  assert.equal(run("keywords:letter_frequency", kw, "bAnAn").ok, false);
  assert.equal(run("keywords:letter_frequency", { ...kw, letter: "#", let_relation: "less than" }, "# ## ").ok, false);
  assert.equal(run("keywords:letter_frequency", { ...kw, letter: "#", let_relation: "less than" }, "# #").ok, true);
});

test("kwargs are validated: empty keyword lists, multi-character letters and bad relations are rejected", () => {
  assert.equal(parseInstruction("keywords:existence", { keywords: [] }).success, false);
  assert.equal(
    parseInstruction("keywords:letter_frequency", { letter: "ab", let_frequency: 1, let_relation: "at least" }).success,
    false,
  );
  assert.equal(
    parseInstruction("keywords:frequency", { keyword: "a", frequency: 1, relation: "at most" }).success,
    false,
  );
  assert.equal(
    parseInstruction("keywords:frequency", { keyword: "a", frequency: -1, relation: "at least" }).success,
    false,
  );
});

test("an invalid keyword pattern is a data error, not a silent verdict", () => {
  assert.throws(() => run("keywords:existence", { keywords: ["(unclosed"] }, "text"), /invalid regular expression/);
});

test("case-insensitive matching keeps Python's folds of ſ (to s) and the Kelvin sign (to k)", () => {
  // Python: re.search(r"\bsun\b", "The ſun is up", re.I) matches; so does re.search("kelvin", "The Kelvin", re.I).
  assert.equal(run("keywords:forbidden_words", { forbidden_words: ["sun"] }, "The \u017fun is up").ok, false);
  assert.equal(run("keywords:existence", { keywords: ["kelvin"] }, "The \u212aelvin scale").ok, true);
  assert.equal(
    run("keywords:frequency", { keyword: "kelvin", frequency: 2, relation: "at least" }, "\u212aelvin and kelvin").ok,
    true,
  );
  assert.equal(run("keywords:forbidden_words", { forbidden_words: ["sun"] }, "The moon is up").ok, true);
});
