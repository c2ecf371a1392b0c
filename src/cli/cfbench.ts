// `iopo cfbench score`: re-score judged CFBench records (upstream's `<model>_eval.json` layout, one per line): per
// `infer_model` CSR / ISR / PSR over easy, hard and all, breakdowns, and which samples the fallback fix changes.
// Wiring only; the scoring is src/evaluate/cfbench.

import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { cfbench } from "../evaluate/index.ts";
import { readJsonl, writeFileAtomic, writeJsonlAtomic } from "../io/index.ts";
import { parseOptions } from "./util.ts";

const ScoreFlags = z.object({
  judgements: z.string(),
  upstreamParser: z.boolean().default(false),
  json: z.boolean().default(false),
  breakdowns: z.boolean().default(false),
  out: z.string().optional(),
});

export function registerCfbench(program: Command): void {
  const parent = program.command("cfbench").description("CFBench: re-score judge replies (CSR, ISR, PSR)");
  parent
    .command("score")
    .description("score judged records; prints CSR / ISR / PSR per model over easy, hard and all")
    .requiredOption("--judgements <file>", "judged records, one JSON object per line (upstream's judge output layout)")
    .option("--upstream-parser", "read replies exactly as upstream does (its fallback drops every 0 score)")
    .option("--breakdowns", "also print the breakdowns by source, split, priority, constraint type and subtype")
    .option("--json", "print one JSON object {parser, models: {<infer_model>: {easy, hard, all, …}}, fix_changes}")
    .option("--out <dir>", "write samples.jsonl (per-sample verdicts) and scores.json there")
    .addHelpText(
      "after",
      "\nExample:\n  iopo cfbench score --judgements runs/cfbench/judgements.jsonl --upstream-parser --json",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(ScoreFlags, raw, "cfbench score");
      const records: cfbench.JudgedRecord[] = [];
      for await (const r of readJsonl(o.judgements, cfbench.JudgedRecordSchema, {
        hint: "a judged record is a cfbench_data record plus response, infer_model and judge_response (`iopo eval cfbench` writes judgements.jsonl)",
      }))
        records.push(r.value);
      const { verdicts, scores } = cfbench.scoreJudged(records, o.upstreamParser ? "upstream" : "fixed");
      if (o.out) {
        await writeJsonlAtomic(join(o.out, "samples.jsonl"), verdicts);
        await writeFileAtomic(
          join(o.out, "scores.json"),
          `${JSON.stringify({ benchmark: "cfbench-rescore", ...scores }, null, 2)}\n`,
        );
      }
      if (o.json) process.stdout.write(`${JSON.stringify(scores)}\n`);
      else process.stdout.write(`${cfbench.formatCfbenchScores(scores, { breakdowns: o.breakdowns })}\n`);
    });
}
