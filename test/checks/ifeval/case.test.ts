import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (id: string, kwargs: Record<string, unknown>, response: string) => {
  const p = parseInstruction(id as never, kwargs);
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("capital_word_frequency counts word_tokenize tokens in all capitals", () => {
  const kw = { capital_frequency: 3, capital_relation: "at least" };
  assert.equal(run("change_case:capital_word_frequency", kw, "I DON'T know").ok, true);
  assert.deepEqual(run("change_case:capital_word_frequency", kw, "NASA and ESA"), {
    ok: false,
    issues: [{ code: "too_small", expected: "at least 3 all-capital words", got: "2" }],
  });
});

test("english_capital: all capitals and detected as English", () => {
  assert.equal(run("change_case:english_capital", {}, "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER.").ok, true);
  assert.deepEqual(run("change_case:english_capital", {}, "THIS is not all caps."), {
    ok: false,
    issues: [{ code: "wrong_case", expected: "all capital letters", got: "lowercase letters" }],
  });
  // langdetect skips n-grams inside all-capital words, so capitalised French reads as English (official quirk).
  assert.equal(run("change_case:english_capital", {}, "CECI EST UNE PHRASE EN FRANÇAIS SUR LE TEMPS.").ok, true);
});

test("english_lowercase: all lowercase and detected as English", () => {
  assert.equal(run("change_case:english_lowercase", {}, "this is an english sentence about the weather.").ok, true);
  assert.equal(run("change_case:english_lowercase", {}, "this is English.").ok, false);
  assert.equal(run("change_case:english_lowercase", {}, "das ist ein deutscher satz über das wetter.").ok, false);
});
