// `iopo eval cfbench` (generate, judge every checklist item, score) and `iopo cfbench score` (re-score judged records,
// upstream's `<model>_eval.json` layout, one per line): per `infer_model` CSR / ISR / PSR over easy, hard and all,
// breakdowns, and which samples the fallback fix changes. Wiring only; the work is in src/evaluate/cfbench.

import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { cfbench } from "../evaluate/index.ts";
import { readJsonl, writeFileAtomic, writeJsonlAtomic } from "../io/index.ts";
import { addJudgedOptions, backendsOf, Common, evalRun, int, partialNotice, progressFor } from "./eval-frame.ts";
import { parseOptions } from "./util.ts";

/** The first `limit` records of cfbench_data.jsonl. */
export async function loadCfbench(path: string, limit?: number): Promise<cfbench.CfbenchRecord[]> {
  const records: cfbench.CfbenchRecord[] = [];
  for await (const r of readJsonl(path, cfbench.CfbenchRecordSchema, {
    hint: "CFBench lines are {idx, prompt, isanswer, gold, doamin, scenario, source, split, criteria} (cfbench_data.jsonl)",
  })) {
    records.push(r.value);
    if (limit && records.length >= limit) break;
  }
  return records;
}

/** The run's scores as text (a PARTIAL line first when incomplete). */
export function formatCfbenchRun(s: cfbench.CfbenchRunScores): string {
  const table = cfbench.formatCfbenchScores(
    { parser: s.parser, models: { [s.model]: s }, fix_changes: s.fix_changes },
    { breakdowns: true },
  );
  const gen = s.generation_failures.count
    ? `\ngeneration failures: ${s.generation_failures.count} (idx ${s.generation_failures.ids.join(", ")})`
    : "";
  return `${partialNotice(s)}${table}${gen}`;
}

export const CfbenchEvalFlags = {
  upstreamParser: z.boolean().default(false),
  judgeRounds: int("judge-rounds", 1).default(cfbench.JUDGE_ROUNDS),
  judgeMaxTokens: int("judge-max-tokens", 1).optional(),
  judgeConcurrency: int("judge-concurrency", 1).optional(),
};

export function registerEvalCfbench(parent: Command): void {
  const c = parent
    .command("cfbench")
    .description("CFBench: generate, have an LLM judge score every checklist item 0/1, report CSR / ISR / PSR")
    .requiredOption("--data <file>", "the CFBench set (cfbench_data.jsonl)")
    .option("--upstream-parser", "read unparsable judge replies exactly as upstream does (drops every 0 score)")
    .option("--judge-rounds <n>", "ask the judge again while its reply does not parse strictly (default 10)")
    .option("--judge-max-tokens <n>", "maximum tokens per judge reply");
  addJudgedOptions(c);
  c.addHelpText(
    "after",
    "\nExample:\n  iopo eval cfbench --data cfbench_data.jsonl --base-url http://localhost:8000/v1 --model qwen2-7b-iopo \\\n" +
      "    --judge-base-url https://api.openai.com/v1 --judge-model gpt-4o --judge-api-key-env OPENAI_API_KEY --out runs/cfbench-iopo",
  );
  c.action(async (raw: Record<string, unknown>) => {
    const o = parseOptions(Common.extend({ data: z.string(), ...CfbenchEvalFlags }), raw, "eval cfbench");
    const records = await loadCfbench(o.data, o.limit);
    await evalRun("eval cfbench", o, backendsOf(raw, o, true), async ([modelEngine, judgeEngine]) => {
      const result = await cfbench.runCfbenchEval({
        records,
        model: modelEngine!,
        judge: judgeEngine!,
        outDir: o.out,
        parser: o.upstreamParser ? "upstream" : "fixed",
        rounds: o.judgeRounds,
        system: o.system,
        temperature: o.temperature,
        maxTokens: o.maxTokens,
        judgeMaxTokens: o.judgeMaxTokens,
        stripThinking: o.stripThinking,
        onProgress: progressFor("cfbench"),
      });
      if (o.json) process.stdout.write(`${JSON.stringify(result.scores)}\n`);
      else process.stdout.write(`${formatCfbenchRun(result.scores)}\n`);
      return { stopped: result.stopped, statuses: [result.scores] };
    });
  });
}

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
