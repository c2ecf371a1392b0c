// `iopo eval trace` and `iopo eval ifeval`: run a benchmark against a model (endpoint, GGUF or model dir), and
// `iopo compare`: runs side by side. Wiring only; the jobs are in src/evaluate.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { formatComparison, ifeval, readRunScores, trace } from "../evaluate/index.ts";
import { FORMATS, readJsonl } from "../io/index.ts";
import { type ChatProvider, createProgress, type Progress, type RequestEngine, ResponseCache } from "../llm/index.ts";
import type { Instruction } from "../schema/index.ts";
import {
  addBackendOptions,
  type BackendFlags,
  backendFlags,
  engineFor,
  onStopSignals,
  openProviders,
  resumeCommand,
} from "./backend.ts";
import { parseOptions } from "./util.ts";

// ---- helpers ----

const int = (name: string, min: number) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .int(`--${name} must be a whole number`)
    .min(min, `--${name} must be ≥ ${min}`);
const real = (name: string, min: number, max: number) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .min(min)
    .max(max, `--${name} must be ≤ ${max}`);

const Common = z.object({
  out: z.string(),
  limit: int("limit", 1).optional(),
  concurrency: int("concurrency", 1).default(8),
  timeoutMs: int("timeout-ms", 1).optional(),
  maxAttempts: int("max-attempts", 1).default(5),
  maxTokens: int("max-tokens", 1).optional(),
  temperature: real("temperature", 0, 2).optional(),
  system: z.string().optional(),
  stripThinking: z.boolean().default(false),
  json: z.boolean().default(false),
});

function addCommonOptions(c: Command): Command {
  return c
    .requiredOption("--out <dir>", "run directory: responses, judgments/verdicts, scores.json, cache.sqlite")
    .option("--limit <n>", "evaluate only the first n items")
    .option("--concurrency <n>", "requests in flight per endpoint (default 8; 1 for local models)")
    .option("--timeout-ms <n>", "per-request timeout in ms")
    .option("--max-attempts <n>", "attempts per request before it is recorded as failed (default 5)")
    .option("--max-tokens <n>", "maximum tokens per response")
    .option("--temperature <t>", "the model's sampling temperature")
    .option("--system <text>", "the model's system prompt")
    .option("--strip-thinking", "remove <think>…</think> from responses before checking (reasoning models)")
    .option("--json", "print the scores as one JSON object");
}

/** One progress display per phase (generate, judge), created on its first record. */
function progressFor(label: string) {
  const bars = new Map<string, Progress>();
  return (phase: string, done: number, total: number) => {
    let bar = bars.get(phase);
    if (!bar) {
      bar = createProgress({ total, label: `${label} ${phase}` });
      bars.set(phase, bar);
    }
    bar.update({ done, failed: 0 });
    if (done === total) bar.stop();
  };
}

interface Backend {
  readonly flags: BackendFlags;
  /** "" for the model, "judge" for the judge (flag prefix in messages). */
  readonly prefix: string;
  readonly concurrency: number;
}

/**
 * The frame of an evaluation run: the run directory and its request cache, stop on SIGINT/SIGTERM, one engine per
 * back end; after `body`, say how to resume when stopped; always close the cache and every provider opened.
 */
async function evalRun(
  name: string,
  o: { out: string; timeoutMs?: number; maxAttempts: number },
  backends: readonly Backend[],
  body: (engines: RequestEngine[]) => Promise<{ stopped: boolean }>,
): Promise<void> {
  await mkdir(o.out, { recursive: true });
  const stop = onStopSignals(name);
  const cache = ResponseCache.open(join(o.out, "cache.sqlite"));
  const log = (line: string) => process.stderr.write(`iopo ${name}: ${line}\n`);
  const opened: ChatProvider[] = [];
  try {
    const engines: RequestEngine[] = [];
    for (const b of backends) {
      const providers = await openProviders(b.flags, b.prefix, b.concurrency);
      opened.push(...providers);
      const common = { cache, signal: stop.signal, timeoutMs: o.timeoutMs, maxAttempts: o.maxAttempts, log };
      engines.push(engineFor(providers, { ...common, concurrency: b.concurrency }));
    }
    if ((await body(engines)).stopped) {
      process.stderr.write(`iopo ${name}: stopped; finished requests are cached.\nResume with: ${resumeCommand()}\n`);
      process.exitCode = 130;
    }
  } finally {
    stop.dispose();
    cache.close();
    for (const p of opened) await p.close?.();
  }
}

// ---- commands ----

