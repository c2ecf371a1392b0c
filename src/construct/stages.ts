// The TRACE construction stages as functions `(record, ctx) → Result`: expand → structure → completeness →
// redundancy → contradiction → respond → judge (quality stages in quality.ts; groups in groups.ts). Providers come
// in through ctx; no file I/O here.

import { checkResponse } from "../checks/rules/index.ts";
import type { Example, GroupMode, Instruction } from "../schema/index.ts";
import { type CountDistribution, drawCount } from "./distribution.ts";
import { Rng } from "./offline/rng.ts";
import { qcStage } from "./quality.ts";
import { drop, ok, QC_STAGES, type Roles, type SeedRecord, type StageResult } from "./roles.ts";

// ---- types ----

export const TRACE_STAGES = ["expand", "structure", ...QC_STAGES, "respond", "judge"] as const;

export interface StageCtx {
  readonly roles: Roles;
  readonly seed: number;
  readonly counts: CountDistribution;
  readonly countWeights: readonly number[];
  /** Which groups to keep. @default "strict" */
  readonly mode?: GroupMode;
}

/** What happened to one record at one stage, for the funnel. */
export interface Trail {
  readonly stage: string;
  readonly outcome: "ok" | "fixed" | "drop";
  readonly code?: string;
  readonly reason?: string;
}

export interface Reject {
  readonly id: string;
  readonly stage: string;
  readonly code: string;
  readonly reason: string;
  readonly source_ids: string[];
}

// ---- helpers ----

/** Scores 0–10 per constraint: the rule decides where one exists; the judge role scores the rest. */
export async function score(
  x: Instruction,
  response: string,
  ctx: StageCtx,
  key: string,
): Promise<StageResult<number[]>> {
  const verdict = checkResponse(x, response);
  const scores: number[] = verdict.constraints.map((c) => (c.ok === null ? -1 : c.ok ? 10 : 0));
  const open = scores.flatMap((s, i) => (s < 0 ? [i] : []));
  if (open.length) {
    const judged = await ctx.roles.judge(x, response, open, key);
    if (!judged.ok) return judged;
    open.forEach((i, j) => {
      scores[i] = judged.value[j]!;
    });
  }
  return ok(scores);
}

// ---- trace stages ----

export async function expandStage(seed: SeedRecord, ctx: StageCtx, key: string): Promise<StageResult<string>> {
  const target = drawCount(Rng.for(ctx.seed, `count:${key}`), ctx.counts, ctx.countWeights);
  return ctx.roles.expand(seed, target, key);
}

export async function structureStage(flat: string, ctx: StageCtx, id: string, seed: SeedRecord) {
  return ctx.roles.structure(flat, id, seed);
}

export async function respondStage(x: Instruction, ctx: StageCtx, key: string) {
  return ctx.roles.respond(x, key);
}

/** Keep only responses where every constraint scores 10. */
export async function judgeStage(
  x: Instruction,
  y: string,
  ctx: StageCtx,
  key: string,
): Promise<StageResult<number[]>> {
  const s = await score(x, y, ctx, key);
  if (!s.ok) return s;
  const bad = s.value.flatMap((v, i) => (v < 10 ? [i + 1] : []));
  return bad.length ? drop("not_all_ten", `constraint(s) ${bad.join(", ")} below 10`) : s;
}

/** One seed through the TRACE stages. */
export async function traceOne(
  seed: SeedRecord,
  id: string,
  ctx: StageCtx,
): Promise<{ example?: Example; reject?: Reject; trail: Trail[] }> {
  const trail: Trail[] = [];
  const fail = (stage: string, r: { code: string; reason: string }) => {
    trail.push({ stage, outcome: "drop", code: r.code, reason: r.reason });
    return { trail, reject: { id, stage, code: r.code, reason: r.reason, source_ids: [seed.id] } };
  };
  const pass = (stage: string, fixed?: string) => trail.push({ stage, outcome: fixed ? "fixed" : "ok", reason: fixed });
  const flat = await expandStage(seed, ctx, id);
  if (!flat.ok) return fail("expand", flat);
  pass("expand");
  const x0 = await structureStage(flat.value, ctx, id, seed);
  if (!x0.ok) return fail("structure", x0);
  pass("structure");
  let x = x0.value;
  for (const aspect of QC_STAGES) {
    const q = await qcStage(aspect, x, ctx.roles, `${aspect}:${id}`);
    if (!q.ok) return fail(aspect, q);
    pass(aspect, q.fixed);
    x = q.value;
  }
  const y = await respondStage(x, ctx, id);
  if (!y.ok) return fail("respond", y);
  pass("respond");
  const scores = await judgeStage(x, y.value, ctx, id);
  if (!scores.ok) return fail("judge", scores);
  pass("judge");
  const lineage = { source_ids: [seed.id], origin: ctx.roles.origin };
  return { trail, example: { id, instruction: x, response: y.value, scores: scores.value, lineage } };
}
