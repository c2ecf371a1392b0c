// Byte-level BPE as Hugging Face `tokenizer.json` data: the GPT-2 byte↔unicode map, the Qwen2 pre-tokenizer,
// a builder from vocab.json + merges.txt + added tokens, and a deterministic trainer (most frequent pair first; a
// lazy max-heap and pair counts updated only around merged spots, as HF's trainer). Encoding itself is done by the
// tokenizers library (tokenizer.ts); this file only produces its input.

import { DataError } from "../errors.ts";

// ---- types ----

export interface AddedTokenSpec {
  readonly id: number;
  readonly content: string;
  /** Special tokens are never split and are dropped by decode(skipSpecialTokens). @default true */
  readonly special?: boolean;
}

/** A byte-level BPE model: token string (byte-level alphabet) → id, and merges in priority order. */
export interface BpeModel {
  readonly vocab: Record<string, number>;
  readonly merges: [string, string][];
}

export interface TrainBpeOptions {
  /** Total size including the special tokens (the trainer may stop earlier when no pair repeats). */
  readonly vocabSize: number;
  /** Special tokens, given ids after the learned vocabulary, in this order. */
  readonly specialTokens: readonly string[];
  /** A pair must occur at least this many times to be merged. @default 2 */
  readonly minFrequency?: number;
}

// ---- helpers ----

/**
 * The Qwen2 pre-tokenizer split (Oniguruma syntax, as tokenizer.json stores it): contractions, letter runs with
 * one leading non-letter, single digits, punctuation runs, newline runs, spaces.
 */
export const QWEN2_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The same split as a JavaScript RegExp (Node 20 has no inline `(?i:…)`, so the contractions are spelled out). */
const SPLIT_JS =
  /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** GPT-2's map from the 256 byte values to printable unicode characters (bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return map;
}

const BYTE_CHARS = bytesToUnicode();
const UTF8 = new TextEncoder();

/** Text → its byte-level string (each UTF-8 byte as one character of the GPT-2 alphabet). */
export function toByteLevel(text: string): string {
  let out = "";
  for (const b of UTF8.encode(text)) out += BYTE_CHARS[b];
  return out;
}

/** Binary max-heap of (count, key): higher count first, then lower key (the trainer's tie rule). */
class PairHeap {
  private readonly n: number[] = [];
  private readonly k: number[] = [];
  get size(): number {
    return this.n.length;
  }
  private above(i: number, j: number): boolean {
    return this.n[i]! > this.n[j]! || (this.n[i] === this.n[j] && this.k[i]! < this.k[j]!);
  }
  private swap(i: number, j: number): void {
    [this.n[i], this.n[j]] = [this.n[j]!, this.n[i]!];
    [this.k[i], this.k[j]] = [this.k[j]!, this.k[i]!];
  }
  push(count: number, key: number): void {
    this.n.push(count);
    this.k.push(key);
    for (let i = this.n.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.n[0]!, this.k[0]!];
    const lastN = this.n.pop()!;
    const lastK = this.k.pop()!;
    if (this.n.length > 0) {
      this.n[0] = lastN;
      this.k[0] = lastK;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < this.n.length && this.above(l, m)) m = l;
        if (r < this.n.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

// ---- exports ----

/** Parse vocab.json text and merges.txt text (a `#version` header line is skipped; CRLF tolerated). */
export function parseVocabAndMerges(vocabJson: string, mergesTxt: string, path = "merges.txt"): BpeModel {
  const vocab = JSON.parse(vocabJson) as Record<string, number>;
  const merges: [string, string][] = [];
  const lines = mergesTxt.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line === "" || (i === 0 && line.startsWith("#version"))) return;
    const space = line.indexOf(" ", 1);
    if (space < 0) throw new DataError("bad merge line", { path, line: i + 1, expected: '"left right"', got: line });
    merges.push([line.slice(0, space), line.slice(space + 1)]);
  });
  return { vocab, merges };
}

/**
 * A complete byte-level BPE `tokenizer.json` object in the Qwen2 layout: NFC normaliser, the split regex then
 * ByteLevel (no prefix space), BPE without unk, ByteLevel decoder; added tokens matched before splitting.
 */
export function byteLevelBpeTokenizerJson(
  model: BpeModel,
  addedTokens: readonly AddedTokenSpec[],
  pattern: string = QWEN2_SPLIT_PATTERN,
): object {
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: t.special ?? true,
    })),
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [{ type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: model.vocab,
      merges: model.merges,
    },
  };
}

