// The langdetect 1.0.9 profiles as lookup tables: reads data/langdetect-profiles.bin (layout in
// data/make_langdetect_data.py) into integer-keyed n-gram tables, a BMP normalisation table and sparse
// probabilities whose dense rows are built on first use. No detection here (langdetect.ts).

import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataError } from "../../errors.ts";

// ---- types ----

/** The binary file's JSON header (layout in data/make_langdetect_data.py). */
const HeaderSchema = z.object({
  langs: z.array(z.string()),
  nWords: z.array(z.array(z.number())),
  /** Every character of every n-gram; character id = index + 1 (0 pads shorter n-grams). */
  chars: z.array(z.string()),
  gramCount: z.number().int().nonnegative(),
  /** (gram index, count) pairs per language. */
  entries: z.array(z.number().int().nonnegative()),
  latin1Excluded: z.string(),
  cjkClasses: z.array(z.string()),
  viToNormalize: z.string(),
  viDmark: z.string(),
  viNormalized: z.array(z.string()),
});

export interface Model {
  readonly langs: readonly string[];
  /** N-gram index (a "row") per unigram character id, or -1. */
  readonly uni: Int32Array;
  /** Row per bigram, keyed `a * K + b` (character ids; K = chars + 1). */
  readonly bi: ReadonlyMap<number, number>;
  /** Trigram prefix id per bigram key `a * K + b`, and row per trigram key `prefix * K + c`. */
  readonly triPrefix: ReadonlyMap<number, number>;
  readonly tri: ReadonlyMap<number, number>;
  /** Dense tables for the first DENSE character ids (ASCII letters, space, common accents): row or -1. */
  readonly bi2: Int32Array;
  /** Dense trigram prefix index per `a * DENSE + b` (or -1), and row per `prefix * DENSE + c` (or -1). */
  readonly triP: Int32Array;
  readonly tri3: Int32Array;
  readonly K: number;
  /**
   * Each n-gram's probabilities, sparse (CSR: the entries of gram g are `start[g]` … `start[g + 1]` of
   * `lang`/`p`). A dense row of all languages is built the first time a text uses the n-gram (`dense`).
   */
  readonly start: Int32Array;
  readonly lang: Uint8Array;
  readonly p: Float64Array;
  readonly dense: DenseRows;
  /** NGram.normalize for every BMP code point (code points above the BMP normalise to themselves). */
  readonly norm: Int32Array;
  /** Character id per BMP code point (0: in no n-gram); `astralId` for the rest. */
  readonly bmpId: Uint16Array;
  readonly astralId: ReadonlyMap<number, number>;
  readonly viRe: RegExp;
  /** viRe without the global flag, to test for a Vietnamese mark. */
  readonly viTest: RegExp;
  readonly viReplace: (m: string, a: string, d: string) => string;
}

// ---- helpers ----

export const SPACE = 0x20;
/** Character ids below this (the profiles list ASCII letters first) use array lookups instead of maps. */
export const DENSE = 128;

/** Dense rows (one probability per language) for the n-grams texts have used so far, in one growing array. */
export class DenseRows {
  /** Offset of each n-gram's row in `data`, or -1 before its first use. */
  private readonly offset: Int32Array;
  data: Float64Array;
  private used = 0;

  constructor(
    grams: number,
    private readonly L: number,
  ) {
    this.offset = new Int32Array(grams).fill(-1);
    this.data = new Float64Array(1024 * L);
  }

  /** Offsets of the rows of `grams` (built on first use from the sparse entries). */
  offsets(grams: readonly number[], m: Model): Int32Array {
    const out = new Int32Array(grams.length);
    for (let i = 0; i < grams.length; i++) {
      const g = grams[i]!;
      let at = this.offset[g]!;
      if (at < 0) {
        if ((this.used + 1) * this.L > this.data.length) {
          const grown = new Float64Array(this.data.length * 2);
          grown.set(this.data);
          this.data = grown;
        }
        at = this.used++ * this.L;
        for (let k = m.start[g]!; k < m.start[g + 1]!; k++) this.data[at + m.lang[k]!] = m.p[k]!;
        this.offset[g] = at;
      }
      out[i] = at;
    }
    return out;
  }
}

/** NGram.normalize by Unicode block, as a table over the BMP. */
function normTable(latin1Excluded: string, cjkClasses: readonly string[]): Int32Array {
  const t = new Int32Array(0x10000);
  for (let cp = 0; cp < 0x10000; cp++) t[cp] = cp;
  for (let cp = 0; cp <= 0x7f; cp++) {
    const letter = (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
    if (!letter) t[cp] = SPACE;
  }
  for (const ch of latin1Excluded) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x80 && cp <= 0xff) t[cp] = SPACE;
  }
  t[0x219] = 0x15f;
  t[0x21b] = 0x163;
  t.fill(SPACE, 0x2000, 0x2070);
  t[0x6cc] = 0x64a;
  t.fill(0x1ec3, 0x1ea0, 0x1f00);
  t.fill(0x3042, 0x3040, 0x30a0);
  t.fill(0x30a2, 0x30a0, 0x3100);
  t.fill(0x3105, 0x3100, 0x3130);
  t.fill(0x3105, 0x31a0, 0x31c0);
  for (const cls of cjkClasses) {
    const rep = cls.codePointAt(0)!;
    for (const ch of cls) {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0x4e00 && cp <= 0x9fff) t[cp] = rep;
    }
  }
  t.fill(0xac00, 0xac00, 0xd7b0);
  return t;
}

