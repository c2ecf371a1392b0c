// IFEval's text measures (instructions_util): words as nltk RegexpTokenizer(r"\w+"), sentences as NLTK punkt,
// capital words as nltk.word_tokenize tokens for which str.isupper() holds. Results are memoised per text
// (a bounded cache), since the loose evaluation measures the same variants for several instructions.

import { punktSentences } from "./punkt.ts";
import { pyIsUpper, pyRegex } from "./pyre.ts";
import { treebankTokenize } from "./word-tokenize.ts";

const WORD = pyRegex("\\w+", "g");
const ANY_UPPER = /\p{Uppercase}/u;
const LIMIT = 4096;
const CLEARERS: Array<() => void> = [];

function memo(fn: (text: string) => number): (text: string) => number {
  const cache = new Map<string, number>();
  CLEARERS.push(() => cache.clear());
  return (text) => {
    let v = cache.get(text);
    if (v === undefined) {
      if (cache.size >= LIMIT) cache.clear();
      v = fn(text);
      cache.set(text, v);
    }
    return v;
  };
}

/** instructions_util.count_words. */
export const countWords = memo((text) => text.match(WORD)?.length ?? 0);

/** instructions_util.count_sentences (punkt English). */
export const countSentences = memo((text) => punktSentences(text).length);

/** All-capital Treebank tokens of one punkt sentence (loose variants of a response share most sentences). */
const capitalWordsInSentence = memo((sentence) => treebankTokenize(sentence).filter(pyIsUpper).length);

/**
 * Words in nltk.word_tokenize(text) that are all capitals (str.isupper): word_tokenize is punkt sentences, then
 * Treebank tokens of each. Tokens are pieces of the text (or quote marks), so no capital letter, no capital word.
 */
export const countCapitalWords = memo((text) => {
  if (!ANY_UPPER.test(text)) return 0;
  let n = 0;
  for (const sentence of punktSentences(text)) n += capitalWordsInSentence(sentence);
  return n;
});

/** Forget memoised measures (benchmarks use this to time real work). */
export function clearTextCaches(): void {
  for (const clear of CLEARERS) clear();
}
