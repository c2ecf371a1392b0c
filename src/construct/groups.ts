// IOPO groups, SFT* examples and DPO pairs from one SFT example: rewrite (ADD | DELETE | REVISE) → respond →
// relations (y1 ⊨ x1, y1 ⊭ x2, y2 ⊨ x2, and in strict mode y2 ⊭ x1) → rationality (the four pairs judged once
// more) → a separately written worse answer for DPO. No file I/O.

import {
  type Example,
  type GroupMode,
  type Instruction,
  type IopoGroup,
  type PreferencePair,
  REWRITE_OPS,
  type Relations,
  type RewriteOp,
} from "../schema/index.ts";
import { Rng } from "./offline/rng.ts";
import { type DropCode, ok, type StageResult } from "./roles.ts";
import type { Counts } from "./runner.ts";
import { judgeStage, type Reject, type StageCtx, score, type Trail } from "./stages.ts";

// ---- types ----

export const GROUP_STAGES = ["rewrite", "respond", "relations", "rationality", "dpo"] as const;

export interface GroupResult {
  readonly group?: IopoGroup;
  /** SFT*: (x1, y1) and (x2, y2) of the kept group. */
  readonly sftStar: Example[];
  readonly pair?: PreferencePair;
  readonly rejects: Reject[];
  readonly trail: Trail[];
  readonly counts: Counts;
}

interface Candidate {
  readonly x2: Instruction;
  readonly y2: string;
  readonly y2Scores: number[];
  readonly relations: Relations;
  readonly changed: { x1: number[]; x2: number[] };
}

// ---- helpers ----

const allTen = (s: readonly number[]) => s.every((v) => v === 10);

/** The first relation a candidate breaks under `mode`, as a drop; undefined when it keeps all it needs. */
function broken(r: Relations, mode: GroupMode): { code: DropCode; reason: string } | undefined {
  if (!r.y1_x1) return { code: "y1_fails_x1", reason: "y1 does not score 10 on every constraint of x1" };
  if (!r.y2_x2) return { code: "y2_not_all_ten", reason: "y2 does not score 10 on every constraint of x2" };
  if (r.y1_x2) return { code: "y1_still_complies", reason: "y1 scores 10 on every constraint of x2" };
  if (mode === "strict" && r.y2_x1)
    return { code: "y2_complies_x1", reason: "y2 scores 10 on every constraint of x1 (strict groups need y2 ⊭ x1)" };
  return undefined;
}

/** Operations in the order tried: the drawn one (uniform), then the other two in a drawn order. */
function opOrder(ctx: StageCtx, id: string): RewriteOp[] {
  const first = Rng.for(ctx.seed, `op:${id}`).pick(REWRITE_OPS);
  const rest = REWRITE_OPS.filter((o) => o !== first);
  if (Rng.for(ctx.seed, `ops:${id}`).chance(0.5)) rest.reverse();
  return [first, ...rest];
}

function tally(counts: Counts, op: RewriteOp, key: string): void {
  const rel = (counts.relations ??= {}) as Counts;
  const per = (rel[op] ??= {}) as Counts;
  per[key] = ((per[key] as number | undefined) ?? 0) + 1;
}

// ---- exports ----

/**
 * One SFT example into an IOPO group, its SFT* examples and a DPO pair. Operations are tried in `opOrder` until
 * a candidate keeps the relations its mode needs and passes the rationality check (in strict mode an ADD
 * candidate never can: y2 ⊨ x2 ⊇ x1); every candidate is counted per operation in `counts.relations`.
 */