/** Read the profiles file into a Model (once per process; callers keep it). */
export function loadModel(): Model {
  const path = new URL("./data/langdetect-profiles.bin", import.meta.url);
  const buf = readFileSync(path);
  const bad = (got: string) =>
    new DataError("unreadable langdetect profiles", {
      path: path.pathname,
      expected: "the binary layout written by data/make_langdetect_data.py",
      got,
      hint: "regenerate it with /usr/bin/python3 src/checks/ifeval/data/make_langdetect_data.py",
    });
  if (buf.length < 12 || buf.toString("latin1", 0, 4) !== "LDPB" || buf.readUInt32LE(4) !== 1)
    throw bad("no LDPB version 1 header");
  const headerLen = buf.readUInt32LE(8);
  const parsed = HeaderSchema.safeParse(JSON.parse(buf.toString("utf8", 12, 12 + headerLen)));
  if (!parsed.success) throw bad(parsed.error.issues[0]!.message);
  const h = parsed.data;
  const L = h.langs.length;
  const G = h.gramCount;
  const idsAt = (12 + headerLen + 3) & ~3;
  const pairsAt = (idsAt + 6 * G + 3) & ~3;
  const pairCount = h.entries.reduce((a, b) => a + b, 0);
  if (pairsAt + 8 * pairCount !== buf.length) throw bad(`${buf.length} bytes`);
  // Copies: the Buffer's offset into its pool need not be aligned for typed-array views.
  const ids = new Uint16Array(buf.buffer.slice(buf.byteOffset + idsAt, buf.byteOffset + idsAt + 6 * G));
  const pairs = new Uint32Array(buf.buffer.slice(buf.byteOffset + pairsAt, buf.byteOffset + buf.length));

  const K = h.chars.length + 1;
  const bmpId = new Uint16Array(0x10000);
  const astralId = new Map<number, number>();
  h.chars.forEach((ch, i) => {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x10000) bmpId[cp] = i + 1;
    else astralId.set(cp, i + 1);
  });
  const uni = new Int32Array(K).fill(-1);
  const bi = new Map<number, number>();
  const triPrefix = new Map<number, number>();
  const tri = new Map<number, number>();
  const lengths = new Uint8Array(G);
  for (let g = 0; g < G; g++) {
    const a = ids[3 * g]!;
    const b = ids[3 * g + 1]!;
    const c = ids[3 * g + 2]!;
    if (b === 0) {
      uni[a] = g;
      lengths[g] = 1;
    } else if (c === 0) {
      bi.set(a * K + b, g);
      lengths[g] = 2;
    } else {
      let p = triPrefix.get(a * K + b);
      if (p === undefined) triPrefix.set(a * K + b, (p = triPrefix.size));
      tri.set(p * K + c, g);
      lengths[g] = 3;
    }
  }
  // Dense copies for grams whose characters all have small ids (nearly every lookup in Latin-script text).
  const bi2 = new Int32Array(DENSE * DENSE).fill(-1);
  const triP = new Int32Array(DENSE * DENSE).fill(-1);
  let prefixes = 0;
  for (let g = 0; g < G; g++) {
    const a = ids[3 * g]!;
    const b = ids[3 * g + 1]!;
    const c = ids[3 * g + 2]!;
    if (a >= DENSE || b >= DENSE || c >= DENSE || b === 0) continue;
    if (c === 0) bi2[a * DENSE + b] = g;
    else if (triP[a * DENSE + b]! < 0) triP[a * DENSE + b] = prefixes++;
  }
  const tri3 = new Int32Array(prefixes * DENSE).fill(-1);
  for (let g = 0; g < G; g++) {
    const a = ids[3 * g]!;
    const b = ids[3 * g + 1]!;
    const c = ids[3 * g + 2]!;
    if (a < DENSE && b < DENSE && c < DENSE && c !== 0) tri3[triP[a * DENSE + b]! * DENSE + c] = g;
  }
  // Sparse probabilities by n-gram (a dense [grams × languages] table would be 38 MB, mostly zeros).
  const start = new Int32Array(G + 1);
  for (let k = 0; k < pairCount; k++) start[pairs[2 * k]! + 1]!++;
  for (let g = 0; g < G; g++) start[g + 1]! += start[g]!;
  const fill = start.slice(0, G);
  const langOf = new Uint8Array(pairCount);
  const p = new Float64Array(pairCount);
  let at = 0;
  for (let lang = 0; lang < L; lang++)
    for (let k = 0; k < h.entries[lang]!; k++, at += 2) {
      const g = pairs[at]!;
      const slot = fill[g]!++;
      langOf[slot] = lang;
      p[slot] = pairs[at + 1]! / h.nWords[lang]![lengths[g]! - 1]!;
    }
  const toNormalize = [...h.viToNormalize];
  return {
    langs: h.langs,
    uni,
    bi,
    triPrefix,
    tri,
    bi2,
    triP,
    tri3,
    K,
    start,
    lang: langOf,
    p,
    dense: new DenseRows(G, L),
    norm: normTable(h.latin1Excluded, h.cjkClasses),
    bmpId,
    astralId,
    viRe: new RegExp(`([${h.viToNormalize}])([${h.viDmark}])`, "gu"),
    viTest: new RegExp(`([${h.viToNormalize}])([${h.viDmark}])`, "u"),
    viReplace: (_m, a, d) => [...h.viNormalized[h.viDmark.indexOf(d)]!][toNormalize.indexOf(a)]!,
  };
}
