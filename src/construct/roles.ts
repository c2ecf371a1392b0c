// The roles a construction provider plays (expander, structurer, responder, judge, rewriter) and the result
// type every stage returns. The offline world and the LLM path both implement `Roles`.

import type { Instruction, RewriteOp } from "../schema/index.ts";

// ---- types ----

/** Drop codes that appear in rejects.jsonl and funnel.json. */
export type DropCode =
  | "expand_failed"
  | "structure_failed"
  | "incomplete"
  | "conflict"
  | "unsatisfiable"
  | "respond_failed"
  | "judge_failed"
  | "not_all_ten"
  | "rewrite_failed"
  | "y1_still_complies"
  | "y2_not_all_ten"
  | "no_worse_response";

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
  /** x2: x1's constraints rewritten by `op` so that y1 no longer complies. */
  rewrite(x1: Instruction, y1: string, op: RewriteOp, key: string): Promise<StageResult<Rewrite>>;
  /** A response to x that violates at least one of its constraints (for DPO). */
  worsen(x: Instruction, y: string, key: string): Promise<StageResult<string>>;
}

// ---- exports ----

export function ok<T>(value: T, fixed?: string): StageResult<T> {
  return fixed ? { ok: true, value, fixed } : { ok: true, value };
}

export function drop<T>(code: DropCode, reason: string): StageResult<T> {
  return { ok: false, code, reason };
}