/**
 * Train a byte-level BPE on `texts`: NFC, split with the Qwen2 pattern, start from the 256 byte symbols (ids 0–255
 * in byte order), then repeatedly merge the most frequent adjacent pair (ties: lowest left id, then lowest right id)
 * until vocabSize − specials is reached or no pair occurs minFrequency times. Deterministic for a given input.
 */
export function trainByteLevelBpe(
  texts: Iterable<string>,
  options: TrainBpeOptions,
): BpeModel & { added: AddedTokenSpec[] } {
  const minFrequency = options.minFrequency ?? 2;
  const target = options.vocabSize - options.specialTokens.length;
  if (target < 256)
    throw new DataError("vocabulary too small for byte-level BPE", {
      field: "vocabSize",
      expected: `at least ${256 + options.specialTokens.length} (256 bytes + special tokens)`,
      got: String(options.vocabSize),
    });
  // Word frequencies over byte-level pieces.
  const freq = new Map<string, number>();
  for (const text of texts)
    for (const m of text.normalize("NFC").matchAll(SPLIT_JS)) {
      const piece = toByteLevel(m[0]);
      freq.set(piece, (freq.get(piece) ?? 0) + 1);
    }
  const symbols = [...BYTE_CHARS]; // id → string
  const ids = new Map(symbols.map((s, i) => [s, i]));
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [piece, n] of freq) {
    words.push([...piece].map((ch) => ids.get(ch)!));
    counts.push(n);
  }
  // Pair statistics: key = left * 2^21 + right (ids stay below 2^21).
  const K = 2 ** 21;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const changed = new Set<number>();
  const countWord = (w: number) => {
    const word = words[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i]! * K + word[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + counts[w]!);
      changed.add(key);
      let set = pairWords.get(key);
      if (!set) pairWords.set(key, (set = new Set()));
      set.add(w);
    }
  };
  for (let w = 0; w < words.length; w++) countWord(w);
  // A max-heap of (count, key) with lazy deletion: an entry is live only if its count is still the pair's count.
  const heap = new PairHeap();
  const flush = () => {
    for (const key of changed) {
      const n = pairCount.get(key) ?? 0;
      if (n >= minFrequency) heap.push(n, key);
    }
    changed.clear();
  };
  flush();
  const merges: [string, string][] = [];
  while (symbols.length < target) {
    let best = -1;
    while (heap.size > 0) {
      const [n, key] = heap.pop();
      if (pairCount.get(key) === n) {
        best = key;
        break;
      }
    }
    if (best < 0) break;
    const a = Math.floor(best / K);
    const b = best % K;
    const merged = symbols[a]! + symbols[b]!;
    let id = ids.get(merged);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(merged);
      ids.set(merged, id);
    }
    merges.push([symbols[a]!, symbols[b]!]);
    // Update pair counts only around each merged occurrence (as HF's Word::merge): the predecessor (already
    // merged, if it was) pairs with the new symbol instead of a, and the new symbol pairs with b's successor.
    const bump = (l: number, r: number, delta: number, w: number) => {
      const key = l * K + r;
      if (key === best) return; // consumed: deleted below
      const n = (pairCount.get(key) ?? 0) + delta;
      if (n === 0) pairCount.delete(key);
      else pairCount.set(key, n);
      changed.add(key);
      if (delta > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    };
    for (const w of pairWords.get(best) ?? []) {
      const word = words[w]!;
      const c = counts[w]!;
      const out: number[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          if (out.length > 0) {
            const prev = out[out.length - 1]!;
            bump(prev, a, -c, w);
            bump(prev, id, c, w);
          }
          if (i + 2 < word.length) {
            bump(b, word[i + 2]!, -c, w);
            bump(id, word[i + 2]!, c, w);
          }
          out.push(id);
          i += 2;
        } else out.push(word[i++]!);
      }
      words[w] = out;
    }
    pairCount.delete(best);
    pairWords.delete(best);
    changed.delete(best);
    flush();
  }
  const vocab: Record<string, number> = {};
  symbols.forEach((s, i) => {
    vocab[s] = i;
  });
  const added = options.specialTokens.map((content, i) => ({ id: symbols.length + i, content, special: true }));
  return { vocab, merges, added };
}
