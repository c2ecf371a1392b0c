// `iopo compare`: evaluation runs side by side in the paper's Table 3 layout, the paper's rows for the same base
// model shown for reference; partial and empty runs are flagged (refused with --strict). Wiring only.

import type { Command } from "commander";
import { z } from "zod";
import { DataError } from "../errors.ts";
import { type CompareRow, formatTable3, PAPER_TABLE3, paperBaseOf, paperRows, readRun } from "../evaluate/index.ts";
import { parseOptions } from "./util.ts";

const PAPER_CHOICES = [...Object.keys(PAPER_TABLE3), "auto", "none"] as const;

const CompareFlags = z.object({
  format: z.enum(["md", "csv", "json"], { message: "--format must be md, csv or json" }).default("md"),
  json: z.boolean().default(false),
  paper: z.enum(PAPER_CHOICES, { message: `--paper must be one of ${PAPER_CHOICES.join(", ")}` }).default("auto"),
  strict: z.boolean().default(false),
});

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("runs side by side in the paper's Table 3 layout (IF-S, IF-M, S-Acc, L-Acc, CSR, ISR, PSR)")
    .argument("<dirs...>", "run directories written by iopo eval (trace / ifeval / cfbench / suite)")
    .option("--format <f>", "md (default), csv or json")
    .option("--json", "same as --format json")
    .option(
      "--paper <base>",
      `the paper's rows to show: ${PAPER_CHOICES.join(", ")} (auto: from the runs' model names)`,
    )
    .option("--strict", "refuse (exit 1) when a run is partial, empty or has no completeness marker")
    .addHelpText("after", "\nExample:\n  iopo compare runs/suite-sft runs/suite-dpo runs/suite-iopo --paper Qwen2-7B")
    .action(async (dirs: string[], raw: Record<string, unknown>) => {
      const o = parseOptions(CompareFlags, raw, "compare");
      const runs = await Promise.all(dirs.map(readRun));
      const bad = runs.filter((r) => !r.complete);
      if (o.strict && bad.length)
        throw new DataError("partial or empty runs", {
          expected: "complete runs only (--strict)",
          got: bad.map((r) => `${r.name}: ${r.flags.join("; ")}`).join(" | "),
          hint: "resume the runs (rerun the same iopo eval command, with --retry-failed for failed records), or drop --strict to see them flagged",
        });
      let base: string | undefined;
      if (o.paper === "auto") base = runs.map((r) => (r.model ? paperBaseOf(r.model) : undefined)).find(Boolean);
      else if (o.paper !== "none") base = o.paper;
      const rows: CompareRow[] = [...runs, ...(base ? paperRows(base) : [])];
      const format = o.json ? "json" : o.format;
      if (format === "json") process.stdout.write(`${JSON.stringify({ rows, paper_base: base ?? null })}\n`);
      else process.stdout.write(`${formatTable3(rows, format)}\n`);
      if (bad.length) process.stderr.write(`iopo compare: ${bad.length} run(s) partial or empty (flagged)\n`);
    });
}