function registerEvalTrace(parent: Command): void {
  const c = parent
    .command("trace")
    .description("TRACE: generate, judge every constraint 0–10 with an LLM judge, score IF-S / IF-M")
    .requiredOption("--data <file>", "the TRACE evaluation set (trace_eval.jsonl)")
    .option("--judge-temperature <t>", "the judge's temperature (default 0)")
    .option("--judge-max-tokens <n>", "maximum tokens per judge reply");
  addBackendOptions(c, "", "the model under test");
  addBackendOptions(c, "judge", "the judge");
  addCommonOptions(c);
  c.option("--judge-concurrency <n>", "judge requests in flight per endpoint (default: --concurrency)");
  c.addHelpText(
    "after",
    "\nExample:\n  iopo eval trace --data trace_eval.jsonl --base-url http://localhost:8000/v1 --model qwen2-7b-iopo \\\n" +
      "    --judge-base-url https://api.openai.com/v1 --judge-model gpt-4o --judge-api-key-env OPENAI_API_KEY --out runs/trace-iopo",
  );
  c.action(async (raw: Record<string, unknown>) => {
    const o = parseOptions(
      Common.extend({
        data: z.string(),
        judgeTemperature: real("judge-temperature", 0, 2).default(0),
        judgeMaxTokens: int("judge-max-tokens", 1).optional(),
        judgeConcurrency: int("judge-concurrency", 1).optional(),
      }),
      raw,
      "eval trace",
    );
    const items: Instruction[] = [];
    for await (const item of FORMATS.trace.read(o.data, {})) {
      if (item.kind === "instruction") items.push(item.value);
      if (o.limit && items.length >= o.limit) break;
    }
    const model = { flags: backendFlags(raw), prefix: "", concurrency: o.concurrency };
    const judge = {
      flags: backendFlags(raw, "judge"),
      prefix: "judge",
      concurrency: o.judgeConcurrency ?? o.concurrency,
    };
    await evalRun("eval trace", o, [model, judge], async ([modelEngine, judgeEngine]) => {
      const result = await trace.runTraceEval({
        items,
        model: modelEngine!,
        judge: judgeEngine!,
        outDir: o.out,
        system: o.system,
        temperature: o.temperature,
        maxTokens: o.maxTokens,
        judgeTemperature: o.judgeTemperature,
        judgeMaxTokens: o.judgeMaxTokens,
        stripThinking: o.stripThinking,
        onProgress: progressFor("trace"),
      });
      if (o.json) process.stdout.write(`${JSON.stringify(result.scores)}\n`);
      else
        process.stdout.write(`${trace.formatTraceScores(result.scores, `TRACE — ${items.length} items (${o.out})`)}\n`);
      const failed = result.scores.generation_failures.count;
      if (failed) process.stderr.write(`iopo eval trace: ${failed} item(s) got no response (see responses.jsonl)\n`);
      return result;
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
    const inputs: ifeval.IfevalInput[] = [];
    for await (const r of readJsonl(o.input, ifeval.IfevalInputSchema, {
      hint: "IFEval input lines are {key, prompt, instruction_id_list, kwargs}",
    })) {
      inputs.push(r.value);
      if (o.limit && inputs.length >= o.limit) break;
    }
    const model = { flags: backendFlags(raw), prefix: "", concurrency: o.concurrency };
    await evalRun("eval ifeval", o, [model], async ([engine]) => {
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
      else {
        const f = (a: ifeval.Accuracy) => `${(100 * a.accuracy).toFixed(1)}% (${a.correct}/${a.total})`;
        process.stdout.write(
          `IFEval — ${inputs.length} prompts (${o.out})\n  prompt strict (S-Acc)   ${f(s.prompt_strict)}\n  instruction strict      ${f(s.instruction_strict)}\n` +
            `  prompt loose (L-Acc)    ${f(s.prompt_loose)}\n  instruction loose       ${f(s.instruction_loose)}\n`,
        );
      }
      if (s.generation_failures.count)
        process.stderr.write(`iopo eval ifeval: ${s.generation_failures.count} prompt(s) got no response\n`);
      return result;
    });
  });
}

export function registerEval(program: Command): void {
  const parent = program.command("eval").description("run a benchmark (TRACE or IFEval) against a model");
  registerEvalTrace(parent);
  registerEvalIfeval(parent);
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("side-by-side table of several evaluation runs (e.g. SFT vs DPO vs IOPO)")
    .argument("<dirs...>", "run directories written by iopo eval (each holds scores.json)")
    .option("--json", "print the metrics as JSON")
    .addHelpText("after", "\nExample:\n  iopo compare runs/trace-sft runs/trace-dpo runs/trace-iopo")
    .action(async (dirs: string[], opts: { json?: boolean }) => {
      const runs = await Promise.all(dirs.map(readRunScores));
      const kinds = new Set(runs.map((r) => r.benchmark));
      if (kinds.size > 1)
        throw new ConfigError("runs of different benchmarks", {
          expected: "all TRACE or all IFEval",
          got: [...kinds].join(" and "),
        });
      if (opts.json) process.stdout.write(`${JSON.stringify(runs)}\n`);
      else process.stdout.write(`${formatComparison(runs)}\n`);
    });
}
