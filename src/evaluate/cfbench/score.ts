// Scoring judged CFBench records: read every judge reply with the chosen parser (and with the other one, to report
// what the fallback fix changes), compute per-sample CSR / ISR / PSR, and aggregate per `infer_model` over easy,
// hard and all, with breakdowns. Pure over in-memory records; reading files is the CLI's job.

import {
  type Breakdowns,
  breakdowns,
  modelScores,
  type ScoredSample,
  type SplitScores,
  sampleMetric,
} from "./metrics.ts";
import { type JudgeRead, type ParserKind, readJudgeReply } from "./parse.ts";
import type { Criterion, JudgedRecord, SampleMetric } from "./schema.ts";

// ---- types ----

/** What scoring needs of a judged record. */
export type ScorableRecord = Pick<
  JudgedRecord,
  "idx" | "split" | "source" | "criteria" | "infer_model" | "judge_response"
>;

export interface SampleVerdict {
  readonly infer_model: string;
  readonly idx: number;
  readonly split: string;
  /** Null when the reply yields no verdict (a judge failure, left out of every mean). */
  readonly judge_score: readonly string[] | null;
  readonly judge_parsing: "1" | "0" | "-1" | null;
  readonly judge_metric: SampleMetric | null;
  /** Why there is no verdict. */
  readonly failure?: string;
}

export interface ModelResult {
  readonly samples: number;
  readonly easy: SplitScores;
  readonly hard: SplitScores;
  readonly all: SplitScores;
  readonly parsing: { strict: number; fallback: number; none: number };
  readonly judge_failures: { count: number; ids: number[] };
  readonly breakdowns: Breakdowns;
}

export interface CfbenchScores {
  readonly parser: ParserKind;
  readonly models: Record<string, ModelResult>;
  /** Samples whose verdict differs between the fixed and the upstream parser, as "model:idx". */
  readonly fix_changes: { count: number; ids: string[] };
}

// ---- helpers ----

/**
 * The verdict of one reply under a parser. With `fixed`, a reply from which nothing can be read is a judge failure
 * (upstream scores it as a sample that met nothing); with `upstream`, a non-numeric fallback score is one (upstream's
 * script stops there).
 */
export function verdictOf(
  reply: string,
  criteria: readonly Criterion[],
  kind: ParserKind,
): { read: JudgeRead; metric: SampleMetric | null; failure?: string } {
  const read = readJudgeReply(
    reply,
    criteria.map((c) => c[0]),
    kind,
  );
  if (read.parsing === "error") return { read, metric: null, failure: read.reason };
  if (read.parsing === "-1" && kind === "fixed") return { read, metric: null, failure: read.reason };
  return { read, metric: sampleMetric(read, criteria) };
}

const same = (a: ReturnType<typeof verdictOf>, b: ReturnType<typeof verdictOf>) =>
  JSON.stringify([a.read, a.metric]) === JSON.stringify([b.read, b.metric]);

// ---- exports ----

