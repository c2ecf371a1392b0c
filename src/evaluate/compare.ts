// Side-by-side comparison of evaluation runs in the paper's Table 3 layout (TRACE IF-S / IF-M, IFEval S-Acc / L-Acc,
// CFBench CSR / ISR / PSR, all in %), with the paper's rows for the same base model shown for reference. Partial and
// empty runs are flagged, never shown as if complete. Reads scores.json / suite.json; prints md, csv or json.

import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { DataError } from "../errors.ts";

// ---- types ----

export const TABLE3_COLUMNS = ["IF-S", "IF-M", "S-Acc", "L-Acc", "CSR", "ISR", "PSR"] as const;
export type Table3Column = (typeof TABLE3_COLUMNS)[number];

export interface CompareRow {
  readonly name: string;
  /** "run": measured here; "paper": the paper's published number, for reference only. */
  readonly source: "run" | "paper";
  /** Percentages; null where the run has no such benchmark, or scored zero items. */
  readonly metrics: Record<Table3Column, number | null>;
  /** True when every benchmark in the run finished every record. */
  readonly complete: boolean;
  /** One note per benchmark that is partial, empty or without a completeness marker, e.g. "TRACE partial 9/12". */
  readonly flags: string[];
  /** Model name recorded in the run (for choosing the paper's rows). */
  readonly model?: string;
  /** Protocol details that decide comparability (TRACE judge protocol, CFBench parser). */
  readonly protocol: Record<string, string>;
}

// ---- the paper's numbers ----

/**
 * The paper's Table 3 (Zhang et al., arXiv:2411.06208), in %. TRACE and IFEval numbers as quoted in this project's
 * sources (../shared/data/trace/JUDGE_PROTOCOL.md and the README); the CFBench columns are not in the project's
 * sources and stay null rather than being guessed.
 */
export const PAPER_TABLE3: Readonly<
  Record<string, readonly { method: string; metrics: Record<Table3Column, number | null> }[]>
> = {
  "Qwen2-7B": [
    {
      method: "SFT",
      metrics: { "IF-S": 76.0, "IF-M": 56.1, "S-Acc": 52.3, "L-Acc": 54.2, CSR: null, ISR: null, PSR: null },
    },
    {
      method: "DPO",
      metrics: { "IF-S": 79.0, "IF-M": 67.2, "S-Acc": 52.7, "L-Acc": 58.2, CSR: null, ISR: null, PSR: null },
    },
    {
      method: "IOPO",
      metrics: { "IF-S": 82.0, "IF-M": 68.9, "S-Acc": 59.9, "L-Acc": 63.6, CSR: null, ISR: null, PSR: null },
    },
  ],
  "Llama3.1-8B": [
    {
      method: "SFT",
      metrics: { "IF-S": 75.5, "IF-M": 62.9, "S-Acc": 71.0, "L-Acc": 74.1, CSR: null, ISR: null, PSR: null },
    },
    {
      method: "DPO",
      metrics: { "IF-S": 79.0, "IF-M": 69.2, "S-Acc": 71.5, "L-Acc": 76.5, CSR: null, ISR: null, PSR: null },
    },
    {
      method: "IOPO",
      metrics: { "IF-S": 81.5, "IF-M": 70.7, "S-Acc": 78.2, "L-Acc": 81.0, CSR: null, ISR: null, PSR: null },
    },
  ],
};

/** The paper's base model a model name refers to, if any ("qwen2-7b-iopo" → "Qwen2-7B"). */
export function paperBaseOf(model: string): string | undefined {
  if (/qwen-?2(?![.\d])/i.test(model)) return "Qwen2-7B";
  if (/llama-?3\.?1/i.test(model)) return "Llama3.1-8B";
  return undefined;
}

/** The paper's rows for a base model, labelled as such. */
export function paperRows(base: string): CompareRow[] {
  return (PAPER_TABLE3[base] ?? []).map((r) => ({
    name: `paper: ${base} ${r.method}`,
    source: "paper",
    metrics: { ...r.metrics },
    complete: true,
    flags: [],
    protocol: {},
  }));
}

// ---- reading runs ----

interface Ratio {
  accuracy: number | null;
}
type Raw = Record<string, unknown>;

async function readJson(path: string, what: string): Promise<Raw | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DataError(`cannot read ${what}`, { path, got: String(err) });
  }
  try {
    return JSON.parse(text) as Raw;
  } catch (err) {
    throw new DataError(`${what} is not JSON`, {
      path,
      got: (err as Error).message,
      hint: "rerun the evaluation to rewrite it",
    });
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(1000 * x) / 10);
const LABEL: Record<string, string> = { trace: "TRACE", ifeval: "IFEval", cfbench: "CFBench" };

