import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { countCapitalWords, countSentences, countWords } from "../../../src/checks/ifeval/index.ts";

const SHARED = new URL("../../../../shared/data/ifeval/", import.meta.url);
const lines = (f: string) =>
  readFileSync(new URL(f, SHARED), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

test("word, sentence and capital-word counts equal the official helpers' on all 112 reference responses", () => {
  const prompts = new Map(lines("input_data.jsonl").map((i) => [i.key, i.prompt]));
  const responses = new Map(lines("responses_gpt4.jsonl").map((r) => [r.prompt, r.response as string]));
  let checked = 0;
  for (const ref of lines("reference_counts.jsonl")) {
    const text = responses.get(prompts.get(ref.key))!;
    if (ref.count_words !== undefined) assert.equal(countWords(text), ref.count_words, `words of ${ref.key}`);
    if (ref.count_sentences_punkt !== undefined)
      assert.equal(countSentences(text), ref.count_sentences_punkt, `sentences of ${ref.key}`);
    if (ref.count_capital_words_word_tokenize !== undefined)
      assert.equal(countCapitalWords(text), ref.count_capital_words_word_tokenize, `capitals of ${ref.key}`);
    checked++;
  }
  assert.equal(checked, 112);
});

test("count_words uses Unicode \\w+ like Python", () => {
  assert.equal(countWords("héllo wörld, naïve_test 42"), 4);
  assert.equal(countWords("日本語 text"), 2);
  assert.equal(countWords("--- !!! ..."), 0);
  assert.equal(countWords("don't"), 2);
});

test("capital words counted per punkt sentence equal word_tokenize's on every response and loose variant", async () => {
  const { looseVariants } = await import("../../../src/evaluate/ifeval/index.ts");
  const { clearTextCaches, pyIsUpper, wordTokenize } = await import("../../../src/checks/ifeval/index.ts");
  clearTextCaches();
  let texts = 0;
  for (const r of lines("responses_gpt4.jsonl"))
    for (const text of looseVariants(r.response as string)) {
      assert.equal(countCapitalWords(text), wordTokenize(text).filter(pyIsUpper).length, text.slice(0, 60));
      texts++;
    }
  assert.ok(texts >= 541 * 8);
  assert.equal(countCapitalWords("no capitals here. none at all."), 0);
});
