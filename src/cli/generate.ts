// `iopo generate`: run a JSONL of prompts through an OpenAI-compatible endpoint (one or several), a local GGUF model
// or a model directory, with cache/resume, retries, progress and accounting. Wiring only: the back end is
// backend.ts, the job is src/llm. Exit 0 when every record succeeded or some failed (said on stderr and in the
// stats), 1 when every record failed, 130 when stopped.

import { basename } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { checkInputFile, checkOutputFile, readJsonFile } from "../io/index.ts";
import {
  createProgress,
  formatReport,
  loadGenerateInput,
  PriceTableSchema,
  ResponseCache,
  runGenerateJob,
} from "../llm/index.ts";
import {
  addBackendOptions,
  BACKEND_SHAPE,
  checkBackend,
  engineFor,
  onStopSignals,
  openProviders,
  redactFlags,
  resumeCommand,
} from "./backend.ts";
import { int, num, parseOptions } from "./util.ts";

// ---- types ----

const GenerateConfigSchema = z.strictObject({
  in: z.string().min(1),
  out: z.string().min(1),
  ...BACKEND_SHAPE,
  concurrency: int("concurrency", 1).optional(),
  timeoutMs: int("timeout-ms", 1).optional(),
  maxAttempts: int("max-attempts", 1).default(5),
  cache: z.string().optional(),
  temperature: num("temperature", 0, 2).optional(),
  maxTokens: int("max-tokens", 1).optional(),
  topP: num("top-p", 0, 1).optional(),
  seed: int("seed", Number.MIN_SAFE_INTEGER).optional(),
  system: z.string().optional(),
  prices: z.string().optional(),
  stats: z.string().optional(),
  retryFailed: z.boolean().default(false),
  json: z.boolean().default(false),
  progressIntervalMs: int("progress-interval-ms", 1).default(10_000),
});

// ---- exports ----

export function registerGenerate(program: Command): void {
  const cmd = program
    .command("generate")
    .description("Generate replies for a JSONL of prompts via an OpenAI-compatible endpoint or a local model")
    .requiredOption("--in <file>", "input JSONL: {id, messages} or {id, prompt} per line")
    .requiredOption("--out <file>", "output JSONL: {id, text, usage, finish, attempts} or {id, error}, input order");
  addBackendOptions(cmd)
    .option("--concurrency <n>", "requests in flight per endpoint (default 8; 1 for local models)")
    .option("--timeout-ms <n>", "per-attempt timeout in ms (default 120000; 3600000 for local models)")
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
      // Everything the run will write is checked before the first request, not after the last.
      checkBackend(c);
      checkInputFile(c.in, "--in");
      checkOutputFile(c.out, "--out");
      checkOutputFile(statsPath, c.stats ? "--stats" : "--out (its <out>.stats.json)");
      checkOutputFile(cachePath, c.cache ? "--cache" : "--out (its <out>.cache.sqlite)");
      const prices = c.prices ? await readJsonFile(c.prices, PriceTableSchema) : undefined;
      const options = {
        ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
        ...(c.maxTokens !== undefined ? { max_tokens: c.maxTokens } : {}),
        ...(c.topP !== undefined ? { top_p: c.topP } : {}),
        ...(c.seed !== undefined ? { seed: c.seed } : {}),
      };
      // The whole input is checked before the cache or a model is opened: a bad line leaves nothing behind.
      const input = await loadGenerateInput(c.in, c.system, options);
      const effective = redactFlags({ ...c, cache: cachePath, stats: statsPath });
      const log = (line: string) => process.stderr.write(`iopo generate: ${line}\n`);
      log(`config ${JSON.stringify(effective)}`);

      const providers = await openProviders(c, "", c.concurrency ?? 8);
      const cache = ResponseCache.open(cachePath);
      if (c.retryFailed) log(`cleared ${cache.clearFailures()} recorded failure(s)`);
      const stop = onStopSignals("generate");
      try {
        const engine = engineFor(providers, {
          concurrency: c.concurrency ?? 8,
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
          input,
          options,
          progress: (total) => createProgress({ total, intervalMs: c.progressIntervalMs }),
        });
        const r = result.report;
        process.stderr.write(`${formatReport(r)}\n`);
        if (c.json) process.stdout.write(`${JSON.stringify({ ...r, outcome: result.outcome })}\n`);
        if (result.stopped) {
          log(
            `stopped with ${r.done}/${result.total} records done; finished records are saved in ${cachePath}.\n` +
              `Resume with: ${resumeCommand()}`,
          );
          process.exitCode = 130;
          return;
        }
        log(`wrote ${result.written} lines to ${c.out} (${basename(statsPath)})`);
        if (result.cachedFailures > 0)
          log(
            `${result.cachedFailures} failure(s) were replayed from the cache, not requested again; ` +
              `rerun with --retry-failed to request them again`,
          );
        if (result.outcome === "all_failed") {
          log(`every record failed (${r.failed} of ${result.total}); see the {id, error} lines in ${c.out}`);
          process.exitCode = 1;
        } else if (result.outcome === "some_failed")
          log(`${r.failed} of ${result.total} records failed: written as {id, error} lines in ${c.out}`);
      } finally {
        stop.dispose();
        cache.close();
        for (const p of providers) await p.close?.();
      }
    });
}