/** Fill `row` from one benchmark's scores.json. */
function addBenchmark(
  row: { metrics: Record<Table3Column, number | null>; flags: string[]; protocol: Record<string, string> },
  raw: Raw,
  path: string,
): string | undefined {
  const b = raw.benchmark;
  if (b === "trace") {
    row.metrics["IF-S"] = pct((raw.if_s as Ratio).accuracy);
    row.metrics["IF-M"] = pct((raw.if_m as Ratio).accuracy);
    row.protocol.trace_judge = String(raw.judge_protocol ?? "per-constraint (older run)");
  } else if (b === "ifeval") {
    row.metrics["S-Acc"] = pct((raw.prompt_strict as Ratio).accuracy);
    row.metrics["L-Acc"] = pct((raw.prompt_loose as Ratio).accuracy);
  } else if (b === "cfbench") {
    const all = raw.all as { CSR: number | null; ISR: number | null; PSR: number | null };
    row.metrics.CSR = pct(all.CSR);
    row.metrics.ISR = pct(all.ISR);
    row.metrics.PSR = pct(all.PSR);
    row.protocol.cfbench_parser = String(raw.parser);
  } else
    throw new DataError("unknown benchmark", {
      path,
      field: "benchmark",
      expected: '"trace", "ifeval", "cfbench" (scores.json) or "suite" (suite.json)',
      got: JSON.stringify(b),
    });
  const counts = raw.counts as { total: number; done: number } | undefined;
  const label = LABEL[b]!;
  if (typeof raw.complete !== "boolean" || !counts) row.flags.push(`${label} has no completeness marker (older run)`);
  else if (counts.done === 0) row.flags.push(`${label} EMPTY 0/${counts.total}`);
  else if (!raw.complete) row.flags.push(`${label} partial ${counts.done}/${counts.total}`);
  return typeof raw.model === "string" ? raw.model : undefined;
}

/** Read a run directory: an `eval suite` (suite.json) or one benchmark (scores.json). */
export async function readRun(dir: string): Promise<CompareRow> {
  const row = {
    metrics: Object.fromEntries(TABLE3_COLUMNS.map((c) => [c, null])) as Record<Table3Column, number | null>,
    flags: [] as string[],
    protocol: {} as Record<string, string>,
  };
  let model: string | undefined;
  const suite = await readJson(join(dir, "suite.json"), "the suite's summary");
  const dirs = suite ? Object.values((suite.runs ?? {}) as Record<string, string>).map((d) => join(dir, d)) : [dir];
  if (suite && typeof suite.model === "string") model = suite.model;
  for (const d of dirs) {
    const path = join(d, "scores.json");
    const raw = await readJson(path, "the run's scores");
    if (!raw)
      throw new DataError("no scores.json in the run directory", {
        path,
        expected: "a directory written by iopo eval trace / ifeval / cfbench / suite",
        got: "no such file",
        hint: "give the --out directory of an iopo eval run",
      });
    model = addBenchmark(row, raw, path) ?? model;
  }
  if (suite && suite.complete !== true && row.flags.length === 0)
    row.flags.push("suite stopped before every benchmark ran");
  return { name: basename(dir), source: "run", complete: row.flags.length === 0, ...row, ...(model ? { model } : {}) };
}

// ---- printing ----

const cell = (v: number | null) => (v === null ? "-" : v.toFixed(1));

/** Table 3 as Markdown: a row per run (partial ones marked), then the paper's rows, then notes. */
export function formatTable3(rows: readonly CompareRow[], format: "md" | "csv"): string {
  const name = (r: CompareRow) => (r.source === "run" && !r.complete ? `${r.name} (PARTIAL)` : r.name);
  if (format === "csv") {
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const head = ["name", "source", "complete", ...TABLE3_COLUMNS, "flags"].join(",");
    const body = rows.map((r) =>
      [
        q(r.name),
        r.source,
        String(r.complete),
        ...TABLE3_COLUMNS.map((c) => (r.metrics[c] === null ? "" : cell(r.metrics[c]))),
        q(r.flags.join("; ")),
      ].join(","),
    );
    return [head, ...body].join("\n");
  }
  const out = [
    `| model | ${TABLE3_COLUMNS.join(" | ")} |`,
    `|---|${TABLE3_COLUMNS.map(() => "---:").join("|")}|`,
    ...rows.map((r) => `| ${name(r)} | ${TABLE3_COLUMNS.map((c) => cell(r.metrics[c])).join(" | ")} |`),
  ];
  const notes: string[] = [];
  for (const r of rows.filter((x) => x.flags.length))
    notes.push(`- ${r.name}: ${r.flags.join("; ")} — not comparable as a full run`);
  for (const r of rows.filter((x) => x.source === "run" && Object.keys(x.protocol).length))
    notes.push(
      `- ${r.name}: ${Object.entries(r.protocol)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  if (rows.some((r) => r.source === "paper"))
    notes.push(
      "- rows marked \"paper:\" are the paper's published numbers for reference (7B/8B models, GPT-4o judge), not measured here; its CFBench columns are not in this project's sources (-)",
    );
  notes.push(
    "- TRACE IF-S / IF-M, IFEval S-Acc / L-Acc (prompt-level strict / loose), CFBench CSR / ISR / PSR over all samples, in %; - = not run or zero items",
  );
  return [...out, "", ...notes].join("\n");
}
