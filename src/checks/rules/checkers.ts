// One pure checker per rule form: `check(response, spec) → {ok, issues}`; issues share one code union.
// Measures come from text.ts; these functions only compare them with the spec's params.

import type { ParamsOf, Relation, RuleKind, RuleSpec } from "./spec.ts";
import {
  bulletItems,
  citations,
  countWords,
  hanCount,
  hasLower,
  hasUpper,
  headings,
  numberedItems,
  occurrences,
  paragraphs,
  sectionMarkers,
  sentenceCount,
  tables,
} from "./text.ts";

// ---- types ----

export const ISSUE_CODES = [
  "too_small",
  "too_big",
  "not_equal",
  "missing_keyword",
  "forbidden_word",
  "invalid_format",
  "missing_item",
  "wrong_case",
  "wrong_start",
  "wrong_end",
] as const;
export type IssueCode = (typeof ISSUE_CODES)[number];

export interface RuleIssue {
  readonly code: IssueCode;
  readonly expected: string;
  readonly got: string;
}

export interface RuleVerdict {
  readonly ok: boolean;
  readonly issues: RuleIssue[];
}

type Checker<K extends RuleKind> = (response: string, params: ParamsOf<K>) => RuleIssue[];

// ---- helpers ----

function count(what: string, got: number, relation: Relation, n: number): RuleIssue[] {
  if (relation === "exactly" && got !== n)
    return [{ code: "not_equal", expected: `exactly ${n} ${what}`, got: `${got}` }];
  if (relation === "at_least" && got < n)
    return [{ code: "too_small", expected: `at least ${n} ${what}`, got: `${got}` }];
  if (relation === "at_most" && got > n) return [{ code: "too_big", expected: `at most ${n} ${what}`, got: `${got}` }];
  return [];
}

function atLeast(what: string, got: number, n: number): RuleIssue[] {
  return got < n ? [{ code: "too_small", expected: `at least ${n} ${what}`, got: `${got}` }] : [];
}

const lc = (s: string) => s.toLowerCase();
const show = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text.trim());
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ---- registry ----

export const RULES: { [K in RuleKind]: Checker<K> } = {
  include_keywords: (r, p) =>
    p.words
      .filter((w) => occurrences(r, w) === 0)
      .map((w) => ({ code: "missing_keyword", expected: `keyword ${show(w)}`, got: "absent" })),
  keyword_frequency: (r, p) => atLeast(`occurrences of ${show(p.word)}`, occurrences(r, p.word), p.min),
  exclude_words: (r, p) =>
    p.words
      .map((w) => ({ w, n: occurrences(r, w, true) }))
      .filter((x) => x.n > 0)
      .map((x) => ({ code: "forbidden_word", expected: `no ${show(x.w)}`, got: `${x.n} occurrence(s)` })),
  no_commas: (r) => {
    const n = (r.match(/[,，]/g) ?? []).length;
    return n > 0 ? [{ code: "forbidden_word", expected: "no commas", got: `${n} comma(s)` }] : [];
  },
  word_count: (r, p) => count("words", countWords(r), p.relation, p.n),
  sentence_count: (r, p) => count("sentences", sentenceCount(r), p.relation, p.n),
  paragraph_count: (r, p) => count("paragraphs", paragraphs(r).length, p.relation, p.n),
  item_count: (r, p) => count("list items", numberedItems(r).length + bulletItems(r), p.relation, p.n),
  json_keys: (r, p) => {
    const obj = parseJsonObject(r);
    if (!obj) return [{ code: "invalid_format", expected: "the whole response as one JSON object", got: "not JSON" }];
    const missing = p.keys.filter((k) => !(k in obj));
    return missing.length ? [{ code: "missing_item", expected: `keys ${missing.join(", ")}`, got: "absent" }] : [];
  },
  markdown_table: (r, p) => {
    const want = p.columns.map(lc).join("|");
    const t = tables(r).find((x) => x.columns.map(lc).join("|") === want);
    if (!t) return [{ code: "invalid_format", expected: `a table with columns ${p.columns.join(", ")}`, got: "none" }];
    return atLeast("table rows", t.rows, p.min_rows);
  },
  numbered_list: (r, p) => {
    const got = numberedItems(r);
    const ok = got.length === p.n && got.every((n, i) => n === i + 1);
    return ok ? [] : [{ code: "not_equal", expected: `numbered items 1..${p.n}`, got: `[${got.join(",")}]` }];
  },
  bullet_list: (r, p) => atLeast("bullet items", bulletItems(r), p.min),
  headings: (r, p) => {
    const have = headings(r).map((h) => lc(h.title));
    let at = 0;
    const missing: string[] = [];
    for (const t of p.titles) {
      const i = have.indexOf(lc(t), at);
      if (i < 0) missing.push(t);
      else at = i + 1;
    }
    return missing.length
      ? [{ code: "missing_item", expected: `headings ${missing.join(", ")} in order`, got: "absent" }]
      : [];
  },
  heading_count: (r, p) => atLeast("markdown headings", headings(r).length, p.min),
  sections: (r, p) => {
    const got = sectionMarkers(r);
    const ok = got.length === p.n && got.every((n, i) => n === i + 1);
    return ok ? [] : [{ code: "not_equal", expected: `SECTION 1..${p.n}`, got: `[${got.join(",")}]` }];
  },
  lowercase: (r) => (hasUpper(r) ? [{ code: "wrong_case", expected: "all lowercase", got: "capital letters" }] : []),
  uppercase: (r) => (hasLower(r) ? [{ code: "wrong_case", expected: "all capitals", got: "lowercase letters" }] : []),
  quoted: (r) => {
    const t = r.trim();
    const ok = t.length >= 2 && t.startsWith('"') && t.endsWith('"');
    return ok
      ? []
      : [{ code: "invalid_format", expected: "wrapped in double quotes", got: show(t.slice(0, 1) + t.slice(-1)) }];
  },
  starts_with: (r, p) =>
    lc(r.trim()).startsWith(lc(p.phrase.trim()))
      ? []
      : [{ code: "wrong_start", expected: `start ${show(p.phrase)}`, got: show(r.trim().slice(0, p.phrase.length)) }],
  ends_with: (r, p) =>
    lc(r.trim()).endsWith(lc(p.phrase.trim()))
      ? []
      : [{ code: "wrong_end", expected: `end ${show(p.phrase)}`, got: show(r.trim().slice(-p.phrase.length)) }],
  postscript: (r) => (/^\s*P\.S\./im.test(r) ? [] : [{ code: "missing_item", expected: "a P.S. line", got: "none" }]),
  cite_source: (r, p) =>
    citations(r).some((c) => lc(c) === lc(p.source.trim()))
      ? []
      : [{ code: "missing_item", expected: `[Source: ${p.source}]`, got: "absent" }],
  citation_count: (r, p) => atLeast("[Source: …] markers", citations(r).length, p.min),
  han_chars: (r, p) => atLeast("Chinese characters", hanCount(r), p.min),
  zh_line: (r) =>
    /^中文[:：]\s*\p{Script=Han}/mu.test(r)
      ? []
      : [{ code: "missing_item", expected: "a line starting 中文：", got: "none" }],
};

// ---- exports ----

/** Check one response against one rule spec. */
export function checkRule(response: string, spec: RuleSpec): RuleVerdict {
  const checker = RULES[spec.kind] as Checker<RuleKind>;
  const issues = checker(response, spec.params as never);
  return { ok: issues.length === 0, issues };
}
