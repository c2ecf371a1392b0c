// NLTK's `word_tokenize` (nltk 3.8): punkt sentences, then the improved Treebank tokenizer (NLTKWordTokenizer)
// on each sentence. Used by IFEval's `capital_word_frequency`. The regexes are NLTK's, in Python syntax, compiled
// through pyre.ts so \w, \b and $ keep their Python meaning. Span tokenizing and PTB bracket conversion are left out.

import { type PunktParams, punktSentences } from "./punkt.ts";
import { pyRegex, pySplit } from "./pyre.ts";

// ---- helpers ----

type Rule = readonly [RegExp, string];

const rule = (py: string, replacement: string): Rule => [pyRegex(py, "g"), replacement];

const STARTING_QUOTES: readonly Rule[] = [
  rule("([«“‘„]|[`]+)", " $1 "),
  rule('^\\"', "``"),
  rule("(``)", " $1 "),
  rule("([ \\(\\[{<])(\\\"|\\'{2})", "$1 `` "),
  rule("(?i)(\\')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", "$1 $2"),
];

const ENDING_QUOTES: readonly Rule[] = [
  rule("([»”’])", " $1 "),
  rule("''", " '' "),
  rule('"', " '' "),
  rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
  rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "),
];

const PUNCTUATION: readonly Rule[] = [
  rule("([^\\.])(\\.)([\\]\\)}>\"\\'»”’ ]*)\\s*$", "$1 $2 $3 "),
  rule("([:,])([^\\d])", " $1 $2"),
  rule("([:,])$", " $1 "),
  rule("\\.{2,}", " $& "),
  rule("[;@#$%&]", " $& "),
  rule("([^\\.])(\\.)([\\]\\)}>\"\\']*)\\s*$", "$1 $2$3 "),
  rule("[?!]", " $& "),
  rule("([^'])' ", "$1 ' "),
  rule("[*]", " $& "),
];

const PARENS_BRACKETS = rule("[\\]\\[\\(\\)\\{\\}\\<\\>]", " $& ");
const DOUBLE_DASHES = rule("--", " -- ");

const CONTRACTIONS: readonly Rule[] = [
  "(?i)\\b(can)(?#X)(not)\\b",
  "(?i)\\b(d)(?#X)('ye)\\b",
  "(?i)\\b(gim)(?#X)(me)\\b",
  "(?i)\\b(gon)(?#X)(na)\\b",
  "(?i)\\b(got)(?#X)(ta)\\b",
  "(?i)\\b(lem)(?#X)(me)\\b",
  "(?i)\\b(more)(?#X)('n)\\b",
  "(?i)\\b(wan)(?#X)(na)(?=\\s)",
  "(?i) ('t)(?#X)(is)\\b",
  "(?i) ('t)(?#X)(was)\\b",
].map((py) => rule(py, " $1 $2 "));

function apply(text: string, rules: readonly Rule[]): string {
  for (const [re, replacement] of rules) text = text.replace(re, replacement);
  return text;
}

// ---- exports ----

/** NLTKWordTokenizer.tokenize on one sentence. */
export function treebankTokenize(text: string): string[] {
  text = apply(text, STARTING_QUOTES);
  text = apply(text, PUNCTUATION);
  text = apply(text, [PARENS_BRACKETS, DOUBLE_DASHES]);
  text = apply(` ${text} `, ENDING_QUOTES);
  text = apply(text, CONTRACTIONS);
  return pySplit(text);
}

/** nltk.word_tokenize(text): punkt sentence split, then Treebank tokens per sentence. */
export function wordTokenize(text: string, params?: PunktParams): string[] {
  return punktSentences(text, params).flatMap(treebankTokenize);
}
