// The roles a construction provider plays (expander, structurer, quality judge and repairer, responder, judge,
// rewriter, group checker, worse-answer writer; taxonomy proposer, merger and mapper) and the result type every
// stage returns. The offline world and the LLM path both implement `Roles` and `TaxonomyRoles`.

import type { DimensionName, Instruction, Proposal, Relations, RewriteOp } from "../schema/index.ts";

// ---- types ----

/** Drop codes that appear in rejects.jsonl and funnel.json. */
export type DropCode =
  | "expand_failed"
  | "structure_failed"
  | "poor_instruction"
  | "incomplete"
  | "redundant"
  | "contradictory"
  | "qc_invalid_reply"
  | "conflict"
  | "unsatisfiable"
  | "respond_failed"
  | "judge_failed"
  | "not_all_ten"
  | "rewrite_failed"
  | "y1_fails_x1"
  | "y2_not_all_ten"
  | "y1_still_complies"
  | "y2_complies_x1"
  | "irrational_group"
  | "rationality_failed"
  | "no_worse_response"
  | "propose_failed";

/** The quality-control aspects, each a stage of its own (the paper's completeness and redundancy judges, and
 * contradiction). */
export const QC_STAGES = ["completeness", "redundancy", "contradiction"] as const;
export type QcAspect = (typeof QC_STAGES)[number];

/** A group as the rationality check sees it. */
export interface GroupDraft {
  readonly x1: Instruction;
  readonly y1: string;
  readonly x2: Instruction;
  readonly y2: string;
}

/** The constructing model's view of a group's four pairs. */
export interface RationalityVerdict {
  readonly relations: Relations;
  /** Whether y2 follows x2 better than y1 does. */
  readonly y2_better_for_x2: boolean;
  readonly reason?: string;
}

export type StageResult<T> =
  | { readonly ok: true; readonly value: T; readonly fixed?: string }
  | { readonly ok: false; readonly code: DropCode; readonly reason: string };

/** A simple instruction to expand. */
export interface SeedRecord {
  readonly id: string;
  readonly text: string;
  readonly input: string | null;
}

export interface Rewrite {
  readonly x2: Instruction;
  readonly changed: { x1: number[]; x2: number[] };
}

export interface Roles {
  /** "offline" or "llm:<model>"; recorded as lineage origin. */
  readonly origin: string;
  /** A flat TRACE-layout prompt with `target` constraints added to the seed. */
  expand(seed: SeedRecord, target: number, key: string): Promise<StageResult<string>>;
  /** Split a flat prompt into description, typed constraints (with checks where known) and input. */
  structure(flat: string, id: string, seed: SeedRecord): Promise<StageResult<Instruction>>;
  /** A response to the instruction. */
  respond(x: Instruction, key: string): Promise<StageResult<string>>;
  /** 0–10 per listed constraint (those without a rule checker). */
  judge(x: Instruction, response: string, indices: readonly number[], key: string): Promise<StageResult<number[]>>;
  /**
   * x2: x1's constraints rewritten by `op` so that y1 no longer complies; with `breakX1` (strict groups), aiming
   * also for an x2 whose answers cannot meet x1.
   */
  rewrite(x1: Instruction, y1: string, op: RewriteOp, key: string, breakX1?: boolean): Promise<StageResult<Rewrite>>;
  /** Problems of one quality aspect (none: the instruction passes). Invalid replies: `qc_invalid_reply`. */
  qc(aspect: QcAspect, x: Instruction, key: string): Promise<StageResult<string[]>>;
  /** x rewritten to fix the listed problems (same id and language). */
  repair(aspect: QcAspect, x: Instruction, problems: readonly string[], key: string): Promise<StageResult<Instruction>>;
  /** The group's four pairs judged (Appendix D's last step); `known` holds the checkers' and judge's relations. */
  rationality(g: GroupDraft, known: Relations, key: string): Promise<StageResult<RationalityVerdict>>;
  /** A response to x that follows its constraints worse than the reference answer y does (for DPO). */
  worsen(x: Instruction, y: string, key: string): Promise<StageResult<string>>;
}

/** A merged group of proposals, as the merger and mapper see it. */
export interface TypeCluster {
  /** The most frequent proposal name. */
  readonly name: string;
  readonly definition: string;
  /** Further names merged into it. */
  readonly aliases: readonly string[];
}

export interface TaxonomyRoles {
  readonly origin: string;
  /** The constraint types that could apply to a simple instruction. */
  propose(seed: SeedRecord, key: string): Promise<StageResult<Proposal[]>>;
  /** Whether two proposal clusters name the same constraint type. */
  same(a: TypeCluster, b: TypeCluster, key: string): Promise<StageResult<boolean>>;
  /** The built-in dimension a cluster is, or null when none fits. */
  map(c: TypeCluster, key: string): Promise<StageResult<DimensionName | null>>;
}

// ---- exports ----

export function ok<T>(value: T, fixed?: string): StageResult<T> {
  return fixed ? { ok: true, value, fixed } : { ok: true, value };
}

export function drop<T>(code: DropCode, reason: string): StageResult<T> {
  return { ok: false, code, reason };
}