export async function groupOne(ex: Example, ctx: StageCtx): Promise<GroupResult> {
  const mode = ctx.mode ?? "strict";
  const trail: Trail[] = [];
  const rejects: Reject[] = [];
  const counts: Counts = {};
  const src = [ex.id, ...(ex.lineage?.source_ids ?? [])];
  const lineage = { source_ids: src, origin: ctx.roles.origin };
  const fail = (stage: string, r: { code: string; reason: string }, op?: RewriteOp) => {
    const reason = op ? `${op}: ${r.reason}` : r.reason;
    trail.push({ stage, outcome: "drop", code: r.code, reason });
    rejects.push({ id: ex.id, stage, code: r.code, reason, source_ids: src });
  };
  const x1 = ex.instruction;
  const y1 = ex.response;
  let y1x1: boolean | undefined;
  let group: IopoGroup | undefined;
  let sftStar: Example[] = [];
  const ops = opOrder(ctx, ex.id);
  for (const [k, op] of ops.entries()) {
    const key = k === 0 ? ex.id : `${ex.id}/${op}`;
    tally(counts, op, "candidates");
    const rw = await ctx.roles.rewrite(x1, y1, op, key, mode === "strict");
    if (!rw.ok) {
      fail("rewrite", rw, op);
      continue;
    }
    trail.push({ stage: "rewrite", outcome: "ok" });
    const x2 = { ...rw.value.x2, id: `${ex.id}-x2` };
    const r2 = await ctx.roles.respond(x2, k === 0 ? `${ex.id}-x2` : `${key}-x2`);
    if (!r2.ok) {
      fail("respond", r2, op);
      continue;
    }
    trail.push({ stage: "respond", outcome: "ok" });
    const y2 = r2.value;
    // The four relations; y1 ⊨ x1 is known from the trace judge when its scores are on the example.
    if (y1x1 === undefined) {
      const s = ex.scores ? ok(ex.scores) : await score(x1, y1, ctx, `${ex.id}-y1x1`);
      y1x1 = s.ok && allTen(s.value);
    }
    const s22 = await score(x2, y2, ctx, `${key}-y2`);
    const s12 = await score(x2, y1, ctx, `${key}-y1x2`);
    const s21 = await score(x1, y2, ctx, `${key}-y2x1`);
    const failed = [s22, s12, s21].find((s) => !s.ok);
    if (failed && !failed.ok) {
      fail("relations", failed, op);
      continue;
    }
    const val = (s: StageResult<number[]>) => (s.ok ? s.value : []);
    const rel: Relations = {
      y1_x1: y1x1,
      y1_x2: allTen(val(s12)),
      y2_x2: allTen(val(s22)),
      y2_x1: allTen(val(s21)),
    };
    tally(counts, op, "responded");
    if (rel.y1_x1) tally(counts, op, "y1_x1");
    if (!rel.y1_x2) tally(counts, op, "y1_not_x2");
    if (rel.y2_x2) tally(counts, op, "y2_x2");
    if (!rel.y2_x1) tally(counts, op, "y2_not_x1");
    if (rel.y1_x1 && !rel.y1_x2 && rel.y2_x2 && !rel.y2_x1) tally(counts, op, "all_four");
    const bad = broken(rel, mode);
    if (bad) {
      fail("relations", bad, op);
      continue;
    }
    trail.push({ stage: "relations", outcome: "ok" });
    const c: Candidate = { x2, y2, y2Scores: val(s22), relations: rel, changed: rw.value.changed };
    const judged = await ctx.roles.rationality({ x1, y1, x2, y2 }, rel, key);
    if (!judged.ok) {
      fail("rationality", judged, op);
      continue;
    }
    const v = judged.value;
    const disagree = [
      !v.relations.y1_x1 && "y1 ⊭ x1",
      !v.relations.y2_x2 && "y2 ⊭ x2",
      v.relations.y1_x2 && "y1 ⊨ x2",
      mode === "strict" && v.relations.y2_x1 && "y2 ⊨ x1",
      !v.y2_better_for_x2 && "y2 does not follow x2 better than y1",
    ].filter((d): d is string => typeof d === "string");
    if (disagree.length) {
      fail(
        "rationality",
        { code: "irrational_group", reason: `${disagree.join("; ")}${v.reason ? ` (${v.reason})` : ""}` },
        op,
      );
      continue;
    }
    trail.push({ stage: "rationality", outcome: "ok" });
    tally(counts, op, "kept");
    counts.kept_by_op = { [op]: 1 };
    group = {
      id: `g-${ex.id}`,
      x1,
      y1,
      x2: c.x2,
      y2: c.y2,
      op,
      changed: c.changed,
      y2_fails_x1: !c.relations.y2_x1,
      relations: c.relations,
      lineage,
    };
    sftStar = [
      { id: `s-${ex.id}-1`, instruction: x1, response: y1, ...(ex.scores && { scores: ex.scores }), lineage },
      { id: `s-${ex.id}-2`, instruction: c.x2, response: c.y2, scores: c.y2Scores, lineage },
    ];
    break;
  }
  // DPO: a worse answer written for x1 on its own (never y2), kept when it fails some constraint of x1.
  let pair: PreferencePair | undefined;
  const w = await ctx.roles.worsen(x1, y1, ex.id);
  if (!w.ok) fail("dpo", w);
  else {
    const s = await judgeStage(x1, w.value, ctx, `${ex.id}-worse`);
    if (s.ok) fail("dpo", { code: "no_worse_response", reason: "the worse answer still follows every constraint" });
    else if (s.code !== "not_all_ten") fail("dpo", s);
    else {
      trail.push({ stage: "dpo", outcome: "ok" });
      pair = { id: `p-${ex.id}`, instruction: x1, chosen: y1, rejected: w.value, lineage };
    }
  }
  return { group, sftStar, pair, rejects, trail, counts };
}
