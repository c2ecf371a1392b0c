// `iopo eval trace`, `iopo eval ifeval` (and, from their own files, `eval cfbench` and `eval suite`): run a benchmark
// against a model (endpoint, GGUF or model dir). Wiring only; the jobs are in src/evaluate, the frame in eval-frame.ts.

import type { Command } from "commander";
import { z } from "zod";
import { readTaxonomy } from "../construct/index.ts";
import { ifeval, trace } from "../evaluate/index.ts";
import { addBackendOptions } from "./backend.ts";
import { registerEvalCfbench } from "./cfbench.ts";
import {
  addCommonOptions,
  addJudgedOptions,
  backendsOf,
  Common,
  evalRun,
  formatIfevalRun,
  int,
  JudgeProtocolFlag,
  loadIfeval,
  loadTrace,
  partialNotice,
  progressFor,
  real,
} from "./eval-frame.ts";
import { registerEvalSuite } from "./eval-suite.ts";
import { parseOptions } from "./util.ts";

export { registerCompare } from "./compare.ts";

// ---- commands ----

function registerEvalTrace(parent: Command): void {
  const c = parent
    .command("trace")
    .description("TRACE: generate, judge every constraint 0–10 with an LLM judge, score IF-S / IF-M")
    .requiredOption("--data <file>", "the TRACE evaluation set (trace_eval.jsonl)")
    .option(
      "--judge-protocol <name>",
      "authors (default: the authors' judge prompt and reply format, comparable with the paper) or per-constraint",
    )
    .option("--judge-temperature <t>", "the judge's temperature (default 0)")
    .option("--judge-max-tokens <n>", "maximum tokens per judge reply")
    .option(
      "--taxonomy <file>",
      "a taxonomy.json for the per-dimension breakdown (default: the 26 built-in dimensions)",
    );
  addJudgedOptions(c);
  c.addHelpText(
    "after",
    "\nExample:\n  iopo eval trace --data trace_eval.jsonl --base-url http://localhost:8000/v1 --model qwen2-7b-iopo \\\n" +
      "    --judge-base-url https://api.openai.com/v1 --judge-model gpt-4o --judge-api-key-env OPENAI_API_KEY --out runs/trace-iopo",
  );
  c.action(async (raw: Record<string, unknown>) => {
    const o = parseOptions(
      Common.extend({
        data: z.string(),
        judgeProtocol: JudgeProtocolFlag.default("authors"),
        judgeTemperature: real("judge-temperature", 0, 2).default(0),
        judgeMaxTokens: int("judge-max-tokens", 1).optional(),
        judgeConcurrency: int("judge-concurrency", 1).optional(),
        taxonomy: z.string().optional(),
      }),
      raw,
      "eval trace",
    );
    const taxonomy = o.taxonomy ? (await readTaxonomy(o.taxonomy)).taxonomy : undefined;
    const items = await loadTrace(o.data, o.limit);
    await evalRun("eval trace", o, backendsOf(raw, o, true), async ([modelEngine, judgeEngine]) => {
      const result = await trace.runTraceEval({
        items,
        model: modelEngine!,
        judge: judgeEngine!,
        outDir: o.out,
        protocol: o.judgeProtocol,
        ...(taxonomy ? { taxonomy } : {}),
        system: o.system,
        temperature: o.temperature,
        maxTokens: o.maxTokens,
        judgeTemperature: o.judgeTemperature,
        judgeMaxTokens: o.judgeMaxTokens,
        stripThinking: o.stripThinking,
        onProgress: progressFor("trace"),
      });
      const s = result.scores;
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else
        process.stdout.write(
          `${partialNotice(s)}${trace.formatTraceScores(s, `TRACE — ${items.length} items, ${s.judge_protocol} judge (${o.out})`)}\n`,
        );
      const failed = s.generation_failures.count;
      if (failed) process.stderr.write(`iopo eval trace: ${failed} item(s) got no response (see responses.jsonl)\n`);
      return { stopped: result.stopped, statuses: [s] };
    });
  });
}

function registerEvalIfeval(parent: Command): void {
  const c = parent
    .command("ifeval")
    .description("IFEval: generate responses for the prompts and score them with the 25 rule checkers")
    .requiredOption("--input <file>", "IFEval prompts (input_data.jsonl)");
  addBackendOptions(c, "", "the model under test");
  addCommonOptions(c);
  c.addHelpText(
    "after",
    "\nExample:\n  iopo eval ifeval --input input_data.jsonl --base-url http://localhost:11434/v1 --model llama3.1:8b --out runs/ifeval",
  );
  c.action(async (raw: Record<string, unknown>) => {
    const o = parseOptions(Common.extend({ input: z.string() }), raw, "eval ifeval");
    const inputs = await loadIfeval(o.input, o.limit);
    await evalRun("eval ifeval", o, backendsOf(raw, o, false), async ([engine]) => {
      const result = await ifeval.runIfevalEval({
        inputs,
        model: engine!,
        outDir: o.out,
        system: o.system,
        temperature: o.temperature,
        maxTokens: o.maxTokens,
        stripThinking: o.stripThinking,
        onProgress: (done, total) => progressFor("ifeval")("generate", done, total),
      });
      const s = result.summary;
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else process.stdout.write(`${formatIfevalRun(s, `IFEval — ${inputs.length} prompts (${o.out})`)}\n`);
      if (s.generation_failures.count)
        process.stderr.write(`iopo eval ifeval: ${s.generation_failures.count} prompt(s) got no response\n`);
      return { stopped: result.stopped, statuses: [s] };
    });
  });
}

export function registerEval(program: Command): void {
  const parent = program
    .command("eval")
    .description("run a benchmark (TRACE, IFEval, CFBench, or all three with `suite`) against a model");
  registerEvalTrace(parent);
  registerEvalIfeval(parent);
  registerEvalCfbench(parent);
  registerEvalSuite(parent);
}
