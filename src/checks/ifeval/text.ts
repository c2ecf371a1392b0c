// IFEval's text measures (instructions_util): words as nltk RegexpTokenizer(r"\w+"), sentences as NLTK punkt,
// capital words as nltk.word_tokenize tokens for which str.isupper() holds. Results are memoised per text
// (a bounded cache), since the loose evaluation measures the same variants for several instructions.

import { punktSentences } from "./punkt.ts";
import { pyIsUpper, pyRegex } from "./pyre.ts";
import { wordTokenize } from "./word-tokenize.ts";

const WORD = pyRegex("\\w+", "g");
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

/** Words in nltk.word_tokenize(text) that are all capitals (str.isupper). */
export const countCapitalWords = memo((text) => wordTokenize(text).filter(pyIsUpper).length);

/** Forget memoised measures (benchmarks use this to time real work). */
export function clearTextCaches(): void {
  for (const clear of CLEARERS) clear();
}
