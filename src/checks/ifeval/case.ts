// IFEval group `change_case:`: capital_word_frequency (nltk word_tokenize tokens that are str.isupper()),
// english_capital and english_lowercase (str.isupper/islower and langdetect says "en"; a text langdetect
// cannot classify counts as followed, as in the official code).

import { z } from "zod";
import { compare, defineChecker, PASS, pass, Relation } from "./checker.ts";
import { detectLanguage, NoFeaturesError } from "./langdetect.ts";
import { pyIsLower, pyIsUpper } from "./pyre.ts";
import { countCapitalWords } from "./text.ts";

/** langdetect says English; undetectable text counts as English (the official checker's except branch). */
export function isEnglish(text: string): boolean {
  try {
    return detectLanguage(text) === "en";
  } catch (err) {
    if (err instanceof NoFeaturesError) return true;
    throw err;
  }
}

export const capitalWordFrequency = defineChecker(
  "change_case:capital_word_frequency",
  { capital_frequency: z.number().int(), capital_relation: Relation },
  (response, def) =>
    compare(def.capital_relation, countCapitalWords(response), def.capital_frequency, "all-capital words"),
);

export const englishCapital = defineChecker("change_case:english_capital", {}, (response) => {
  if (!pyIsUpper(response)) return pass(false, "wrong_case", "all capital letters", "lowercase letters");
  return isEnglish(response) ? PASS : pass(false, "wrong_language", "English", "another language");
});

export const englishLowercase = defineChecker("change_case:english_lowercase", {}, (response) => {
  if (!pyIsLower(response)) return pass(false, "wrong_case", "all lowercase letters", "capital letters");
  return isEnglish(response) ? PASS : pass(false, "wrong_language", "English", "another language");
});
