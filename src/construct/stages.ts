// The construction stages as functions `(record, ctx) → Result`: expand → structure → control → respond → judge
// for TRACE examples, then rewrite → respond → verify for IOPO groups and a worse response for DPO pairs.
// Providers come in through ctx; no file I/O here.

import { checkResponse, findConflicts, parseRuleSpec, type RuleSpec } from "../checks/rules/index.ts";
import { renumber } from "../io/layout.ts";
import { type Example, type Instruction, type IopoGroup, type PreferencePair, REWRITE_OPS } from "../schema/index.ts";
import { type CountDistribution, drawCount } from "./distribution.ts";
import { Rng } from "./offline/rng.ts";
import { RESERVED } from "./offline/vocab.ts";
import { drop, ok, type Roles, type SeedRecord, type StageResult } from "./roles.ts";

// ---- types ----

export const TRACE_STAGES = ["expand", "structure", "control", "respond", "judge"] as const;
export const GROUP_STAGES = ["rewrite", "respond", "verify", "dpo"] as const;

export interface StageCtx {
  readonly roles: Roles;
  readonly seed: number;
  readonly counts: CountDistribution;
  readonly countWeights: readonly number[];
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

function specsOf(x: Instruction): (RuleSpec | undefined)[] {
  return x.constraints.map((c) => parseRuleSpec(c.check));
}

/** Scores 0–10 per constraint: the rule decides where one exists; the judge role scores the rest. */
async function score(x: Instruction, response: string, ctx: StageCtx, key: string): Promise<StageResult<number[]>> {
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

/** Drop incomplete instructions; remove repeated constraints (fixed); drop contradicting ones. */
export function controlStage(x: Instruction): StageResult<Instruction> {
  if (x.description.trim() === "") return drop("incomplete", "empty task description");
  if (x.constraints.length === 0) return drop("incomplete", "no constraints");
  const seen = new Set<string>();
  const keep: number[] = [];
  x.constraints.forEach((c, i) => {
    const norm = c.text
      .replace(/^\s*\d+[.、．]\s*/, "")
      .trim()
      .toLowerCase();
    if (!seen.has(norm)) keep.push(i);
    seen.add(norm);
  });
  const specs = specsOf(x);
  const checked = keep.filter((i) => specs[i] !== undefined);
  const conflicts = findConflicts(
    checked.map((i) => specs[i]!),
    { reserved: RESERVED },
  );
  const hard = conflicts.find((c) => c.code === "conflict");
  if (hard) return drop("conflict", hard.reason);
  const redundant = new Set(conflicts.filter((c) => c.code === "redundant").map((c) => checked[c.j]!));
  const final = keep.filter((i) => !redundant.has(i));
  if (final.length === x.constraints.length) return ok(x);
  const cs = final.map((i) => x.constraints[i]!);
  const texts = renumber(cs.map((c) => c.text));
  const fixed = { ...x, constraints: cs.map((c, i) => ({ ...c, text: texts[i]! })) };
  return ok(fixed, `removed ${x.constraints.length - final.length} repeated constraint(s)`);
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

/** One seed through the five TRACE stages. */
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
  const x = controlStage(x0.value);
  if (!x.ok) return fail("control", x);
  pass("control", x.fixed);
  const y = await respondStage(x.value, ctx, id);
  if (!y.ok) return fail("respond", y);
  pass("respond");
  const scores = await judgeStage(x.value, y.value, ctx, id);
  if (!scores.ok) return fail("judge", scores);
  pass("judge");
  const lineage = { source_ids: [seed.id], origin: ctx.roles.origin };
  return { trail, example: { id, instruction: x.value, response: y.value, scores: scores.value, lineage } };
}

// ---- group stages ----

/** One SFT example into an IOPO group (x1, y1, x2, y2) and a DPO pair (x1, y1, y_worse). */
export async function groupOne(
  ex: Example,
  ctx: StageCtx,
): Promise<{ group?: IopoGroup; pair?: PreferencePair; rejects: Reject[]; trail: Trail[] }> {
  const trail: Trail[] = [];
  const rejects: Reject[] = [];
  const src = [ex.id, ...(ex.lineage?.source_ids ?? [])];
  const fail = (stage: string, r: { code: string; reason: string }) => {
    trail.push({ stage, outcome: "drop", code: r.code, reason: r.reason });
    rejects.push({ id: ex.id, stage, code: r.code, reason: r.reason, source_ids: src });
  };
  const x1 = ex.instruction;
  const y1 = ex.response;
  const op = Rng.for(ctx.seed, `op:${ex.id}`).pick(REWRITE_OPS);
  let group: IopoGroup | undefined;
  let y2: string | undefined;
  let y2FailsX1 = false;
  const rw = await ctx.roles.rewrite(x1, y1, op, ex.id);
  if (!rw.ok) fail("rewrite", rw);
  else {
    trail.push({ stage: "rewrite", outcome: "ok" });
    const x2 = { ...rw.value.x2, id: `${ex.id}-x2` };
    const r2 = await ctx.roles.respond(x2, `${ex.id}-x2`);
    if (!r2.ok) fail("respond", r2);
    else {
      trail.push({ stage: "respond", outcome: "ok" });
      const s2 = await judgeStage(x2, r2.value, ctx, `${ex.id}-y2`);
      const s1 = s2.ok ? await score(x2, y1, ctx, `${ex.id}-y1x2`) : undefined;
      if (!s2.ok) fail("verify", { code: "y2_not_all_ten", reason: s2.reason });
      else if (!s1?.ok) fail("verify", s1 && !s1.ok ? s1 : { code: "judge_failed", reason: "no score" });
      else if (s1.value.every((v) => v === 10))
        fail("verify", { code: "y1_still_complies", reason: "y1 scores 10 on every constraint of x2" });
      else {
        trail.push({ stage: "verify", outcome: "ok" });
        y2 = r2.value;
        const back = await score(x1, y2, ctx, `${ex.id}-y2x1`);
        y2FailsX1 = back.ok && back.value.some((v) => v < 10);
        group = {
          id: `g-${ex.id}`,
          x1,
          y1,
          x2,
          y2,
          op,
          changed: rw.value.changed,
          y2_fails_x1: y2FailsX1,
          lineage: { source_ids: src, origin: ctx.roles.origin },
        };
      }
    }
  }
  // DPO: y2 when it fails x1 (free), otherwise a neighbour response that fails x1.
  let rejected: string | undefined = y2 !== undefined && y2FailsX1 ? y2 : undefined;
  if (rejected === undefined) {
    const w = await ctx.roles.worsen(x1, y1, ex.id);
    const s = w.ok ? await score(x1, w.value, ctx, `${ex.id}-worse`) : undefined;
    if (!w.ok) fail("dpo", w);
    else if (!s?.ok || s.value.every((v) => v === 10))
      fail("dpo", { code: "no_worse_response", reason: "the worse response still follows every constraint" });
    else rejected = w.value;
  }
  let pair: PreferencePair | undefined;
  if (rejected !== undefined) {
    trail.push({ stage: "dpo", outcome: "ok" });
    pair = {
      id: `p-${ex.id}`,
      instruction: x1,
      chosen: y1,
      rejected,
      lineage: { source_ids: src, origin: ctx.roles.origin },
    };
  }
  return { group, pair, rejects, trail };
}
