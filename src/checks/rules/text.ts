// Text measures the rule checkers share: words, sentences, paragraphs, list items, headings, tables, markers.
// Definitions are deliberately simple and documented in docs/construct.md; no language models, no NLTK.
// Speed: a response is checked against many constraints in a row, so its lines and lower-cased form are kept
// for the last text seen (one entry each; returned arrays are shared and must not be mutated).

// ---- patterns ----

// A word: letters/digits, with inner apostrophes ("don't"); a run of CJK characters counts as one word.
const HAS_TEXT = /[\p{L}\p{N}]/u;
/** A sentence ends at . ! ? followed by whitespace, or right after 。！？ ; a line break also ends one. */
const SENTENCE_SPLIT = /(?<=[.!?])\s+|(?<=[。！？])/u;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_SEP = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$/;
const SECTION = /^\s*SECTION\s+(\d+)\s*$/i;
const NUMBERED = /^\s*(\d+)[.)]\s+\S/;
const BULLET = /^\s*[-*•]\s+\S/;
const HAN = /\p{Script=Han}/gu;
const CITATION = /\[Source:\s*([^\]]+?)\s*\]/gi;

// ---- memo ----

let linesKey: string | undefined;
let linesVal: readonly string[] = [];
let lowerKey: string | undefined;
let lowerVal = "";

/** `text.split("\n")` for the last text asked about. */
function linesOf(text: string): readonly string[] {
  if (text !== linesKey) {
    linesVal = text.split("\n");
    linesKey = text;
  }
  return linesVal;
}

/** `text.toLowerCase()` for the last text asked about. */
function lowerOf(text: string): string {
  if (text !== lowerKey) {
    lowerVal = text.toLowerCase();
    lowerKey = text;
  }
  return lowerVal;
}

/** JS `\s` (what SENTENCE_SPLIT's `\s+` matches) for one UTF-16 code unit. */
function isJsSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** HAS_TEXT on `line.slice(from, to)`, scanning ASCII directly. */
function hasText(line: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i);
    if (c >= 128) return HAS_TEXT.test(line.slice(from, to));
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  }
  return false;
}

/**
 * The number of pieces of `line.split(SENTENCE_SPLIT)` that pass HAS_TEXT, without building them: a piece
 * ends before a whitespace run that follows . ! ? (the run is dropped), or right after 。！？ (not at a piece's
 * start, where String.prototype.split skips the empty match).
 */
function countLineSentences(line: string): number {
  let n = 0;
  let p = 0;
  for (let q = 1; q < line.length; q++) {
    const before = line.charCodeAt(q - 1);
    if ((before === 0x2e || before === 0x21 || before === 0x3f) && isJsSpace(line.charCodeAt(q))) {
      let e = q + 1;
      while (e < line.length && isJsSpace(line.charCodeAt(e))) e++;
      if (hasText(line, p, q)) n++;
      p = e;
      q = e - 1;
    } else if (q > p && (before === 0x3002 || before === 0xff01 || before === 0xff1f)) {
      if (hasText(line, p, q)) n++;
      p = q;
    }
  }
  if (hasText(line, p, line.length)) n++;
  return n;
}

const LIST_MARK = /^\s*(\d+[.)]|[-*•])\s+/;

function isStructureLine(raw: string): boolean {
  return TABLE_ROW.test(raw) || TABLE_SEP.test(raw) || HEADING.test(raw) || SECTION.test(raw);
}

// ---- exports ----

/** Counts WORD matches with a scan (no allocation): a run of word characters, joined across inner apostrophes. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (isWordChar(ch)) {
      if (!inWord) n++;
      inWord = true;
    } else if (inWord && (ch === "'" || ch === "’") && isWordChar(text[i + 1] ?? "")) {
      // an inner apostrophe: the word goes on
    } else inWord = false;
  }
  return n;
}

/** Blocks separated by blank lines. */
export function paragraphs(text: string): string[] {
  return text
    .trim()
    .split(/\n\s*\n/)
    .filter((b) => b.trim() !== "");
}

/** Sentences of the prose: table rows, headings and SECTION markers are not prose; each list item is one line. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const raw of linesOf(text)) {
    if (isStructureLine(raw)) continue;
    const line = raw.replace(LIST_MARK, "");
    for (const piece of line.split(SENTENCE_SPLIT)) if (HAS_TEXT.test(piece)) out.push(piece.trim());
  }
  return out;
}

/** `sentences(text).length`, without building the sentences. */
export function sentenceCount(text: string): number {
  let n = 0;
  for (const raw of linesOf(text)) if (!isStructureLine(raw)) n += countLineSentences(raw.replace(LIST_MARK, ""));
  return n;
}

export function numberedItems(text: string): number[] {
  const out: number[] = [];
  for (const line of linesOf(text)) {
    const m = NUMBERED.exec(line);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

export function bulletItems(text: string): number {
  let n = 0;
  for (const l of linesOf(text)) if (BULLET.test(l) && !TABLE_SEP.test(l)) n++;
  return n;
}

export function headings(text: string): { level: number; title: string }[] {
  const out: { level: number; title: string }[] = [];
  for (const line of linesOf(text)) {
    const m = HEADING.exec(line);
    if (m) out.push({ level: m[1]!.length, title: m[2]! });
  }
  return out;
}

export function sectionMarkers(text: string): number[] {
  const out: number[] = [];
  for (const line of linesOf(text)) {
    const m = SECTION.exec(line);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

export interface Table {
  readonly columns: string[];
  readonly rows: number;
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split("|")
    .map((c) => c.trim());
}

/** Markdown tables: a header row, a separator row, then data rows (all lines starting and ending with "|"). */
export function tables(text: string): Table[] {
  const lines = linesOf(text);
  const out: Table[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!TABLE_ROW.test(lines[i]!) || !TABLE_SEP.test(lines[i + 1]!)) continue;
    let j = i + 2;
    while (j < lines.length && TABLE_ROW.test(lines[j]!) && !TABLE_SEP.test(lines[j]!)) j++;
    out.push({ columns: cells(lines[i]!), rows: j - i - 2 });
    i = j - 1;
  }
  return out;
}

export function hanCount(text: string): number {
  return text.match(HAN)?.length ?? 0;
}

export function citations(text: string): string[] {
  return [...text.matchAll(CITATION)].map((m) => m[1]!);
}

/**
 * Occurrences of a keyword or phrase on word boundaries. A keyword written with capitals (an acronym or a
 * name: "AI", "Paris") must appear exactly; a lowercase keyword matches in any case.
 */
export function occurrences(text: string, word: string, anyCase = word === word.toLowerCase()): number {
  const hay = anyCase ? lowerOf(text) : text;
  const needle = anyCase ? word.toLowerCase() : word;
  if (needle === "") return 0;
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
    const before = at > 0 ? hay[at - 1]! : "";
    const after = hay[at + needle.length] ?? "";
    if (!isWordChar(before) && !isWordChar(after)) n++;
  }
  return n;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
function isWordChar(ch: string): boolean {
  if (ch === "") return false;
  const c = ch.charCodeAt(0);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return WORD_CHAR.test(ch);
}

/** Whether `phrase` has letters that a case transform would change (so it must keep its case). */
export function hasUpper(s: string): boolean {
  return s !== s.toLowerCase();
}
export function hasLower(s: string): boolean {
  return s !== s.toUpperCase();
}
