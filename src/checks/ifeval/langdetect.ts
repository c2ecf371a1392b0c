// Language identification: a port of Python `langdetect` 1.0.9 (Cybozu's language-detection) with its 55 profiles
// (langdetect-model.ts). The official checker calls it unseeded; here the generator is CPython's MT19937 seeded
// with 0, so a verdict is deterministic and equals Python's `DetectorFactory.seed = 0` run. Only `detect` is
// ported (no priors, no tracing, no training). n-grams are integer lookups, and a line's n-grams are computed
// once for every text that contains the line.

import { DENSE, loadModel, type Model, SPACE } from "./langdetect-model.ts";
import { PyRandom } from "./py-random.ts";

// ---- types ----

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

/** Code points after the space squeeze, with cleaning_text's Latin / non-Latin counts. */
interface Squeezed {
  readonly cps: number[];
  readonly latin: number;
  readonly nonLatin: number;
}

/** Detector.append's space squeeze (and its 10,000-character cut) plus the counts cleaning_text needs. */
function squeeze(text: string): Squeezed {
  const cps: number[] = [];
  let pre = -1;
  let latin = 0;
  let nonLatin = 0;
  for (let i = 0, n = 0; i < text.length && n < MAX_TEXT_LENGTH; n++) {
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    if (cp !== SPACE || pre !== SPACE) {
      cps.push(cp);
      if (cp >= 0x41 && cp <= 0x7a) latin++;
      else if (cp >= 0x300 && !(cp >= 0x1e00 && cp <= 0x1eff)) nonLatin++;
    }
    pre = cp;
  }
  return { cps, latin, nonLatin };
}

/** Detector.append + cleaning_text: URL/mail removal, Vietnamese folding, space squeeze, Latin removal. */
function prepare(text: string, m: Model): number[] {
  if (text.includes("http")) text = text.replace(URL_RE, " ");
  if (text.includes("@")) text = text.replace(MAIL_RE, " ");
  const { cps, latin, nonLatin } = squeeze(text.replace(m.viRe, m.viReplace));
  return latin * 2 < nonLatin ? cps.filter((cp) => cp < 0x41 || cp > 0x7a) : cps;
}

/** A line's n-gram rows and cleaning counts (see `rowsOf`). */
interface Segment {
  readonly rows: number[];
  readonly latin: number;
  readonly nonLatin: number;
}

const SEGMENTS = new Map<string, Segment>();

function segment(text: string, m: Model): Segment {
  let seg = SEGMENTS.get(text);
  if (!seg) {
    if (SEGMENTS.size >= 16384) SEGMENTS.clear();
    const { cps, latin, nonLatin } = squeeze(text);
    seg = { rows: extractNgrams(cps, m), latin, nonLatin };
    SEGMENTS.set(text, seg);
  }
  return seg;
}

/**
 * extractNgrams(prepare(text)), reusing work across texts that share lines (IFEval's loose variants drop the
 * first or last line of a response). A newline normalises to a space, after which the n-gram state is always
 * the same, so the rows of a text are its lines' rows in order — when nothing acts across lines: no URL or mail
 * address to remove, no Vietnamese mark to fold, no 10,000-character cut, and no Latin removal (decided on the
 * whole text's counts). Any other text takes the direct path.
 */
function rowsOf(text: string, m: Model): number[] {
  if (text.length > MAX_TEXT_LENGTH || text.includes("http") || text.includes("@") || m.viTest.test(text))
    return extractNgrams(prepare(text, m), m);
  const segs: Segment[] = [];
  let latin = 0;
  let nonLatin = 0;
  let size = 0;
  for (let start = 0; ; ) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl + 1;
    const seg = segment(text.slice(start, end), m);
    segs.push(seg);
    latin += seg.latin;
    nonLatin += seg.nonLatin;
    size += seg.rows.length;
    if (nl < 0) break;
    start = end;
  }
  if (latin * 2 < nonLatin) return extractNgrams(prepare(text, m), m);
  if (segs.length === 1) return segs[0]!.rows;
  const rows = new Array<number>(size);
  let at = 0;
  for (const seg of segs) for (const r of seg.rows) rows[at++] = r;
  return rows;
}

