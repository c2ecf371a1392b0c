import assert from "node:assert/strict";
import { test } from "node:test";
import { measure } from "../../../src/checks/rules/index.ts";
import { Rng } from "../../../src/construct/offline/rng.ts";

// Pieces that exercise every branch of the sentence rules: ends . ! ? (with and without following space), the
// CJK stops 。！？, whitespace runs (\t, NBSP, ideographic space), list markers, headings, tables, SECTION lines.
const PIECES = [
  "Alpha beta",
  "word",
  ".",
  "!",
  "?",
  " ",
  "  ",
  "\t",
  "\u00a0",
  "\u3000",
  "。",
  "！",
  "？",
  "\n",
  "\n\n",
  "1. ",
  "- ",
  "* ",
  "• ",
  "## Title",
  "| a | b |",
  "| --- | --- |",
  "SECTION 2",
  "3.5",
  "中文",
  "é",
  "...",
  "'",
];

test("sentenceCount(text) equals sentences(text).length on 5,000 random texts", () => {
  const rng = new Rng(42);
  for (let i = 0; i < 5000; i++) {
    let text = "";
    const n = rng.int(0, 24);
    for (let k = 0; k < n; k++) text += rng.pick(PIECES);
    assert.equal(measure.sentenceCount(text), measure.sentences(text).length, JSON.stringify(text));
  }
});

test("sentence rules on hand-written cases", () => {
  assert.equal(measure.sentenceCount("One. Two! Three? Four"), 4);
  assert.equal(measure.sentenceCount("Only 3.5 one."), 1);
  assert.equal(measure.sentenceCount("第一句。第二句！第三句？"), 3);
  assert.equal(measure.sentenceCount("## Heading\n| a | b |\n| --- | --- |\n- item one\n- item two"), 2);
  assert.equal(measure.sentenceCount("SECTION 1\nBody here.\n\n"), 1);
  assert.equal(measure.sentenceCount(""), 0);
});

test("measures stay right when texts alternate (the last text's lines and lower case are reused)", () => {
  const a = "# A\n- one\n- two\nKeyword here. Second one.";
  const b = "1. first\n2. second\n## B\nNo keyword";
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(
      [measure.bulletItems(a), measure.numberedItems(a), measure.headings(a).length, measure.sentenceCount(a)],
      [2, [], 1, 4],
    );
    assert.deepEqual(
      [measure.bulletItems(b), measure.numberedItems(b), measure.headings(b).length, measure.sentenceCount(b)],
      [0, [1, 2], 1, 3],
    );
    assert.equal(measure.occurrences(a, "keyword"), 1);
    assert.equal(measure.occurrences(b, "keyword"), 1);
    assert.equal(measure.occurrences(b, "Keyword"), 0);
  }
});
