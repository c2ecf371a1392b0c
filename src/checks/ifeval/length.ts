// IFEval group `length_constraints:`: number_sentences (NLTK punkt), number_words (\w+ tokens),
// number_paragraphs (*** dividers) and nth_paragraph_first_word (blank-line paragraphs).

import { z } from "zod";
import { Count, compare, defineChecker, fail, pass, Relation } from "./checker.ts";
import { pyLstrip, pyRegex, pySplit, pyStrip } from "./pyre.ts";
import { countSentences, countWords } from "./text.ts";

const PARAGRAPH_DIVIDER = pyRegex("\\s?\\*\\*\\*\\s?");
const FIRST_WORD_STOP = new Set([".", ",", "?", "!", "'", '"']);

export const numberSentences = defineChecker(
  "length_constraints:number_sentences",
  { num_sentences: Count, relation: Relation },
  (response, def) => compare(def.relation, countSentences(response), def.num_sentences, "sentences"),
);

export const numberWords = defineChecker(
  "length_constraints:number_words",
  { num_words: Count, relation: Relation },
  (response, def) => compare(def.relation, countWords(response), def.num_words, "words"),
);

export const numberParagraphs = defineChecker(
  "length_constraints:number_paragraphs",
  { num_paragraphs: Count },
  (response, def) => {
    const parts = response.split(PARAGRAPH_DIVIDER);
    let count = parts.length;
    for (let i = 0; i < parts.length; i++) {
      if (pyStrip(parts[i]!) !== "") continue;
      if (i !== 0 && i !== parts.length - 1)
        return fail("bad_format", "no empty paragraph", `empty paragraph ${i + 1}`);
      count--;
    }
    return pass(count === def.num_paragraphs, "wrong_count", `${def.num_paragraphs} paragraphs`, String(count));
  },
);

export const nthParagraphFirstWord = defineChecker(
  "length_constraints:nth_paragraph_first_word",
  { num_paragraphs: Count, nth_paragraph: z.number().int().positive(), first_word: z.string() },
  (response, def) => {
    const parts = response.split("\n\n");
    const count = parts.filter((p) => pyStrip(p) !== "").length;
    const wanted = def.first_word.toLowerCase();
    if (def.nth_paragraph > count) return fail("wrong_count", `paragraph ${def.nth_paragraph}`, `${count} paragraphs`);
    const paragraph = pyStrip(parts[def.nth_paragraph - 1]!);
    if (paragraph === "") return fail("missing_text", `paragraph ${def.nth_paragraph}`, "empty paragraph");
    let first = "";
    for (const ch of pyLstrip(pyLstrip(pyStrip(pySplit(paragraph)[0]!), "'"), '"')) {
      if (FIRST_WORD_STOP.has(ch)) break;
      first += ch.toLowerCase();
    }
    if (count !== def.num_paragraphs) return fail("wrong_count", `${def.num_paragraphs} paragraphs`, String(count));
    return pass(first === wanted, "missing_keyword", `first word ${JSON.stringify(wanted)}`, JSON.stringify(first));
  },
  { test: (d) => d.nth_paragraph <= d.num_paragraphs, message: "nth_paragraph must be at most num_paragraphs" },
);