/** Python str.isupper() on one (normalised) character, memoised over the BMP: 0 unknown, 1 no, 2 yes. */
const UPPER_MEMO = new Uint8Array(0x10000);
function isUpperCp(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a;
  if (cp >= 0x10000) return UPPER.test(String.fromCodePoint(cp));
  let v = UPPER_MEMO[cp]!;
  if (v === 0) UPPER_MEMO[cp] = v = UPPER.test(String.fromCodePoint(cp)) ? 2 : 1;
  return v === 2;
}

/**
 * Detector._extract_ngrams over NGram.add_char. The buffer holds the last (at most 3) normalised characters
 * (`c0 c1 c2`, length n); a gram containing a character of no profile (id 0) is in no table.
 */
function extractNgrams(cps: readonly number[], m: Model): number[] {
  const rows: number[] = [];
  const { norm, bmpId, astralId, uni, bi, triPrefix, tri, bi2, triP, tri3, K } = m;
  let c0 = SPACE;
  let c1 = 0;
  let c2 = 0;
  let n = 1;
  let capital = false;
  for (const raw of cps) {
    const ch = raw < 0x10000 ? norm[raw]! : raw;
    const last = n === 1 ? c0 : n === 2 ? c1 : c2;
    if (last === SPACE) {
      c0 = SPACE;
      n = 1;
      capital = false;
      if (ch === SPACE) continue;
    } else if (n >= 3) {
      c0 = c1;
      c1 = c2;
      n = 2;
    }
    if (n === 1) c1 = ch;
    else c2 = ch;
    n++;
    if (isUpperCp(ch)) {
      if (isUpperCp(last)) capital = true;
    } else capital = false;
    if (capital) continue;
    const id = ch < 0x10000 ? bmpId[ch]! : (astralId.get(ch) ?? 0);
    if (ch !== SPACE) {
      const r = uni[id]!;
      if (r >= 0) rows.push(r);
    }
    // Bigram: the two last characters; trigram: all three.
    const p = n === 2 ? c0 : c1;
    const pid = p < 0x10000 ? bmpId[p]! : (astralId.get(p) ?? 0);
    if (pid < DENSE && id < DENSE) {
      const r2 = bi2[pid * DENSE + id]!;
      if (r2 >= 0) rows.push(r2);
    } else {
      const r2 = bi.get(pid * K + id);
      if (r2 !== undefined) rows.push(r2);
    }
    if (n === 3) {
      const qid = c0 < 0x10000 ? bmpId[c0]! : (astralId.get(c0) ?? 0);
      if (qid < DENSE && pid < DENSE && id < DENSE) {
        const pre = triP[qid * DENSE + pid]!;
        const r3 = pre < 0 ? -1 : tri3[pre * DENSE + id]!;
        if (r3 >= 0) rows.push(r3);
      } else {
        const pre = triPrefix.get(qid * K + pid);
        const r3 = pre === undefined ? undefined : tri.get(pre * K + id);
        if (r3 !== undefined) rows.push(r3);
      }
    }
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
    result = detect(text);
    CACHE.set(text, result);
  }
  if (result === null) throw new NoFeaturesError("No features in text.");
  return result;
}

/** Forget memoised detections (benchmarks use this to time real work). */
export function clearLanguageCache(): void {
  CACHE.clear();
  SEGMENTS.clear();
}

const CACHE = new Map<string, string | null>();

/** The detected language, or null for "No features in text.". */
function detect(text: string): string | null {
  const m = (model ??= loadModel());
  const rows = rowsOf(text, m);
  return rows.length === 0 ? null : estimate(rows, m);
}

/** Detector._detect_block and get_probabilities: 7 seeded trials of the naive-Bayes walk, then the best. */
function estimate(rows: readonly number[], m: Model): string {
  const L = m.langs.length;
  const offsets = m.dense.offsets(rows, m);
  const probs = m.dense.data;
  const total = new Float64Array(L);
  const prob = new Float64Array(L);
  const rng = new PyRandom(0);
  for (let t = 0; t < N_TRIAL; t++) {
    prob.fill(1 / L);
    const weight = (ALPHA + rng.gauss(0, 1) * ALPHA_WIDTH) / BASE_FREQ;
    for (let i = 0; ; i++) {
      const base = rng.choice(offsets);
      for (let j = 0; j < L; j++) prob[j] = prob[j]! * (weight + probs[base + j]!);
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
