// IFEval group `keywords:`: existence, frequency, forbidden_words, letter_frequency.
// Keywords are Python regular expressions in the official code (re.search / re.findall, IGNORECASE), so they
// are compiled with Python semantics here too. letter_frequency counts the given character literally.

import { z } from "zod";
import { Count, compare, defineChecker, fail, PASS, Relation } from "./checker.ts";
import { countMatches, pyStrip, userRegex } from "./pyre.ts";

const NonEmpty = z.string().min(1);

/** A keyword that is a literal under Python's regex syntax and matches only ASCII letters, digits and spaces. */
const PLAIN = /^[A-Za-z0-9 ]+$/;
/** The only non-ASCII characters that case-fold to ASCII letters (ſ → s, Kelvin sign → k). */
const FOLDS_TO_ASCII = /[\u017f\u212a]/;
let lowerKey: string | undefined;
let lowerVal = "";

/**
 * True when a case-insensitive search for `keyword` surely finds nothing: a cheap substring test that lets the
 * (slower, Unicode-boundary) regex run only where it can match. Sound because a match of a plain keyword
 * consists of ASCII letters, digits and spaces, which lower-case in place.
 */
function surelyAbsent(response: string, keyword: string): boolean {
  if (!PLAIN.test(keyword) || FOLDS_TO_ASCII.test(response)) return false;
  if (response !== lowerKey) {
    lowerVal = response.toLowerCase();
    lowerKey = response;
  }
  return !lowerVal.includes(keyword.toLowerCase());
}

export const keywordsExistence = defineChecker(
  "keywords:existence",
  { keywords: z.array(z.string()).min(1) },
  (response, def) => {
    for (const keyword of [...def.keywords].sort()) {
      if (surelyAbsent(response, keyword) || !userRegex(keyword, "i", "keywords").test(response))
        return fail("missing_keyword", `keyword ${JSON.stringify(keyword)}`, "not found");
    }
    return PASS;
  },
);

export const keywordsFrequency = defineChecker(
  "keywords:frequency",
  { keyword: NonEmpty, frequency: Count, relation: Relation },
  (response, def) => {
    const keyword = pyStrip(def.keyword);
    const re = userRegex(keyword, "ig", "keyword");
    const n = surelyAbsent(response, keyword) ? 0 : countMatches(re, response);
    return compare(def.relation, n, def.frequency, `occurrences of ${def.keyword}`);
  },
);

export const keywordsForbiddenWords = defineChecker(
  "keywords:forbidden_words",
  { forbidden_words: z.array(z.string()).min(1) },
  (response, def) => {
    for (const word of [...new Set(def.forbidden_words)].sort()) {
      if (surelyAbsent(response, word)) continue;
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
    const lower = response.toLowerCase();
    let count = 0;
    const unit = letter.length === 1 ? letter.charCodeAt(0) : -1;
    if (unit >= 0 && (unit < 0xd800 || unit > 0xdfff)) {
      // One BMP code unit that is no surrogate: it can only match itself, so count code units directly.
      for (let at = lower.indexOf(letter); at >= 0; at = lower.indexOf(letter, at + 1)) count++;
    } else for (const ch of lower) if (ch === letter) count++;
    return compare(def.let_relation, count, def.let_frequency, `letters ${JSON.stringify(letter)}`);
  },
);
