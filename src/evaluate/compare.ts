// Side-by-side comparison of evaluation runs (TRACE or IFEval scores.json files, or the demo's results).

import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { DataError } from "../errors.ts";

interface Ratio {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface RunScores {
  readonly name: string;
  readonly benchmark: "trace" | "ifeval";
  /** Metric name → accuracy (0–1) or null. */
  readonly metrics: Record<string, number | null>;
}

const TRACE_MAIN = {
  "IF-S": "if_s",
  "IF-M": "if_m",
  overall: "overall",
  "constraint level": "constraint_level",
} as const;
const IFEVAL_MAIN = {
  "prompt strict (S-Acc)": "prompt_strict",
  "instruction strict": "instruction_strict",
  "prompt loose (L-Acc)": "prompt_loose",
  "instruction loose": "instruction_loose",
} as const;

/** Read `<dir>/scores.json` of an `iopo eval` run into comparable metrics. */
export async function readRunScores(dir: string): Promise<RunScores> {
  const path = join(dir, "scores.json");
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new DataError("cannot read the run's scores", {
      path,
      expected: "scores.json written by iopo eval",
      got: String(err),
    });
  }
  const benchmark = raw.benchmark;
  if (benchmark !== "trace" && benchmark !== "ifeval") {
    throw new DataError("unknown benchmark", {
      path,
      field: "benchmark",
      expected: '"trace" or "ifeval"',
      got: JSON.stringify(benchmark),
    });
  }
  const main = benchmark === "trace" ? TRACE_MAIN : IFEVAL_MAIN;
  const metrics: Record<string, number | null> = {};
  for (const [label, key] of Object.entries(main)) metrics[label] = (raw[key] as Ratio | undefined)?.accuracy ?? null;
  const detail = (benchmark === "trace" ? raw.by_dimension : raw.per_instruction) as
    | Record<string, unknown>
    | undefined;
  for (const [k, v] of Object.entries(detail ?? {})) {
    const r = (benchmark === "trace" ? v : (v as { strict: Ratio }).strict) as Ratio;
    metrics[`  ${k}`] = r.accuracy;
  }
  return { name: basename(dir), benchmark, metrics };
}

/** A table with one column per run; rows are the union of the runs' metrics. */
export function formatComparison(runs: readonly RunScores[]): string {
  const rows = new Map<string, (number | null)[]>();
  runs.forEach((r, i) => {
    for (const [k, v] of Object.entries(r.metrics)) {
      if (!rows.has(k))
        rows.set(
          k,
          runs.map(() => null),
        );
      rows.get(k)![i] = v;
    }
  });
  const width = Math.max(8, ...runs.map((r) => r.name.length));
  const label = Math.max(20, ...[...rows.keys()].map((k) => k.length));
  const cell = (v: number | null) => (v === null ? "-" : `${(100 * v).toFixed(1)}`).padStart(width);
  const out = [`${"".padEnd(label)}  ${runs.map((r) => r.name.padStart(width)).join("  ")}`];
  for (const [k, vs] of rows) out.push(`${k.padEnd(label)}  ${vs.map(cell).join("  ")}`);
  return out.join("\n");
}
