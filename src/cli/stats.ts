// `iopo stats <file>`: counts and distributions of a data file (TRACE, groups, SFT, pairs, …), as a table or JSON.

import type { Command } from "commander";
import { z } from "zod";
import { readTaxonomy } from "../construct/index.ts";
import { detectFormat, FORMAT_NAMES, getFormat, type Skipped } from "../io/index.ts";
import { formatStats, StatsAccumulator } from "../report/index.ts";
import { parseOptions, reportSkipped, SKIP_HINT } from "./util.ts";

const OptionsSchema = z.strictObject({
  from: z.string().optional(),
  json: z.boolean().default(false),
  skipInvalid: z.boolean().default(false),
  taxonomy: z.string().min(1).optional(),
});

export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("statistics of a data file: items, constraints, distribution by count, dimension and category")
    .argument("<file>", "a TRACE, groups, SFT, pairs, instructions, LLaMA-Factory or TRL file")
    .option("--from <format>", `the file's format (${FORMAT_NAMES.join(", ")}); guessed when omitted`)
    .option("--json", "print one JSON object instead of a table")
    .option("--skip-invalid", "skip invalid lines (reported) instead of stopping")
    .option("--taxonomy <file.json>", "count by this taxonomy's dimensions instead of the built-in 26")
    .addHelpText("after", "\nExample:\n  iopo stats trace_eval.jsonl --json")
    .action(async (file: string, raw: Record<string, unknown>) => {
      const opts = parseOptions(OptionsSchema, raw, "stats");
      const format = getFormat(opts.from ?? (await detectFormat(file)));
      const skipped: Skipped[] = [];
      const acc = new StatsAccumulator(opts.taxonomy ? (await readTaxonomy(opts.taxonomy)).taxonomy : undefined);
      for await (const item of format.read(file, { skipInvalid: opts.skipInvalid, skipped, hint: SKIP_HINT }))
        acc.addItem(item);
      const stats = acc.result();
      if (opts.json) process.stdout.write(`${JSON.stringify({ file, ...stats, skipped: skipped.length })}\n`);
      else process.stdout.write(`${formatStats(stats, file)}\n`);
      reportSkipped(file, skipped);
    });
}
