// `iopo convert <in> --from <fmt> --to <fmt> --out <path>`: convert between the data formats, atomically.

import type { Command } from "commander";
import { convert, detectFormat, FORMAT_NAMES, type FormatName, getFormat, type Skipped } from "../io/index.ts";
import { reportSkipped, SKIP_HINT } from "./util.ts";

interface ConvertOptions {
  from?: string;
  to: string;
  out: string;
  skipInvalid?: boolean;
}

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
    .action(async (input: string, opts: ConvertOptions) => {
      const from = (opts.from ?? (await detectFormat(input))) as FormatName;
      getFormat(from);
      getFormat(opts.to);
      const skipped: Skipped[] = [];
      const result = await convert(input, from, opts.to as FormatName, opts.out, {
        skipInvalid: opts.skipInvalid,
        skipped,
        hint: SKIP_HINT,
      });
      const extra = result.extra.length ? ` (also updated ${result.extra.join(", ")})` : "";
      process.stderr.write(`wrote ${result.written} record(s) to ${opts.out} as ${opts.to}${extra}\n`);
      reportSkipped(input, skipped);
    });
}
