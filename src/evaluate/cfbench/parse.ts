// Reading a CFBench judge reply: the strict parser (one "item<TAB>score" entry per checklist item, entries separated
// by a blank line, item text echoed exactly) and the fallback used after the last round, in two variants: the
// upstream one (keeps only non-zero scores, a known bug) and the fixed one (keeps 0 and 1). Pure functions.

// ---- types ----

export type ParserKind = "fixed" | "upstream";

export type JudgeRead =
  /** Every item scored, in checklist order (`parsing` "1"), or the fallback's list (`parsing` "0"). */
  | { readonly parsing: "1" | "0"; readonly scores: readonly string[] }
  /** Nothing could be read (`parsing` "-1"). */
  | { readonly parsing: "-1"; readonly scores: readonly string[]; readonly reason: string }
  /** Upstream's fallback stops with an error on a non-numeric score: no verdict at all. */
  | { readonly parsing: "error"; readonly reason: string };

// ---- helpers ----

// Python's float(): surrounding whitespace, a sign, digits with single underscores between them, a point, an exponent.
const DIGITS = String.raw`\d(?:_?\d)*`;
const PY_FLOAT = new RegExp(
  String.raw`^[+-]?(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?$|^[+-]?(?:inf|infinity|nan)$`,
  "i",
);

/** The value Python's `float(text)` gives, or null where it raises. */
export function pyFloat(text: string): number | null {
  const t = text.trim();
  if (!PY_FLOAT.test(t)) return null;
  const lower = t.toLowerCase().replace(/_/g, "");
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity")) return lower.startsWith("-") ? -Infinity : Infinity;
  return Number(lower);
}

// ---- exports ----

/** The strict parser: null when the reply is rejected (then the judge is asked again). */
export function parseStrict(reply: string, items: readonly string[]): string[] | null {
  const pieces = reply.split("\n\n");
  if (pieces.length !== items.length) return null;
  const scores: string[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const parts = pieces[i]!.split("\t");
    if (parts.length !== 2 || parts[0] !== items[i]) return null;
    const v = pyFloat(parts[1]!);
    if (v !== 0 && v !== 1) return null;
    scores.push(parts[1]!.trim());
  }
  return scores;
}

/**
 * The fallback parser, line by line: every line with exactly one tab contributes its score. `upstream` keeps a score
 * only when it is non-zero and 0 or 1 (so every 0 is dropped) and fails on a non-numeric one; `fixed` keeps 0 and 1
 * and skips anything else.
 */
export function parseFallback(reply: string, kind: ParserKind): JudgeRead {
  const kept: string[] = [];
  for (const line of reply.split("\n")) {
    const parts = line.split("\t");
    if (parts.length !== 2) continue;
    const v = pyFloat(parts[1]!);
    if (v === null) {
      if (kind === "upstream")
        return { parsing: "error", reason: `non-numeric score ${JSON.stringify(parts[1])} stops upstream's parser` };
      continue;
    }
    const keep = kind === "upstream" ? v !== 0 && !Number.isNaN(v) && (v === 0 || v === 1) : v === 0 || v === 1;
    if (keep) kept.push(parts[1]!.trim());
  }
  if (kept.length === 0) return { parsing: "-1", scores: ["0"], reason: "no item<TAB>score line with a 0/1 score" };
  return { parsing: "0", scores: kept };
}

/** Read a reply the way the last round does: strict first, else the fallback of `kind`. */
export function readJudgeReply(reply: string, items: readonly string[], kind: ParserKind): JudgeRead {
  const strict = parseStrict(reply, items);
  return strict ? { parsing: "1", scores: strict } : parseFallback(reply, kind);
}
