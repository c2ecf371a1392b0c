// Language identification: a port of Python `langdetect` 1.0.9 (itself a port of Cybozu's language-detection),
// with its 55 profiles (data/langdetect-profiles.json.gz, Apache-2.0). The official checker calls it unseeded;
// here the generator is CPython's MT19937 seeded with 0, so a verdict is deterministic and equals Python's
// `DetectorFactory.seed = 0` run. Only `detect` is ported (no priors, no verbose tracing, no profile training).

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { PyRandom } from "./py-random.ts";

// ---- types ----

/** The file's shape; `counts[lang]` is a flat [gram index, count, …] list (validated by length, not by zod). */
const ProfilesSchema = z.object({
  langs: z.array(z.string()),
  nWords: z.array(z.array(z.number())),
  grams: z.string(),
  counts: z.array(z.unknown()),
  latin1Excluded: z.string(),
  cjkClasses: z.array(z.string()),
  viToNormalize: z.string(),
  viDmark: z.string(),
  viNormalized: z.array(z.string()),
});

interface Model {
  readonly langs: readonly string[];
  /** n-gram → row index into `probs` (row length = langs.length). */
  readonly index: ReadonlyMap<string, number>;
  readonly probs: Float64Array;
  readonly latin1Excluded: string;
  readonly cjkMap: ReadonlyMap<string, string>;
  readonly viRe: RegExp;
  readonly viReplace: (m: string, a: string, d: string) => string;
}

/** Thrown where langdetect raises LangDetectException ("No features in text."). */
export class NoFeaturesError extends Error {}

// ---- helpers ----

const ALPHA = 0.5;
const ALPHA_WIDTH = 0.05;
const ITERATION_LIMIT = 1000;
const PROB_THRESHOLD = 0.1;
const CONV_THRESHOLD = 0.99999;
const BASE_FREQ = 10000;
const N_TRIAL = 7;
const MAX_TEXT_LENGTH = 10000;
const URL_RE = /https?:\/\/[-_.?&~;+=/#0-9A-Za-z]{1,2076}/g;
const MAIL_RE = /[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}/g;
const UPPER = /^\p{Uppercase}$/u;

let model: Model | undefined;

function loadModel(): Model {
  const path = new URL("./data/langdetect-profiles.json.gz", import.meta.url);
  const raw = JSON.parse(gunzipSync(readFileSync(path)).toString("utf8")) as { counts?: unknown };
  const counts = raw.counts;
  raw.counts = [];
  const data = ProfilesSchema.parse(raw);
  const L = data.langs.length;
  const grams = data.grams.split("\t");
  const index = new Map(grams.map((g, i) => [g, i]));
  const lengths = grams.map((g) => [...g].length);
  const probs = new Float64Array(grams.length * L);
  (counts as number[][]).forEach((flat, lang) => {
    for (let k = 0; k < flat.length; k += 2) {
      const g = flat[k]!;
      probs[g * L + lang] = flat[k + 1]! / data.nWords[lang]![lengths[g]! - 1]!;
    }
  });
  const cjkMap = new Map<string, string>();
  for (const cls of data.cjkClasses) for (const ch of cls) cjkMap.set(ch, [...cls][0]!);
  return {
    langs: data.langs,
    index,
    probs,
    latin1Excluded: data.latin1Excluded,
    cjkMap,
    viRe: new RegExp(`([${data.viToNormalize}])([${data.viDmark}])`, "gu"),
    viReplace: (_m, a, d) => [...data.viNormalized[data.viDmark.indexOf(d)]!][[...data.viToNormalize].indexOf(a)]!,
  };
}

/** NGram.normalize: fold a code point by its Unicode block. */
function normalize(ch: string, m: Model): string {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x7f) return ch < "A" || (ch > "Z" && ch < "a") || ch > "z" ? " " : ch;
  if (cp <= 0xff) return m.latin1Excluded.includes(ch) ? " " : ch;
  if (cp >= 0x180 && cp <= 0x24f) return ch === "\u0219" ? "\u015f" : ch === "\u021b" ? "\u0163" : ch;
  if (cp >= 0x2000 && cp <= 0x206f) return " ";
  if (cp >= 0x600 && cp <= 0x6ff) return ch === "\u06cc" ? "\u064a" : ch;
  if (cp >= 0x1e00 && cp <= 0x1eff) return cp >= 0x1ea0 ? "\u1ec3" : ch;
  if (cp >= 0x3040 && cp <= 0x309f) return "\u3042";
  if (cp >= 0x30a0 && cp <= 0x30ff) return "\u30a2";
  if ((cp >= 0x3100 && cp <= 0x312f) || (cp >= 0x31a0 && cp <= 0x31bf)) return "\u3105";
  if (cp >= 0x4e00 && cp <= 0x9fff) return m.cjkMap.get(ch) ?? ch;
  if (cp >= 0xac00 && cp <= 0xd7af) return "\uac00";
  return ch;
}

