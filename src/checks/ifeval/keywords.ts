// IFEval group `keywords:`: existence, frequency, forbidden_words, letter_frequency.
// Keywords are Python regular expressions in the official code (re.search / re.findall, IGNORECASE), so they
// are compiled with Python semantics here too. letter_frequency counts the given character literally.

import { z } from "zod";
import { Count, compare, defineChecker, fail, PASS, Relation } from "./checker.ts";
import { countMatches, pyStrip, userRegex } from "./pyre.ts";

const NonEmpty = z.string().min(1);

export const keywordsExistence = defineChecker(
  "keywords:existence",
  { keywords: z.array(z.string()).min(1) },
  (response, def) => {
    for (const keyword of [...def.keywords].sort()) {
      if (!userRegex(keyword, "i", "keywords").test(response))
        return fail("missing_keyword", `keyword ${JSON.stringify(keyword)}`, "not found");
    }
    return PASS;
  },
);

export const keywordsFrequency = defineChecker(
  "keywords:frequency",
  { keyword: NonEmpty, frequency: Count, relation: Relation },
  (response, def) => {
    const re = userRegex(pyStrip(def.keyword), "ig", "keyword");
    return compare(def.relation, countMatches(re, response), def.frequency, `occurrences of ${def.keyword}`);
  },
);

export const keywordsForbiddenWords = defineChecker(
  "keywords:forbidden_words",
  { forbidden_words: z.array(z.string()).min(1) },
  (response, def) => {
    for (const word of [...new Set(def.forbidden_words)].sort()) {
      if (userRegex(`\\b${word}\\b`, "i", "forbidden_words").test(response))
        return fail("forbidden_word", `no ${JSON.stringify(word)}`, "found");
    }
    return PASS;
  },
);

export const keywordsLetterFrequency = defineChecker(
  "keywords:letter_frequency",
  {
    letter: z.string().refine((s) => [...s].length === 1, "expected exactly one character"),
    let_frequency: Count,
    let_relation: Relation,
  },
  (response, def) => {
    const letter = pyStrip(def.letter).toLowerCase();
    let count = 0;
    for (const ch of response.toLowerCase()) if (ch === letter) count++;
    return compare(def.let_relation, count, def.let_frequency, `letters ${JSON.stringify(letter)}`);
  },
);
