// Static consistency of a constraint set: pairs that can never hold together (conflicts), pairs where one
// says nothing new (redundant), and simple numeric bounds. Exact numeric feasibility is the responder's job.

import type { RuleKind, RuleSpec } from "./spec.ts";
import { countWords, hasLower, hasUpper, occurrences } from "./text.ts";

// ---- types ----

export interface Conflict {
  /** Index of the earlier constraint in the set (or -1 for a whole-set bound). */
  readonly i: number;
  /** Index of the later constraint: the one to drop. */
  readonly j: number;
  readonly code: "conflict" | "redundant";
  readonly reason: string;
}

export interface ConflictOptions {
  /** Words a responder cannot avoid (function words): forbidding one of them is a conflict. */
  readonly reserved?: ReadonlySet<string>;
}

// ---- helpers ----

/** Forms that fix the whole response as one JSON object, and the forms that cannot live inside one. */
const NOT_WITH_JSON = new Set<RuleKind>([
  "markdown_table",
  "numbered_list",
  "bullet_list",
  "item_count",
  "headings",
  "heading_count",
  "sections",
  "paragraph_count",
  "sentence_count",
  "starts_with",
  "ends_with",
  "postscript",
  "quoted",
  "uppercase",
  "no_commas",
  "zh_line",
]);

/** Text a spec forces into the response verbatim (for exclusion, comma and case checks). */
function literals(s: RuleSpec): string[] {
  switch (s.kind) {
    case "include_keywords":
      return s.params.words;
    case "keyword_frequency":
      return [s.params.word];
    case "json_keys":
      return s.params.keys;
    case "markdown_table":
      return s.params.columns;
    case "headings":
      return s.params.titles;
    case "starts_with":
    case "ends_with":
      return [s.params.phrase];
    case "cite_source":
      return [s.params.source, "Source"];
    case "citation_count":
      return ["Source"];
    case "sections":
      return ["SECTION"];
    case "postscript":
      return ["P.S."];
    default:
      return [];
  }
}

/** Literals that must keep their case (a capitalised keyword, JSON keys). */
function exactCase(s: RuleSpec): string[] {
  if (s.kind === "include_keywords") return s.params.words.filter(hasUpper);
  if (s.kind === "keyword_frequency") return hasUpper(s.params.word) ? [s.params.word] : [];
  if (s.kind === "json_keys") return s.params.keys;
  return [];
}

function same(a: RuleSpec, b: RuleSpec): boolean {
  return a.kind === b.kind && JSON.stringify(a.params) === JSON.stringify(b.params);
}

/** The two kinds are x and y, in either order (x !== y). */
function both(ka: RuleKind, kb: RuleKind, x: RuleKind, y: RuleKind): boolean {
  return (ka === x && kb === y) || (ka === y && kb === x);
}

/** Why `x` rules out `y` (one direction of the checks that are not symmetric), or undefined. */
function oneWay(x: RuleSpec, y: RuleSpec): string | undefined {
  // Each branch allocates only for the kinds it concerns: this runs for every pair of every sampled set.
  if (x.kind === "lowercase") {
    const hit = exactCase(y).find(hasUpper);
    if (hit !== undefined) return `all lowercase, yet ${hit} keeps capitals`;
  } else if (x.kind === "uppercase") {
    const hit = exactCase(y).find(hasLower);
    if (hit !== undefined) return `all capitals, yet ${hit} keeps lowercase`;
  } else if (x.kind === "no_commas") {
    if (literals(y).some((l) => l.includes(","))) return "no commas, yet a required text has one";
  } else if (x.kind === "exclude_words") {
    const ls = literals(y);
    if (ls.length > 0) {
      const hit = x.params.words.find((w) => ls.some((l) => occurrences(l, w, true) > 0));
      if (hit) return `${JSON.stringify(hit)} is both forbidden and required`;
    }
  }
  return undefined;
}

