// NLTK's Punkt sentence tokenizer (nltk 3.8, `PunktSentenceTokenizer.tokenize` with realigned boundaries),
// ported for IFEval's `count_sentences`. The learned English parameters are data, loaded from a JSON file
// (`data/punkt-english.json`, exported from nltk_data, Apache-2.0). Training is not ported: only tokenizing.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataError } from "../../errors.ts";
import { PY_SPACE, PY_WORD, pyStrip } from "./pyre.ts";

// ---- types ----

export const PunktParamsFileSchema = z.object({
  source: z.string().optional(),
  abbrev_types: z.array(z.string()),
  collocations: z.array(z.tuple([z.string(), z.string()])),
  sent_starters: z.array(z.string()),
  ortho_context: z.record(z.string(), z.number().int()),
});
export type PunktParamsFile = z.infer<typeof PunktParamsFileSchema>;

export interface PunktParams {
  readonly abbrevTypes: ReadonlySet<string>;
  /** Collocations keyed as `first\u0000second`. */
  readonly collocations: ReadonlySet<string>;
  readonly sentStarters: ReadonlySet<string>;
  readonly orthoContext: ReadonlyMap<string, number>;
}

interface Token {
  readonly tok: string;
  readonly type: string;
  readonly periodFinal: boolean;
  sentbreak: boolean;
  abbr: boolean;
  ellipsis: boolean;
}

// ---- helpers ----

const ORTHO_BEG_UC = 1 << 1;
const ORTHO_MID_UC = 1 << 2;
const ORTHO_UNK_UC = 1 << 3;
const ORTHO_BEG_LC = 1 << 4;
const ORTHO_MID_LC = 1 << 5;
const ORTHO_UNK_LC = 1 << 6;
const ORTHO_UC = ORTHO_BEG_UC + ORTHO_MID_UC + ORTHO_UNK_UC;
const ORTHO_LC = ORTHO_BEG_LC + ORTHO_MID_LC + ORTHO_UNK_LC;

const S = `[${PY_SPACE}]`;
const NS = `[^${PY_SPACE}]`;
const NON_WORD = `(?:[)";}\\]*:@'({\\[?!])`;
const MULTI_CHAR = `(?:-{2,}|\\.{2,}|(?:\\.${S}){2,}\\.)`;
const WORD_START = `[^("\`{\\[:;&#*@)}\\]\\-,]`;
const WORD_RE = new RegExp(
  `${MULTI_CHAR}|(?=${WORD_START})${NS}+?(?=${S}|$|${NON_WORD}|${MULTI_CHAR}|,(?=$|${S}|${NON_WORD}|${MULTI_CHAR}))|${NS}`,
  "gu",
);
const PERIOD_CONTEXT_RE = new RegExp(`[.?!](?=(?<after>${NON_WORD}|${S}+(?<next>${NS}+)))`, "gu");
const BOUNDARY_REALIGN_RE = new RegExp(`^["')\\]}]+?(?:${S}+|(?=--)|(?=\\n|$))`, "u");
const NUMERIC_RE = /^-?[.,]?\p{Nd}[\p{Nd},.-]*\.?$/u;
const INITIAL_RE = new RegExp(`^[${PY_WORD.replace("\\p{N}", "\\p{Nl}\\p{No}")}]\\.$`, "u");
const ELLIPSIS_RE = /^\.\.+$/;
const UPPER_RE = /^\p{Uppercase}/u;
const LOWER_RE = /^\p{Lowercase}/u;
const ASCII_SPACE = " \t\n\r\x0b\x0c";
const TRAILING_SPACE_RE = new RegExp(`[${PY_SPACE}]+$`, "u");
const PUNCTUATION = new Set([";", ":", ",", ".", "!", "?"]);

function makeToken(tok: string): Token {
  const lower = tok.toLowerCase();
  return {
    tok,
    type: NUMERIC_RE.test(lower) ? "##number##" : lower,
    periodFinal: tok.endsWith("."),
    sentbreak: false,
    abbr: false,
    ellipsis: false,
  };
}

function typeNoPeriod(t: Token): string {
  return t.type.length > 1 && t.type.endsWith(".") ? t.type.slice(0, -1) : t.type;
}

function typeNoSentperiod(t: Token): string {
  return t.sentbreak ? typeNoPeriod(t) : t.type;
}

/** Python's tok[0] is one code point; test its case. */
const firstUpper = (t: Token): boolean => UPPER_RE.test(t.tok);
const firstLower = (t: Token): boolean => LOWER_RE.test(t.tok);

function tokenizeWords(text: string): Token[] {
  const tokens: Token[] = [];
  for (const line of text.split("\n")) {
    if (pyStrip(line) === "") continue;
    for (const m of line.matchAll(WORD_RE)) tokens.push(makeToken(m[0]));
  }
  return tokens;
}

function firstPass(t: Token, p: PunktParams): void {
  const tok = t.tok;
  if (tok === "." || tok === "?" || tok === "!") t.sentbreak = true;
  else if (ELLIPSIS_RE.test(tok)) t.ellipsis = true;
  else if (t.periodFinal && !tok.endsWith("..")) {
    const stem = tok.slice(0, -1).toLowerCase();
    if (p.abbrevTypes.has(stem) || p.abbrevTypes.has(stem.split("-").at(-1)!)) t.abbr = true;
    else t.sentbreak = true;
  }
}