/** Detector.append + cleaning_text: URL/mail removal, Vietnamese folding, space squeeze, Latin removal. */
function prepare(text: string, m: Model): string[] {
  text = text.replace(URL_RE, " ").replace(MAIL_RE, " ").replace(m.viRe, m.viReplace);
  const chars: string[] = [];
  let pre = "";
  let n = 0;
  for (const ch of text) {
    if (n++ >= MAX_TEXT_LENGTH) break;
    if (ch !== " " || pre !== " ") chars.push(ch);
    pre = ch;
  }
  let latin = 0;
  let nonLatin = 0;
  for (const ch of chars) {
    if (ch >= "A" && ch <= "z") latin++;
    else if (ch >= "\u0300" && !(ch >= "\u1e00" && ch <= "\u1eff")) nonLatin++;
  }
  return latin * 2 < nonLatin ? chars.filter((ch) => ch < "A" || ch > "z") : chars;
}

function isUpperChar(ch: string): boolean {
  if (ch.length === 1 && ch < "\x80") return ch >= "A" && ch <= "Z";
  return UPPER.test(ch);
}

/** Detector._extract_ngrams over NGram.add_char; `buf` holds the last (at most 3) code points. */
function extractNgrams(chars: readonly string[], m: Model): number[] {
  const rows: number[] = [];
  let buf: string[] = [" "];
  let capital = false;
  const add = (w: string) => {
    const row = m.index.get(w);
    if (row !== undefined) rows.push(row);
  };
  for (const raw of chars) {
    const ch = normalize(raw, m);
    const last = buf[buf.length - 1]!;
    if (last === " ") {
      buf = [" "];
      capital = false;
      if (ch === " ") continue;
    } else if (buf.length >= 3) buf.shift();
    buf.push(ch);
    if (isUpperChar(ch)) {
      if (isUpperChar(last)) capital = true;
    } else capital = false;
    if (capital) continue;
    const n = buf.length;
    if (ch !== " ") add(ch);
    if (n >= 2) add(buf[n - 2]! + ch);
    if (n >= 3) add(buf[n - 3]! + buf[n - 2]! + ch);
  }
  return rows;
}

function normalizeProb(prob: Float64Array): number {
  let sum = 0;
  for (const p of prob) sum += p;
  let max = 0;
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i]! / sum;
    if (max < p) max = p;
    prob[i] = p;
  }
  return max;
}

// ---- exports ----

/** Languages langdetect can return (ISO 639-1, plus zh-cn / zh-tw). */
export function detectableLanguages(): readonly string[] {
  model ??= loadModel();
  return model.langs;
}

/**
 * langdetect.detect(text) with seed 0: the most probable language code, or "unknown" when none passes 0.1.
 * Throws NoFeaturesError when the text has no usable n-grams (the official checker then counts a pass).
 */
export function detectLanguage(text: string): string {
  let result = CACHE.get(text);
  if (result === undefined) {
    if (CACHE.size >= 1024) CACHE.clear();
    try {
      result = detect(text);
    } catch (err) {
      if (!(err instanceof NoFeaturesError)) throw err;
      result = null;
    }
    CACHE.set(text, result);
  }
  if (result === null) throw new NoFeaturesError("No features in text.");
  return result;
}

/** Forget memoised detections (benchmarks use this to time real work). */
export function clearLanguageCache(): void {
  CACHE.clear();
}

const CACHE = new Map<string, string | null>();

function detect(text: string): string {
  const m = (model ??= loadModel());
  const rows = extractNgrams(prepare(text, m), m);
  if (rows.length === 0) throw new NoFeaturesError("No features in text.");
  const L = m.langs.length;
  const total = new Float64Array(L);
  const rng = new PyRandom(0);
  for (let t = 0; t < N_TRIAL; t++) {
    const prob = new Float64Array(L).fill(1 / L);
    const weight = (ALPHA + rng.gauss(0, 1) * ALPHA_WIDTH) / BASE_FREQ;
    for (let i = 0; ; i++) {
      const base = rng.choice(rows) * L;
      for (let j = 0; j < L; j++) prob[j]! *= weight + m.probs[base + j]!;
      if (i % 5 === 0 && (normalizeProb(prob) > CONV_THRESHOLD || i >= ITERATION_LIMIT)) break;
    }
    for (let j = 0; j < L; j++) total[j]! += prob[j]! / N_TRIAL;
  }
  let best = "unknown";
  let bestP = PROB_THRESHOLD;
  for (let j = 0; j < L; j++) {
    if (total[j]! > bestP) {
      bestP = total[j]!;
      best = m.langs[j]!;
    }
  }
  return best;
}