function pairConflict(a: RuleSpec, b: RuleSpec): string | undefined {
  const ka = a.kind;
  const kb = b.kind;
  if (both(ka, kb, "lowercase", "uppercase")) return "all lowercase and all capitals";
  if ((ka === "json_keys" || kb === "json_keys") && (NOT_WITH_JSON.has(ka) || NOT_WITH_JSON.has(kb)))
    return `a bare JSON object cannot also satisfy ${ka !== "json_keys" ? ka : kb}`;
  if (both(ka, kb, "quoted", "starts_with") || both(ka, kb, "quoted", "ends_with"))
    return "wrapped in quotes, yet a fixed start/end";
  if (a.kind === "headings" && b.kind === "headings") {
    const x = a.params.titles.map((t) => t.toLowerCase());
    const y = b.params.titles.map((t) => t.toLowerCase()).filter((t) => x.includes(t));
    if (y.some((t, i) => i > 0 && x.indexOf(t) < x.indexOf(y[i - 1]!))) return "two heading orders that disagree";
  }
  if (both(ka, kb, "sections", "headings") || both(ka, kb, "sections", "heading_count"))
    return "SECTION markers and headings";
  const reason = oneWay(a, b) ?? oneWay(b, a);
  if (reason) return reason;
  if (ka === kb && (ka === "starts_with" || ka === "ends_with" || ka === "numbered_list" || ka === "sections"))
    return `two different ${ka} constraints`;
  return undefined;
}

function redundant(a: RuleSpec, b: RuleSpec): boolean {
  if (same(a, b)) return true;
  if (a.kind === "include_keywords" && b.kind === "include_keywords")
    return b.params.words.every((w) => a.params.words.includes(w));
  if (a.kind === "exclude_words" && b.kind === "exclude_words")
    return b.params.words.every((w) => a.params.words.some((v) => v.toLowerCase() === w.toLowerCase()));
  return false;
}

type Range = { lo: number; hi: number; at: number };

function ranges(specs: readonly RuleSpec[]): Map<string, Range> {
  const out = new Map<string, Range>();
  specs.forEach((s, at) => {
    if (
      s.kind !== "word_count" &&
      s.kind !== "sentence_count" &&
      s.kind !== "paragraph_count" &&
      s.kind !== "item_count"
    )
      return;
    const r = out.get(s.kind) ?? { lo: 0, hi: Number.POSITIVE_INFINITY, at };
    const { relation, n } = s.params;
    if (relation !== "at_most") r.lo = Math.max(r.lo, n);
    if (relation !== "at_least") r.hi = Math.min(r.hi, n);
    r.at = at;
    out.set(s.kind, r);
  });
  return out;
}

// ---- exports ----

/** Conflicts and redundancies between constraint `j` and the constraints before it (pairwise only). */
export function conflictsAt(specs: readonly RuleSpec[], j: number, options: ConflictOptions = {}): Conflict[] {
  const reserved = options.reserved ?? new Set<string>();
  const out: Conflict[] = [];
  const b = specs[j]!;
  if (b.kind === "exclude_words") {
    const hit = b.params.words.find((w) => reserved.has(w.toLowerCase()));
    if (hit)
      out.push({ i: -1, j, code: "conflict", reason: `${JSON.stringify(hit)} is a function word no text can avoid` });
  }
  for (let i = 0; i < j; i++) {
    const a = specs[i]!;
    const reason = pairConflict(a, b);
    if (reason) out.push({ i, j, code: "conflict", reason });
    else if (redundant(a, b)) out.push({ i, j, code: "redundant", reason: `repeats constraint ${i + 1} (${a.kind})` });
  }
  return out;
}

/** Numeric bounds of the whole set: empty ranges, and word limits below what the other constraints need. */
export function boundConflicts(specs: readonly RuleSpec[]): Conflict[] {
  const out: Conflict[] = [];
  const r = ranges(specs);
  for (const [kind, { lo, hi, at }] of r)
    if (lo > hi) out.push({ i: -1, j: at, code: "conflict", reason: `${kind}: at least ${lo} and at most ${hi}` });
  // Each paragraph and sentence needs a word; required literals need theirs.
  const words = r.get("word_count");
  if (words) {
    const literalWords = specs.flatMap(literals).reduce((n, l) => n + countWords(l), 0);
    const need = Math.max(r.get("paragraph_count")?.lo ?? 0, r.get("sentence_count")?.lo ?? 0, literalWords);
    if (need > words.hi)
      out.push({ i: -1, j: words.at, code: "conflict", reason: `needs at least ${need} words, allows ${words.hi}` });
  }
  return out;
}

/** All conflicts and redundancies in a constraint set, earlier constraint first; `j` is the one to drop. */
export function findConflicts(specs: readonly RuleSpec[], options: ConflictOptions = {}): Conflict[] {
  const out: Conflict[] = [];
  for (let j = 0; j < specs.length; j++) out.push(...conflictsAt(specs, j, options));
  return [...out, ...boundConflicts(specs)];
}
