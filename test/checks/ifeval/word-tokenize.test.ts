import assert from "node:assert/strict";
import { test } from "node:test";
import { pyIsUpper, wordTokenize } from "../../../src/checks/ifeval/index.ts";

// Expected tokens produced by nltk 3.8's word_tokenize.
const CASES: Array<[string, string[]]> = [
  [
    "I DON'T KNOW, BUT \"WE\" CAN'T STOP NOW!",
    ["I", "DO", "N'T", "KNOW", ",", "BUT", "``", "WE", "''", "CA", "N'T", "STOP", "NOW", "!"],
  ],
  [
    "He said: 'hello' -- then left (quickly).",
    ["He", "said", ":", "'hello", "'", "--", "then", "left", "(", "quickly", ")", "."],
  ],
  ["GONNA be A-OK... U.S.A. rocks", ["GON", "NA", "be", "A-OK", "...", "U.S.A.", "rocks"]],
];

test("word_tokenize splits contractions, quotes, dashes and brackets like NLTK", () => {
  for (const [text, want] of CASES) assert.deepEqual(wordTokenize(text), want, text);
});

test("capital words are tokens for which str.isupper() holds", () => {
  assert.equal(wordTokenize(CASES[0]![0]).filter(pyIsUpper).length, 10);
  assert.equal(wordTokenize(CASES[2]![0]).filter(pyIsUpper).length, 4);
});
