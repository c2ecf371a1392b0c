import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { DataError } from "../../src/errors.ts";
import {
  byteLevelBpeTokenizerJson,
  bytesToUnicode,
  ModelTokenizer,
  parseVocabAndMerges,
  toByteLevel,
  trainByteLevelBpe,
} from "../../src/model/index.ts";

const corpus = await readFile(new URL("../../../shared/DESIGN.md", import.meta.url), "utf8");

test("GPT-2 byte map: 256 distinct printable characters, identity on printable ASCII", () => {
  const map = bytesToUnicode();
  assert.equal(new Set(map).size, 256);
  assert.equal(map[0x41], "A");
  assert.equal(map[0x20], "Ġ");
  assert.equal(map[0x0a], "Ċ");
  assert.equal(toByteLevel("é"), "Ã©");
});

test("the trainer merges the most frequent pair first, and stops when no pair repeats", () => {
  const bpe = trainByteLevelBpe(["ab ab ab cd"], { vocabSize: 1000, specialTokens: ["<s>"] });
  assert.deepEqual(bpe.merges, [
    ["a", "b"],
    ["Ġ", "ab"],
  ]);
  assert.equal(bpe.vocab.ab, 256);
  assert.equal(bpe.vocab["Ġab"], 257);
  assert.deepEqual(bpe.added, [{ id: 258, content: "<s>", special: true }]);
});

test("the trainer is deterministic and reaches the requested size on enough text", () => {
  const options = { vocabSize: 600, specialTokens: ["<|endoftext|>", "<|im_end|>"] };
  const a = trainByteLevelBpe([corpus], options);
  const b = trainByteLevelBpe([corpus], options);
  assert.deepEqual(a.merges, b.merges);
  assert.equal(Object.keys(a.vocab).length + a.added.length, 600);
  assert.equal(a.added.at(-1)!.id, 599);
});

/**
 * The textbook trainer: recount every pair after every merge (slow, obviously right). Same tie rule as the
 * trainer: most frequent, then lowest left id, then lowest right id (bytes 0–255 in byte order, then new symbols).
 */
function naiveMerges(pieces: Map<string[], number>): [string, string][] {
  const ids = new Map(bytesToUnicode().map((ch, i) => [ch, i]));
  const merges: [string, string][] = [];
  for (;;) {
    const pairs = new Map<number, number>();
    for (const [word, n] of pieces)
      for (let i = 0; i + 1 < word.length; i++) {
        const key = ids.get(word[i]!)! * 4096 + ids.get(word[i + 1]!)!;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    let best = -1;
    for (const [key, n] of pairs)
      if (best < 0 || n > pairs.get(best)! || (n === pairs.get(best)! && key < best)) best = key;
    if (best < 0 || pairs.get(best)! < 2) return merges;
    const symbols = [...ids.keys()];
    const [a, b] = [symbols[Math.floor(best / 4096)]!, symbols[best % 4096]!];
    merges.push([a, b]);
    if (!ids.has(a + b)) ids.set(a + b, ids.size);
    for (const word of pieces.keys())
      for (let i = 0; i + 1 < word.length; i++) if (word[i] === a && word[i + 1] === b) word.splice(i, 2, a + b);
  }
}

test("the incremental trainer makes exactly the merges of the textbook recount", () => {
  const texts = [corpus.slice(0, 3000), "aaaa aaa abab ababab 1234 12 12 x\n\n y ünï ünï 中文中文"];
  const bpe = trainByteLevelBpe(texts, { vocabSize: 100000, specialTokens: [] });
  const split =
    /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
  const freq = new Map<string, number>();
  for (const t of texts)
    for (const m of t.matchAll(split)) freq.set(toByteLevel(m[0]), (freq.get(toByteLevel(m[0])) ?? 0) + 1);
  const naive = naiveMerges(new Map([...freq].map(([w, n]) => [[...w], n])));
  assert.ok(naive.length > 100, `${naive.length} merges`);
  assert.deepEqual(bpe.merges, naive);
});

test("a trained tokenizer compresses its text and round-trips any text, unseen scripts included", () => {
  const bpe = trainByteLevelBpe([corpus], { vocabSize: 800, specialTokens: ["<|endoftext|>"] });
  const tok = new ModelTokenizer(byteLevelBpeTokenizerJson(bpe, bpe.added), {});
  const ids = tok.encode(corpus);
  assert.ok(ids.length < new TextEncoder().encode(corpus).length / 2, `${ids.length} tokens`);
  assert.equal(tok.decode(ids), corpus.normalize("NFC"));
  for (const s of ["Cửa Việt 🧑‍🤝‍🧑 中文 ☃\t\n  x", "<|endoftext|>tail", ""])
    assert.equal(tok.decode(tok.encode(s)), s);
  assert.deepEqual(tok.encode("<|endoftext|>"), [799]);
});

test("too small a vocabulary and malformed merges are DataErrors", () => {
  assert.throws(() => trainByteLevelBpe(["x"], { vocabSize: 257, specialTokens: ["a", "b"] }), DataError);
  assert.throws(() => parseVocabAndMerges("{}", "#version: 0.2\nab\n", "m.txt"), /m\.txt:2: bad merge line/);
  assert.deepEqual(parseVocabAndMerges("{}", "#version: 0.2\r\nĠ t\r\na b\r\n").merges, [
    ["Ġ", "t"],
    ["a", "b"],
  ]);
});