/** Per-sample verdicts and per-model scores of judged records under `kind`. */
export function scoreJudged(
  records: readonly ScorableRecord[],
  kind: ParserKind,
): { verdicts: SampleVerdict[]; scores: CfbenchScores } {
  const verdicts: SampleVerdict[] = [];
  const scored = new Map<string, (ScoredSample & { idx: number })[]>();
  const failures = new Map<string, number[]>();
  const changes: string[] = [];
  for (const r of records) {
    const v = verdictOf(r.judge_response, r.criteria, kind);
    const other = verdictOf(r.judge_response, r.criteria, kind === "fixed" ? "upstream" : "fixed");
    if (!same(v, other)) changes.push(`${r.infer_model}:${r.idx}`);
    if (!scored.has(r.infer_model)) scored.set(r.infer_model, []);
    if (!failures.has(r.infer_model)) failures.set(r.infer_model, []);
    if (v.metric === null || v.read.parsing === "error") {
      verdicts.push({
        infer_model: r.infer_model,
        idx: r.idx,
        split: r.split,
        judge_score: null,
        judge_parsing: null,
        judge_metric: null,
        failure: v.failure,
      });
      failures.get(r.infer_model)!.push(r.idx);
      continue;
    }
    verdicts.push({
      infer_model: r.infer_model,
      idx: r.idx,
      split: r.split,
      judge_score: v.read.scores,
      judge_parsing: v.read.parsing,
      judge_metric: v.metric,
    });
    scored
      .get(r.infer_model)!
      .push({ idx: r.idx, split: r.split, source: r.source, criteria: r.criteria, read: v.read, metric: v.metric });
  }
  const models: Record<string, ModelResult> = {};
  for (const [model, samples] of scored) {
    const failed = failures.get(model)!;
    models[model] = {
      samples: samples.length + failed.length,
      ...modelScores(samples),
      parsing: {
        strict: samples.filter((x) => x.read.parsing === "1").length,
        fallback: samples.filter((x) => x.read.parsing === "0").length,
        none: samples.filter((x) => x.read.parsing === "-1").length,
      },
      judge_failures: { count: failed.length, ids: failed },
      breakdowns: breakdowns(samples),
    };
  }
  return { verdicts, scores: { parser: kind, models, fix_changes: { count: changes.length, ids: changes } } };
}

// ---- printing ----

const pct = (v: number | null) => (v === null ? "-" : (100 * v).toFixed(1)).padStart(6);

/** A readable table per model: easy / hard / all CSR ISR PSR (percent), parsing counts, then the breakdowns. */
export function formatCfbenchScores(s: CfbenchScores, options: { breakdowns?: boolean } = {}): string {
  const out: string[] = [
    `CFBench (${s.parser === "fixed" ? "fixed fallback parser" : "upstream parser, as published"})`,
  ];
  for (const [model, m] of Object.entries(s.models)) {
    out.push(
      "",
      `${model} — ${m.samples} sample(s)`,
      `  ${"".padEnd(10)} ${"n".padStart(5)} ${["CSR", "ISR", "PSR"].map((k) => k.padStart(6)).join(" ")}`,
    );
    for (const split of ["easy", "hard", "all"] as const) {
      const r = m[split];
      out.push(`  ${split.padEnd(10)} ${String(r.n).padStart(5)} ${pct(r.CSR)} ${pct(r.ISR)} ${pct(r.PSR)}`);
    }
    out.push(
      `  judge replies: ${m.parsing.strict} strict, ${m.parsing.fallback} fallback, ${m.parsing.none} unreadable; ` +
        `judge failures: ${m.judge_failures.count}${m.judge_failures.count ? ` (idx ${m.judge_failures.ids.join(", ")})` : ""}`,
    );
    if (!options.breakdowns) continue;
    for (const [title, table] of [
      ["by source", m.breakdowns.by_source],
      ["by split", m.breakdowns.by_split],
    ] as const) {
      out.push(`  ${title}`);
      for (const [k, r] of Object.entries(table))
        out.push(`    ${k.padEnd(24)} ${String(r.n).padStart(5)} ${pct(r.CSR)} ${pct(r.ISR)} ${pct(r.PSR)}`);
    }
    for (const [title, table] of [
      ["items met by priority", m.breakdowns.by_priority],
      ["items met by constraint type", m.breakdowns.by_type],
      ["items met by type/subtype", m.breakdowns.by_subtype],
    ] as const) {
      out.push(`  ${title} (strictly parsed replies)`);
      for (const [k, r] of Object.entries(table)) out.push(`    ${k.padEnd(30)} ${pct(r.rate)}  (${r.met}/${r.total})`);
    }
  }
  out.push(
    "",
    `fallback fix: ${s.fix_changes.count} sample(s) scored differently by the fixed and the upstream parser` +
      (s.fix_changes.count ? `: ${s.fix_changes.ids.join(", ")}` : ""),
  );
  return out.join("\n");
}
