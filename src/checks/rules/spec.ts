// The rule-checkable constraint forms: a zod discriminated union on `kind` validating `check.params`.
// Defines the data only; counting lives in text.ts, verdicts in checkers.ts, conflicts in conflicts.ts.

import { z } from "zod";
import type { CheckSpec, DimensionName } from "../../schema/index.ts";

// ---- params ----

export const RELATIONS = ["exactly", "at_least", "at_most"] as const;
const Relation = z.enum(RELATIONS);
export type Relation = z.infer<typeof Relation>;
const Count = z.object({ relation: Relation, n: z.number().int().nonnegative() });
const Words = z.array(z.string().min(1)).min(1);
const Empty = z.object({}).default({});

function form<K extends string, P extends z.ZodType>(kind: K, params: P) {
  return z.object({ kind: z.literal(kind), params });
}

// ---- exports ----

/** Every rule-checkable form, with its params. */
export const RuleSpecSchema = z.discriminatedUnion("kind", [
  form("include_keywords", z.object({ words: Words })),
  form("keyword_frequency", z.object({ word: z.string().min(1), min: z.number().int().positive() })),
  form("exclude_words", z.object({ words: Words })),
  form("no_commas", Empty),
  form("word_count", Count),
  form("sentence_count", Count),
  form("paragraph_count", Count),
  form("item_count", Count),
  form("json_keys", z.object({ keys: Words })),
  form("markdown_table", z.object({ columns: Words, min_rows: z.number().int().positive() })),
  form("numbered_list", z.object({ n: z.number().int().positive() })),
  form("bullet_list", z.object({ min: z.number().int().positive() })),
  form("headings", z.object({ titles: Words })),
  form("heading_count", z.object({ min: z.number().int().positive() })),
  form("sections", z.object({ n: z.number().int().positive() })),
  form("lowercase", Empty),
  form("uppercase", Empty),
  form("quoted", Empty),
  form("starts_with", z.object({ phrase: z.string().min(1) })),
  form("ends_with", z.object({ phrase: z.string().min(1) })),
  form("postscript", Empty),
  form("cite_source", z.object({ source: z.string().min(1) })),
  form("citation_count", z.object({ min: z.number().int().positive() })),
  form("han_chars", z.object({ min: z.number().int().positive() })),
  form("zh_line", Empty),
]);
export type RuleSpec = z.infer<typeof RuleSpecSchema>;
export type RuleKind = RuleSpec["kind"];
export type ParamsOf<K extends RuleKind> = Extract<RuleSpec, { kind: K }>["params"];

/** The taxonomy dimension each form belongs to (the constraint's `type`). */
export const KIND_DIMENSION = {
  include_keywords: "Inclusion",
  keyword_frequency: "Inclusion",
  exclude_words: "Exclusion",
  no_commas: "Exclusion",
  word_count: "Numerical",
  sentence_count: "Numerical",
  paragraph_count: "Numerical",
  item_count: "Numerical",
  json_keys: "Output Format",
  markdown_table: "Output Format",
  numbered_list: "Numbering and List",
  bullet_list: "Numbering and List",
  headings: "Hierarchical Structure",
  heading_count: "Hierarchical Structure",
  sections: "Hierarchical Structure",
  lowercase: "Text Pattern",
  uppercase: "Text Pattern",
  quoted: "Text Pattern",
  starts_with: "Template",
  ends_with: "Template",
  postscript: "Template",
  cite_source: "Citation",
  citation_count: "Citation",
  han_chars: "Multilingual",
  zh_line: "Multilingual",
} as const satisfies Record<RuleKind, DimensionName>;

export const RULE_KINDS = Object.keys(KIND_DIMENSION) as RuleKind[];

/**
 * The validated spec, kept on the (immutable) check object it came from as a hidden (non-enumerable symbol)
 * property: checks are re-read many times per record. JSON, structuredClone and deepStrictEqual ignore it; a
 * WeakMap did the same job at several times the cost (its entries weigh on every garbage collection).
 */
const PARSED = Symbol("iopo.parsedRuleSpec");
type Marked = CheckSpec & { [PARSED]?: RuleSpec };

function mark(check: CheckSpec, spec: RuleSpec): void {
  if (Object.isExtensible(check)) Object.defineProperty(check, PARSED, { value: spec });
}

/** Validate a constraint's opaque `check` as a rule spec; `undefined` when its kind has no rule checker. */
export function parseRuleSpec(check: CheckSpec | undefined): RuleSpec | undefined {
  if (!check) return undefined;
  return validateRuleSpec(check).spec;
}

/** Like parseRuleSpec but reports why a known kind's params are invalid. */
export function validateRuleSpec(check: CheckSpec): { spec?: RuleSpec; error?: string } {
  const hit = (check as Marked)[PARSED];
  if (hit) return { spec: hit };
  if (!(check.kind in KIND_DIMENSION)) return { error: `unknown check kind ${JSON.stringify(check.kind)}` };
  const parsed = RuleSpecSchema.safeParse(check);
  if (parsed.success) {
    mark(check, parsed.data);
    return { spec: parsed.data };
  }
  const issue = parsed.error.issues[0]!;
  return { error: `${issue.path.join(".")}: ${issue.message}` };
}

/** The plain `{kind, params}` form stored on a constraint. */
export function toCheckSpec(spec: RuleSpec): CheckSpec {
  const check = { kind: spec.kind, params: spec.params as Record<string, unknown> };
  mark(check, spec);
  return check;
}
