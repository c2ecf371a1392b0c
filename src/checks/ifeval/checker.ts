// The checker contract: a def is `{kind, ...kwargs}` validated by zod; `check(response, def)` is pure and returns
// `{ok, issues}`, issues drawn from one code union with `expected` and `got`. Helpers build the common results.
// No registry here (registry.ts) and no scoring (src/evaluate/ifeval).

import { z } from "zod";

// ---- types ----

export type IssueCode =
  | "too_small"
  | "too_big"
  | "wrong_count"
  | "missing_keyword"
  | "forbidden_word"
  | "wrong_language"
  | "wrong_case"
  | "bad_format"
  | "missing_text";

export interface CheckIssue {
  readonly code: IssueCode;
  readonly expected: string;
  readonly got: string;
}

export interface CheckResult {
  readonly ok: boolean;
  readonly issues: readonly CheckIssue[];
}

export interface Checker<K extends string, D extends { kind: K }> {
  readonly kind: K;
  /** Validates `{kind, ...kwargs}`; unknown kwargs are rejected, as Python's `build_description(**kwargs)` does. */
  readonly schema: z.ZodType<D>;
  readonly check: (response: string, def: D) => CheckResult;
}

// ---- helpers ----

export const Relation = z.enum(["less than", "at least"]);
export type Relation = z.infer<typeof Relation>;
/** A count the official code would replace with a random one when missing or negative. */
export const Count = z.number().int().nonnegative();

export const PASS: CheckResult = { ok: true, issues: [] };

export function fail(code: IssueCode, expected: string, got: string): CheckResult {
  return { ok: false, issues: [{ code, expected, got }] };
}

export function pass(ok: boolean, code: IssueCode, expected: string, got: string): CheckResult {
  return ok ? PASS : fail(code, expected, got);
}

/** `less than` → actual < n; `at least` → actual ≥ n. */
export function compare(relation: Relation, actual: number, n: number, what: string): CheckResult {
  if (relation === "less than") return pass(actual < n, "too_big", `fewer than ${n} ${what}`, String(actual));
  return pass(actual >= n, "too_small", `at least ${n} ${what}`, String(actual));
}

// ---- exports ----

/** Define a checker from its kwargs shape; the def schema is strict `{kind, ...kwargs}`. */
export function defineChecker<K extends string, Sh extends z.ZodRawShape>(
  kind: K,
  kwargs: Sh,
  check: (response: string, def: z.infer<z.ZodObject<Sh>> & { kind: K }) => CheckResult,
  refine?: { readonly test: (def: z.infer<z.ZodObject<Sh>>) => boolean; readonly message: string },
): Checker<K, z.infer<z.ZodObject<Sh>> & { kind: K }> {
  let object = z.strictObject({ kind: z.literal(kind), ...kwargs });
  if (refine) object = object.refine((d) => refine.test(d as z.infer<z.ZodObject<Sh>>), refine.message);
  const schema = object as unknown as z.ZodType<z.infer<z.ZodObject<Sh>> & { kind: K }>;
  return { kind, schema, check };
}
