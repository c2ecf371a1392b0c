// Quality control as three stages — completeness, redundancy, contradiction — each: the static rules every path
// shares, then the role's judge (an LLM with zod-checked replies, or the offline world's rules); on a problem, one
// repair attempt, judged again; a drop only when the repair fails. No file I/O.

import { findConflicts, parseRuleSpec, type RuleSpec } from "../checks/rules/index.ts";
import { renumber } from "../io/index.ts";
import type { Instruction } from "../schema/index.ts";
import { RESERVED } from "./offline/vocab.ts";
import { type DropCode, drop, ok, type QcAspect, type Roles, type StageResult } from "./roles.ts";

// ---- helpers ----

/** The drop code of each aspect. */
export const QC_CODE: Record<QcAspect, DropCode> = {
  completeness: "incomplete",
  redundancy: "redundant",
  contradiction: "contradictory",
};

const bare = (text: string) =>
  text
    .replace(/^\s*\d+[.、．]\s*/, "")
    .trim()
    .toLowerCase();

function specsOf(x: Instruction): (RuleSpec | undefined)[] {
  return x.constraints.map((c) => parseRuleSpec(c.check));
}

/** Indices of constraints to keep: first of each repeated text, and none a rule spec already implies. */
function keepIndices(x: Instruction): number[] {
  const seen = new Set<string>();
  const keep: number[] = [];
  x.constraints.forEach((c, i) => {
    const norm = bare(c.text);
    if (!seen.has(norm)) keep.push(i);
    seen.add(norm);
  });
  const specs = specsOf(x);
  const checked = keep.filter((i) => specs[i] !== undefined);
  const conflicts = findConflicts(
    checked.map((i) => specs[i]!),
    { reserved: RESERVED },
  );
  const redundant = new Set(conflicts.filter((c) => c.code === "redundant").map((c) => checked[c.j]!));
  return keep.filter((i) => !redundant.has(i));
}

// ---- exports ----

/** x with only the constraints at `keep` (renumbered), or x itself when all are kept. */
export function keepOnly(x: Instruction, keep: readonly number[]): Instruction {
  if (keep.length === x.constraints.length) return x;
  const cs = keep.map((i) => x.constraints[i]!);
  const texts = renumber(cs.map((c) => c.text));
  return { ...x, constraints: cs.map((c, i) => ({ ...c, text: texts[i]! })) };
}

/** Remove repeated constraints (same text, or a rule form another constraint already implies). */
export function dedupe(x: Instruction): { x: Instruction; removed: number } {
  const keep = keepIndices(x);
  return { x: keepOnly(x, keep), removed: x.constraints.length - keep.length };
}

/** What the shared rules see for one aspect (before any judge is asked). */
export function staticProblems(aspect: QcAspect, x: Instruction): string[] {
  if (aspect === "completeness") {
    const out: string[] = [];
    if (x.description.trim() === "") out.push("empty task description");
    if (x.constraints.length === 0) out.push("no constraints");
    x.constraints.forEach((c, i) => {
      if (bare(c.text) === "") out.push(`constraint ${i + 1} is empty`);
    });
    return out;
  }
  if (aspect === "redundancy") {
    const keep = new Set(keepIndices(x));
    return x.constraints.flatMap((_, i) => (keep.has(i) ? [] : [`constraint ${i + 1} repeats an earlier one`]));
  }
  return contradictions(x).map((c) =>
    c.i < 0 ? `constraint ${c.j + 1}: ${c.reason}` : `constraints ${c.i + 1} and ${c.j + 1} contradict: ${c.reason}`,
  );
}

/** Pairs of constraints (indices into x; i = -1 for a whole-set bound) the rule forms show cannot hold together. */
export function contradictions(x: Instruction): { i: number; j: number; reason: string }[] {
  const specs = specsOf(x);
  const idx = specs.flatMap((s, i) => (s ? [i] : []));
  return findConflicts(
    idx.map((i) => specs[i]!),
    { reserved: RESERVED },
  )
    .filter((c) => c.code === "conflict")
    .map((c) => ({ i: c.i < 0 ? -1 : idx[c.i]!, j: idx[c.j]!, reason: c.reason }));
}

/** Problems of an aspect: the static rules (unless the caller just made them pass), then the role's judge. */
async function problems(
  aspect: QcAspect,
  x: Instruction,
  roles: Roles,
  key: string,
  rulesPass = false,
): Promise<StageResult<string[]>> {
  const found = rulesPass ? [] : staticProblems(aspect, x);
  return found.length > 0 ? ok(found) : roles.qc(aspect, x, key);
}

/**
 * One quality stage: redundancy first removes exact and implied repeats (a fix); then problems are looked for;
 * on some, the role repairs x once and the result is judged again. A drop carries the aspect's code, or
 * `qc_invalid_reply` when the judge's or repairer's reply stayed invalid.
 */
export async function qcStage(
  aspect: QcAspect,
  x0: Instruction,
  roles: Roles,
  key: string,
): Promise<StageResult<Instruction>> {
  let x = x0;
  let note: string | undefined;
  if (aspect === "redundancy") {
    const d = dedupe(x);
    if (d.removed > 0) {
      x = d.x;
      note = `removed ${d.removed} repeated constraint(s)`;
    }
  }
  // After dedupe no repeat is left by rule: redundancy goes straight to the judge.
  const found = await problems(aspect, x, roles, key, aspect === "redundancy");
  if (!found.ok) return found;
  if (found.value.length === 0) return ok(x, note);
  const first = found.value[0]!;
  const fixed = await roles.repair(aspect, x, found.value, key);
  if (!fixed.ok)
    return fixed.code === "qc_invalid_reply" ? fixed : drop(QC_CODE[aspect], `${first}; not repaired: ${fixed.reason}`);
  const y = aspect === "redundancy" ? dedupe(fixed.value).x : fixed.value;
  const again = await problems(aspect, y, roles, `${key}:repaired`, aspect === "redundancy");
  if (!again.ok) return again;
  if (again.value.length > 0) return drop(QC_CODE[aspect], `${first}; after repair: ${again.value[0]}`);
  return ok(y, `repaired: ${found.value.join("; ")}`);
}
