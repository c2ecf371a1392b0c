// `iopo eval suite`: the paper's three benchmarks (TRACE, IFEval, CFBench) against one model in one command, with one
// request engine per back end and one cache for all (so an interrupted suite resumes where it stopped). Each
// benchmark writes its usual files into <out>/<benchmark>/; <out>/suite.json lists them. Wiring only.

import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { cfbench, ifeval, trace } from "../evaluate/index.ts";
import { writeFileAtomic } from "../io/index.ts";
import { CfbenchEvalFlags, formatCfbenchRun, loadCfbench } from "./cfbench.ts";
import {
  addJudgedOptions,
  backendsOf,
  Common,
  evalRun,
  formatIfevalRun,
  JudgeProtocolFlag,
  loadIfeval,
  loadTrace,
  partialNotice,
  progressFor,
  type RunStatus,
  real,
} from "./eval-frame.ts";
import { parseOptions } from "./util.ts";

const SuiteFlags = Common.extend({
  trace: z.string().optional(),
  ifeval: z.string().optional(),
  cfbench: z.string().optional(),
  judgeProtocol: JudgeProtocolFlag.default("authors"),
  judgeTemperature: real("judge-temperature", 0, 2).default(0),
  ...CfbenchEvalFlags,
});

export function registerEvalSuite(parent: Command): void {
  const c = parent
    .command("suite")
    .description("TRACE, IFEval and CFBench against one model (the paper's Table 3), resumable, one cache")
    .option("--trace <file>", "the TRACE evaluation set (trace_eval.jsonl)")
    .option("--ifeval <file>", "IFEval prompts (input_data.jsonl)")
    .option("--cfbench <file>", "the CFBench set (cfbench_data.jsonl)")
    .option("--judge-protocol <name>", "TRACE judge: authors (default) or per-constraint")
    .option("--judge-temperature <t>", "the TRACE judge's temperature (default 0; CFBench's judge uses 0.01)")
    .option("--upstream-parser", "CFBench: read unparsable judge replies exactly as upstream does")
    .option("--judge-rounds <n>", "CFBench: judge rounds while a reply does not parse strictly (default 10)")
    .option("--judge-max-tokens <n>", "maximum tokens per judge reply");
  addJudgedOptions(c, "the judge (TRACE and CFBench)");
  c.addHelpText(
    "after",
    "\nExample:\n  iopo eval suite --base-url http://localhost:8000/v1 --model qwen2-7b-iopo \\\n" +
      "    --judge-base-url https://api.openai.com/v1 --judge-model gpt-4o --judge-api-key-env OPENAI_API_KEY \\\n" +
      "    --trace trace_eval.jsonl --ifeval input_data.jsonl --cfbench cfbench_data.jsonl --out runs/suite-iopo\n" +
      "  iopo compare runs/suite-sft runs/suite-dpo runs/suite-iopo",
  );
  c.action(async (raw: Record<string, unknown>) => {
    const o = parseOptions(SuiteFlags, raw, "eval suite");
    if (!o.trace && !o.ifeval && !o.cfbench)
      throw new ConfigError("eval suite needs at least one benchmark", {
        expected: "--trace <file>, --ifeval <file> and/or --cfbench <file>",
        got: "none",
        hint: "see `iopo eval suite --help`",
      });
    // Load every data file first, so a bad file fails before any request is sent.
    const items = o.trace ? await loadTrace(o.trace, o.limit) : undefined;
    const inputs = o.ifeval ? await loadIfeval(o.ifeval, o.limit) : undefined;
    const records = o.cfbench ? await loadCfbench(o.cfbench, o.limit) : undefined;
    await evalRun("eval suite", o, backendsOf(raw, o, Boolean(items || records)), async ([model, judge]) => {
      const statuses: RunStatus[] = [];
      const runs: Record<string, string> = {};
      const json: Record<string, unknown> = {};
      const common = {
        system: o.system,
        temperature: o.temperature,
        maxTokens: o.maxTokens,
        stripThinking: o.stripThinking,
      };
      let stopped = false;
      if (items && !stopped) {
        const r = await trace.runTraceEval({
          ...common,
          items,
          model: model!,
          judge: judge!,
          outDir: join(o.out, "trace"),
          protocol: o.judgeProtocol,
          judgeTemperature: o.judgeTemperature,
          judgeMaxTokens: o.judgeMaxTokens,
          onProgress: progressFor("trace"),
        });
        stopped = r.stopped;
        statuses.push(r.scores);
        runs.trace = "trace";
        json.trace = r.scores;
        if (!o.json)
          process.stdout.write(
            `${partialNotice(r.scores)}${trace.formatTraceScores(r.scores, `TRACE — ${items.length} items, ${r.scores.judge_protocol} judge`)}\n\n`,
          );
      }
      if (inputs && !stopped) {
        const r = await ifeval.runIfevalEval({
          ...common,
          inputs,
          model: model!,
          outDir: join(o.out, "ifeval"),
          onProgress: (done, total) => progressFor("ifeval")("generate", done, total),
        });
        stopped = r.stopped;
        statuses.push(r.summary);
        runs.ifeval = "ifeval";
        json.ifeval = r.summary;
        if (!o.json) process.stdout.write(`${formatIfevalRun(r.summary, `IFEval — ${inputs.length} prompts`)}\n\n`);
      }
      if (records && !stopped) {
        const r = await cfbench.runCfbenchEval({
          ...common,
          records,
          model: model!,
          judge: judge!,
          outDir: join(o.out, "cfbench"),
          parser: o.upstreamParser ? "upstream" : "fixed",
          rounds: o.judgeRounds,
          judgeMaxTokens: o.judgeMaxTokens,
          onProgress: progressFor("cfbench"),
        });
        stopped = r.stopped;
        statuses.push(r.scores);
        runs.cfbench = "cfbench";
        json.cfbench = r.scores;
        if (!o.json) process.stdout.write(`${formatCfbenchRun(r.scores)}\n`);
      }
      const complete = !stopped && statuses.every((s) => s.complete) && Object.keys(runs).length === backendsWanted(o);
      await writeFileAtomic(
        join(o.out, "suite.json"),
        `${JSON.stringify({ benchmark: "suite", model: model!.model, judge: judge?.model ?? null, complete, runs }, null, 2)}\n`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify({ complete, ...json })}\n`);
      return { stopped, statuses };
    });
  });
}

const backendsWanted = (o: { trace?: string; ifeval?: string; cfbench?: string }) =>
  [o.trace, o.ifeval, o.cfbench].filter(Boolean).length;
