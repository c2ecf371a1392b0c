// `iopo generate`: run a JSONL of prompts through an OpenAI-compatible endpoint (one or several) or a local GGUF
// model, with cache/resume, retries, progress and accounting. Wiring only: the work is in src/llm.

import { basename } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { readJsonFile } from "../io/jsonl.ts";
import {
  createProgress,
  formatReport,
  PriceTableSchema,
  RequestEngine,
  ResponseCache,
  runGenerateJob,
} from "../llm/index.ts";
import { openProviders } from "./backend.ts";
import { parseOptions } from "./util.ts";

// ---- types ----

const num = (name: string) =>
  z.string().transform((s, ctx) => {
    const n = Number(s);
    if (s.trim() === "" || !Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: `--${name} must be a number, got ${JSON.stringify(s)}` });
      return z.NEVER;
    }
    return n;
  });

const GenerateConfigSchema = z
  .object({
    in: z.string(),
    out: z.string(),
    baseUrl: z.array(z.string()).default([]),
    gguf: z.string().optional(),
    modelDir: z.string().optional(),
    model: z.string().optional(),
    apiKeyEnv: z.string().optional(),
    concurrency: num("concurrency").pipe(z.number().int().min(1)).optional(),
    timeoutMs: num("timeout-ms").pipe(z.number().int().min(1)).default(120_000),
    maxAttempts: num("max-attempts").pipe(z.number().int().min(1)).default(5),
    cache: z.string().optional(),
    temperature: num("temperature").pipe(z.number().min(0).max(2)).optional(),
    maxTokens: num("max-tokens").pipe(z.number().int().min(1)).optional(),
    topP: num("top-p").pipe(z.number().min(0).max(1)).optional(),
    seed: num("seed").pipe(z.number().int()).optional(),
    system: z.string().optional(),
    prices: z.string().optional(),
    stats: z.string().optional(),
    retryFailed: z.boolean().default(false),
    json: z.boolean().default(false),
    progressIntervalMs: num("progress-interval-ms").pipe(z.number().int().min(1)).default(10_000),
  })
  .strict();

// ---- helpers ----

// ---- exports ----

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .description("Generate replies for a JSONL of prompts via an OpenAI-compatible endpoint or a local GGUF model")
    .requiredOption("--in <file>", "input JSONL: {id, messages} or {id, prompt} per line")
    .requiredOption("--out <file>", "output JSONL: {id, text, usage, finish, attempts} or {id, error}, input order")
    .option("--base-url <url>", "OpenAI-compatible base URL incl. /v1 (repeat for several endpoints)", collect, [])
    .option("--gguf <file>", "local GGUF model file (instead of --base-url)")
    .option("--model-dir <dir>", "model directory trained by iopo (instead of --base-url)")
    .option("--model <name>", "model name (required with --base-url; default for --gguf: file name)")
    .option("--api-key-env <VAR>", "name of the environment variable holding the API key (never the key itself)")
    .option("--concurrency <n>", "requests in flight per endpoint (default 8; 1 for --gguf)")
    .option("--timeout-ms <n>", "per-attempt timeout in ms (default 120000)")
    .option("--max-attempts <n>", "attempts per record before it is written as failed (default 5)")
    .option("--cache <file>", "SQLite cache = resume state (default <out>.cache.sqlite)")
    .option("--temperature <t>", "sampling temperature")
    .option("--max-tokens <n>", "maximum completion tokens")
    .option("--top-p <p>", "nucleus sampling")
    .option("--seed <n>", "sampling seed")
    .option("--system <text>", "system message for records that have none")
    .option("--prices <file>", 'JSON price table {"<model>": {"prompt": USD per 1M, "completion": USD per 1M}}')
    .option("--stats <file>", "accounting JSON (default <out>.stats.json)")
    .option("--retry-failed", "request again the records recorded as failed in the cache")
    .option("--json", "print the accounting report as JSON on stdout")
    .option("--progress-interval-ms <n>", "ms between plain progress lines when not a TTY (default 10000)")
    .action(async (raw: Record<string, unknown>) => {
      const c = parseOptions(GenerateConfigSchema, raw, "generate");
      const cachePath = c.cache ?? `${c.out}.cache.sqlite`;
      const statsPath = c.stats ?? `${c.out}.stats.json`;
      const prices = c.prices ? await readJsonFile(c.prices, PriceTableSchema) : undefined;
      const effective = { ...c, cache: cachePath, stats: statsPath };
      process.stderr.write(`iopo generate: config ${JSON.stringify(effective)}\n`);

      const providers = await openProviders(c, "", c.concurrency ?? 8);
      const cache = ResponseCache.open(cachePath);
      if (c.retryFailed) process.stderr.write(`iopo generate: cleared ${cache.clearFailures()} recorded failure(s)\n`);
      const stop = new AbortController();
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          process.stderr.write(`iopo generate: second ${signal}, exiting now\n`);
          process.exit(130);
        }
        process.stderr.write(`iopo generate: ${signal}: stopping; requests in flight are abandoned\n`);
        stop.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      const log = (line: string) => process.stderr.write(`iopo generate: ${line}\n`);
      try {
        const engine = new RequestEngine({
          endpoints: providers,
          concurrency: providers[0]!.kind === "openai" ? (c.concurrency ?? 8) : 1,
          timeoutMs: c.timeoutMs,
          maxAttempts: c.maxAttempts,
          cache,
          prices,
          signal: stop.signal,
          log,
        });
        const result = await runGenerateJob({
          inPath: c.in,
          outPath: c.out,
          engine,
          cache,
          system: c.system,
          statsPath,
          config: effective,
          options: {
            ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
            ...(c.maxTokens !== undefined ? { max_tokens: c.maxTokens } : {}),
            ...(c.topP !== undefined ? { top_p: c.topP } : {}),
            ...(c.seed !== undefined ? { seed: c.seed } : {}),
          },
          progress: (total) => createProgress({ total, intervalMs: c.progressIntervalMs }),
        });
        process.stderr.write(`${formatReport(result.report)}\n`);
        if (c.json) process.stdout.write(`${JSON.stringify(result.report)}\n`);
        if (result.stopped) {
          const args = process.argv
            .slice(2)
            .map((a) => (/^[\w./:=@,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
          process.stderr.write(
            `iopo generate: stopped with ${result.report.done}/${result.total} records done; finished records are saved in ${cachePath}.\n` +
              `Resume with: iopo ${args.join(" ")}\n`,
          );
          process.exitCode = 130;
        } else
          process.stderr.write(`iopo generate: wrote ${result.written} lines to ${c.out} (${basename(statsPath)})\n`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        cache.close();
        for (const p of providers) await p.close?.();
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