function orthoHeuristic(t: Token, p: PunktParams): boolean | "unknown" {
  if (PUNCTUATION.has(t.tok)) return false;
  const ctx = p.orthoContext.get(typeNoSentperiod(t)) ?? 0;
  if (firstUpper(t) && ctx & ORTHO_LC && !(ctx & ORTHO_MID_UC)) return true;
  if (firstLower(t) && (ctx & ORTHO_UC || !(ctx & ORTHO_BEG_LC))) return false;
  return "unknown";
}

function secondPass(t1: Token, t2: Token | undefined, p: PunktParams): void {
  if (!t2 || !t1.periodFinal) return;
  const typ = typeNoPeriod(t1);
  const nextTyp = typeNoSentperiod(t2);
  const isInitial = INITIAL_RE.test(t1.tok);
  if (p.collocations.has(`${typ}\u0000${nextTyp}`)) {
    t1.sentbreak = false;
    t1.abbr = true;
    return;
  }
  if ((t1.abbr || t1.ellipsis) && !isInitial) {
    if (orthoHeuristic(t2, p) === true) {
      t1.sentbreak = true;
      return;
    }
    if (firstUpper(t2) && p.sentStarters.has(nextTyp)) {
      t1.sentbreak = true;
      return;
    }
  }
  if (isInitial || typ === "##number##") {
    const starter = orthoHeuristic(t2, p);
    if (starter === false) {
      t1.sentbreak = false;
      t1.abbr = true;
      return;
    }
    if (starter === "unknown" && isInitial && firstUpper(t2) && !((p.orthoContext.get(nextTyp) ?? 0) & ORTHO_LC)) {
      t1.sentbreak = false;
      t1.abbr = true;
    }
  }
}

function containsSentbreak(text: string, p: PunktParams): boolean {
  const tokens = tokenizeWords(text);
  for (const t of tokens) firstPass(t, p);
  let found = false;
  for (let i = 0; i < tokens.length; i++) {
    secondPass(tokens[i]!, tokens[i + 1], p);
    if (found) return true;
    if (tokens[i]!.sentbreak) found = true;
  }
  return false;
}

function lastWhitespaceIndex(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (ASCII_SPACE.includes(text[i]!)) return i;
  return 0;
}

interface EndContext {
  readonly match: RegExpExecArray;
  readonly context: string;
}

function* potentialEndContexts(text: string): Generator<EndContext> {
  let prevStart = 0;
  let prevStop = 0;
  let prev: RegExpExecArray | undefined;
  const emit = (m: RegExpExecArray): EndContext => ({
    match: m,
    context: text.slice(prevStart, prevStop) + m[0] + m.groups!.after,
  });
  PERIOD_CONTEXT_RE.lastIndex = 0;
  for (let m = PERIOD_CONTEXT_RE.exec(text); m !== null; m = PERIOD_CONTEXT_RE.exec(text)) {
    let start = lastWhitespaceIndex(text.slice(prevStop, m.index));
    start = start ? start + prevStop + 1 : prevStart;
    if (prev && prevStop <= start) yield emit(prev);
    prev = m;
    prevStart = start;
    prevStop = m.index;
  }
  if (prev) yield emit(prev);
}

function sliceStarts(text: string, p: PunktParams): Array<[number, number]> {
  const slices: Array<[number, number]> = [];
  let lastBreak = 0;
  for (const { match, context } of potentialEndContexts(text)) {
    if (!containsSentbreak(context, p)) continue;
    const end = match.index + 1;
    slices.push([lastBreak, end]);
    const next = match.groups!.next;
    lastBreak = next !== undefined ? text.indexOf(next, end) : end;
  }
  slices.push([lastBreak, text.replace(TRAILING_SPACE_RE, "").length]);
  return slices;
}

// ---- exports ----

/** Turn a params file (the NLTK export's shape) into lookup sets. */
export function punktParams(file: PunktParamsFile): PunktParams {
  return {
    abbrevTypes: new Set(file.abbrev_types),
    collocations: new Set(file.collocations.map(([a, b]) => `${a}\u0000${b}`)),
    sentStarters: new Set(file.sent_starters),
    orthoContext: new Map(Object.entries(file.ortho_context)),
  };
}

/** Load punkt parameters from a JSON file (e.g. `punkt_english_params.json`). */
export function loadPunktParams(path: string): PunktParams {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new DataError("cannot read punkt parameters", { path, expected: "a JSON file", got: String(err) });
  }
  const parsed = PunktParamsFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new DataError("bad punkt parameters", { path, expected: "punkt params", got: parsed.error.message });
  return punktParams(parsed.data);
}

let englishParams: PunktParams | undefined;

/** The embedded English parameters (NLTK's english.pickle), loaded once. */
export function englishPunktParams(): PunktParams {
  englishParams ??= loadPunktParams(new URL("./data/punkt-english.json", import.meta.url).pathname);
  return englishParams;
}

/** Split text into sentences exactly as NLTK's `PunktSentenceTokenizer.tokenize` does. */
export function punktSentences(text: string, params: PunktParams = englishPunktParams()): string[] {
  const out: string[] = [];
  const slices = sliceStarts(text, params);
  let realign = 0;
  for (let i = 0; i < slices.length; i++) {
    const start = slices[i]![0] + realign;
    const stop = slices[i]![1];
    const next = slices[i + 1];
    if (!next) {
      if (stop > start) out.push(text.slice(start, stop));
      continue;
    }
    const m = BOUNDARY_REALIGN_RE.exec(text.slice(next[0], next[1]));
    if (m) {
      out.push(text.slice(start, next[0] + m[0].replace(TRAILING_SPACE_RE, "").length));
      realign = m[0].length;
    } else {
      realign = 0;
      if (stop > start) out.push(text.slice(start, stop));
    }
  }
  return out;
}
