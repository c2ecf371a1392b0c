// `iopo convert <in> --from <fmt> --to <fmt> --out <path>`: convert between the data formats, atomically. Paths
// are checked before reading (an --out that is a directory fails at once, not after the whole input is read).

import type { Command } from "commander";
import { z } from "zod";
import {
  checkInputFile,
  checkOutputFile,
  convert,
  detectFormat,
  FORMAT_NAMES,
  type FormatName,
  getFormat,
  type Skipped,
} from "../io/index.ts";
import { parseOptions, reportSkipped, SKIP_HINT } from "./util.ts";

const OptionsSchema = z.strictObject({
  from: z.string().optional(),
  to: z.string().min(1),
  out: z.string().min(1),
  skipInvalid: z.boolean().default(false),
});

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description("convert a data file between formats (trace, llamafactory, trl, groups, pairs, sft, instructions)")
    .argument("<in>", "input file")
    .option("--from <format>", `input format (${FORMAT_NAMES.join(", ")}); guessed when omitted`)
    .requiredOption("--to <format>", `output format (${FORMAT_NAMES.join(", ")})`)
    .requiredOption("--out <path>", "output file (written atomically)")
    .option("--skip-invalid", "skip invalid lines (reported) instead of stopping")
    .addHelpText(
      "after",
      "\nExamples:\n  iopo convert iopo_train_example.json --from llamafactory --to groups --out groups.jsonl\n" +
        "  iopo convert groups.jsonl --from groups --to llamafactory --out data/trace.json",
    )
    .action(async (input: string, raw: Record<string, unknown>) => {
      const o = parseOptions(OptionsSchema, raw, "convert");
      if (o.from) getFormat(o.from);
      getFormat(o.to);
      checkInputFile(input, "<in>");
      checkOutputFile(o.out, "--out");
      const from = (o.from ?? (await detectFormat(input))) as FormatName;
      const skipped: Skipped[] = [];
      const result = await convert(input, from, o.to as FormatName, o.out, {
        skipInvalid: o.skipInvalid,
        skipped,
        hint: SKIP_HINT,
      });
      const extra = result.extra.length ? ` (also updated ${result.extra.join(", ")})` : "";
      process.stderr.write(`wrote ${result.written} record(s) to ${o.out} as ${o.to}${extra}\n`);
      reportSkipped(input, skipped);
    });
}
