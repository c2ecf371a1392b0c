// TRACE scores as the paper defines them: an item is correct iff every constraint scores 10; IF-S over items with
// one constraint, IF-M over items with two or more; constraint-level accuracy, per dimension and per count.
// Judge failures are left out of every denominator and reported separately.

import { type Instruction, Taxonomy } from "../../schema/index.ts";

export interface Judged {
  readonly instruction: Instruction;
  /** One score per constraint, or null when the judge failed for this item. */
  readonly scores: readonly number[] | null;
  /** The judge's overall score 0–10 (authors' protocol), or null/absent when there is none. */
  readonly overall?: number | null;
}

export interface Ratio {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface TraceScores {
  items: number;
  judged: number;
  if_s: Ratio;
  if_m: Ratio;
  overall: Ratio;
  constraint_level: Ratio;
  /** Constraint-level accuracy per taxonomy dimension ("unknown" for labels outside it, "untyped" for none). */
  by_dimension: Record<string, Ratio>;
  /** Item accuracy per constraint count. */
  by_count: Record<string, Ratio>;
  judge_failures: { count: number; ids: string[] };
  /**
   * The variant that reads the judge's overall score instead (authors' protocol): an item is correct when it is 10.
   * Items whose reply has no overall line are left out and counted in `missing`. Absent for per-constraint judging.
   */
  overall_score_variant?: { if_s: Ratio; if_m: Ratio; overall: Ratio; mean: number | null; missing: number };
}

const FULL = 10;

function ratio(): Ratio {
  return { correct: 0, total: 0, accuracy: null };
}

function tally(r: Ratio, ok: boolean): void {
  r.total++;
  if (ok) r.correct++;
}

function finish(r: Ratio): Ratio {
  r.accuracy = r.total ? r.correct / r.total : null;
  return r;
}

/** Compute the TRACE scores of judged items (pure). */
export function traceScores(judged: Iterable<Judged>, taxonomy: Taxonomy = Taxonomy.builtin()): TraceScores {
  const s: TraceScores = {
    items: 0,
    judged: 0,
    if_s: ratio(),
    if_m: ratio(),
    overall: ratio(),
    constraint_level: ratio(),
    by_dimension: {},
    by_count: {},
    judge_failures: { count: 0, ids: [] },
  };
  const variant = { if_s: ratio(), if_m: ratio(), overall: ratio(), mean: null as number | null, missing: 0 };
  let sum = 0;
  let seenOverall = false;
  for (const { instruction, scores, overall } of judged) {
    s.items++;
    if (scores === null) {
      s.judge_failures.count++;
      s.judge_failures.ids.push(instruction.id);
      continue;
    }
    s.judged++;
    const n = instruction.constraints.length;
    const correct = scores.every((x) => x === FULL);
    if (overall !== undefined) {
      seenOverall = true;
      if (overall === null) variant.missing++;
      else {
        sum += overall;
        tally(variant.overall, overall === FULL);
        tally(n === 1 ? variant.if_s : variant.if_m, overall === FULL);
      }
    }
    tally(s.overall, correct);
    tally(n === 1 ? s.if_s : s.if_m, correct);
    tally((s.by_count[String(n)] ??= ratio()), correct);
    instruction.constraints.forEach((c, i) => {
      const ok = scores[i] === FULL;
      tally(s.constraint_level, ok);
      const key = taxonomy.classify(c); // a dimension of the taxonomy, "unknown" or "untyped"
      tally((s.by_dimension[key] ??= ratio()), ok);
    });
  }
  for (const r of [
    s.if_s,
    s.if_m,
    s.overall,
    s.constraint_level,
    ...Object.values(s.by_dimension),
    ...Object.values(s.by_count),
    variant.if_s,
    variant.if_m,
    variant.overall,
  ]) {
    finish(r);
  }
  if (seenOverall) {
    variant.mean = variant.overall.total ? sum / variant.overall.total : null;
    s.overall_score_variant = variant;
  }
  s.by_count = Object.fromEntries(Object.entries(s.by_count).sort((a, b) => Number(a[0]) - Number(b[0])));
  return s;
}

// ---- printing ----

const pct = (r: Ratio) => (r.accuracy === null ? "   -  " : `${(100 * r.accuracy).toFixed(1).padStart(5)}%`);

/** A readable table: IF-S, IF-M, overall, constraint level, then per count and per dimension. */
export function formatTraceScores(s: TraceScores, title: string): string {
  const rows = [title];
  const line = (k: string, r: Ratio) => rows.push(`  ${k.padEnd(52)} ${pct(r)}  (${r.correct}/${r.total})`);
  line("IF-S (one constraint, every constraint scored 10)", s.if_s);
  line("IF-M (two or more constraints, all scored 10)", s.if_m);
  line("all items", s.overall);
  line("constraint level", s.constraint_level);
  rows.push("", "  by constraint count");
  for (const [k, r] of Object.entries(s.by_count)) line(`    ${k}`, r);
  rows.push("", "  by dimension (constraint level)");
  for (const [k, r] of Object.entries(s.by_dimension).sort((a, b) => b[1].total - a[1].total)) line(`    ${k}`, r);
  const v = s.overall_score_variant;
  if (v) {
    rows.push("", "  overall-score variant (item correct when the judge's overall score is 10)");
    line("  IF-S", v.if_s);
    line("  IF-M", v.if_m);
    rows.push(
      `    mean overall score ${v.mean === null ? "-" : v.mean.toFixed(2)} / 10; replies without it: ${v.missing}`,
    );
  }
  rows.push(
    "",
    `  judge failures: ${s.judge_failures.count}${s.judge_failures.count ? ` (ids ${s.judge_failures.ids.slice(0, 20).join(", ")}${s.judge_failures.count > 20 ? ", …" : ""})` : ""}`,
  );
  return rows.join("\n");
}
