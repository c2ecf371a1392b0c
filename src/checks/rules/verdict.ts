// Check a response against a whole structured instruction: one verdict per constraint, `ok: null` where the
// constraint has no rule checker (the LLM judge's job). Used by `iopo check`, the judge stage and evaluators.

import type { Instruction } from "../../schema/index.ts";
import { checkRule, type RuleIssue } from "./checkers.ts";
import { validateRuleSpec } from "./spec.ts";

// ---- types ----

export interface ConstraintVerdict {
  readonly text: string;
  readonly type?: string;
  /** true/false by the rule checker; null when the constraint has no rule checker. */
  readonly ok: boolean | null;
  readonly issues: RuleIssue[];
  /** Why there is no verdict (no check spec, unknown kind, invalid params). */
  readonly note?: string;
}

export interface InstructionVerdict {
  readonly constraints: ConstraintVerdict[];
  /** true iff every constraint has a rule verdict and all are ok; null if some have none and none failed. */
  readonly all_ok: boolean | null;
}

// ---- exports ----

export function checkResponse(instruction: Pick<Instruction, "constraints">, response: string): InstructionVerdict {
  // Plain loops and literal objects (same key order as before): this runs several times per constructed record.
  const constraints: ConstraintVerdict[] = [];
  let anyFail = false;
  let anyNull = false;
  for (const c of instruction.constraints) {
    let ok: boolean | null = null;
    let issues: RuleIssue[] = [];
    let note: string | undefined = "no rule checker for this constraint";
    if (c.check) {
      const { spec, error } = validateRuleSpec(c.check);
      if (spec) {
        const v = checkRule(response, spec);
        ok = v.ok;
        issues = v.issues;
        note = undefined;
      } else note = `no rule checker: ${error}`;
    }
    if (ok === false) anyFail = true;
    if (ok === null) anyNull = true;
    const v: ConstraintVerdict = c.type
      ? note === undefined
        ? { text: c.text, type: c.type, ok, issues }
        : { text: c.text, type: c.type, ok, issues, note }
      : note === undefined
        ? { text: c.text, ok, issues }
        : { text: c.text, ok, issues, note };
    constraints.push(v);
  }
  return { constraints, all_ok: anyFail ? false : anyNull ? null : true };
}
