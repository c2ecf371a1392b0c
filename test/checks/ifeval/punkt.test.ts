import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { englishPunktParams, loadPunktParams, punktSentences } from "../../../src/checks/ifeval/index.ts";

const SHARED = new URL("../../../../shared/data/ifeval/", import.meta.url);

// Expected splits produced by nltk 3.8's PunktSentenceTokenizer with the same parameters.
const CASES: Array<[string, string[]]> = [
  [
    "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday.",
    ["Mr. Smith went to Washington.", "He arrived at 5 p.m. on Monday."],
  ],
  ["Hello world! How are you? I'm fine... thanks.", ["Hello world!", "How are you?", "I'm fine... thanks."]],
  [
    '(This is one.) This is two. "Quoted end." Next one',
    ["(This is one.)", "This is two.", '"Quoted end."', "Next one"],
  ],
  [
    "The U.S. economy grew 3.5% in Q2. Analysts, e.g. J. Smith, were surprised.",
    ["The U.S. economy grew 3.5% in Q2.", "Analysts, e.g.", "J. Smith, were surprised."],
  ],
  ["Item 1. Buy milk.\n\nItem 2. Sell eggs.", ["Item 1.", "Buy milk.", "Item 2.", "Sell eggs."]],
  ["no punctuation at all", ["no punctuation at all"]],
  ["", []],
];

test("punkt splits like NLTK on abbreviations, initials, ellipses, brackets and quotes", () => {
  for (const [text, want] of CASES) assert.deepEqual(punktSentences(text), want, JSON.stringify(text));
});

test("the embedded English parameters equal the shared NLTK export", () => {
  const shared = loadPunktParams(new URL("punkt_english_params.json", SHARED).pathname);
  const embedded = englishPunktParams();
  assert.deepEqual([...embedded.abbrevTypes].sort(), [...shared.abbrevTypes].sort());
  assert.deepEqual([...embedded.collocations].sort(), [...shared.collocations].sort());
  assert.deepEqual([...embedded.sentStarters].sort(), [...shared.sentStarters].sort());
  assert.deepEqual([...embedded.orthoContext].sort(), [...shared.orthoContext].sort());
});

test("a params file that is not punkt parameters is a DataError naming the file", () => {
  const path = new URL("SOURCE.md", SHARED).pathname;
  assert.throws(() => loadPunktParams(path), /SOURCE\.md/);
  assert.ok(readFileSync(path, "utf8").length > 0);
});
