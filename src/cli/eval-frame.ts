// The frame every `iopo eval …` command shares: the common flags, one progress display per phase, and the run
// itself (run directory, one request cache, stop on SIGINT/SIGTERM, one engine per back end, the exit status:
// 130 when stopped, 1 when every record failed, a PARTIAL notice when some did). Wiring only.

import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { ifeval, trace } from "../evaluate/index.ts";
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

// ---- options ----

export const int = (name: string, min: number) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .int(`--${name} must be a whole number`)
    .min(min, `--${name} must be ≥ ${min}`);
export const real = (name: string, min: number, max: number) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .min(min, `--${name} must be ≥ ${min}`)
    .max(max, `--${name} must be ≤ ${max}`);

export const Common = z.object({
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
  retryFailed: z.boolean().default(false),
});

export function addCommonOptions(c: Command): Command {
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
    .option("--json", "print the scores as one JSON object")
    .option("--retry-failed", "ask again the requests an earlier run of this directory recorded as failed");
}

// ---- run status ----

/** What a benchmark job reports about its own completeness (also written into its scores.json). */
export interface RunStatus {
  readonly complete: boolean;
  readonly counts: { readonly total: number; readonly done: number; readonly failed: number; readonly pending: number };
}

/** The line printed above a partial run's numbers; empty for a complete run. */
export function partialNotice(s: RunStatus): string {
  if (s.complete) return "";
  const { total, done, failed, pending } = s.counts;
  return `PARTIAL RUN: ${done} of ${total} scored (${failed} failed, ${pending} not finished); the numbers below cover only those ${done}\n`;
}

/** One progress display per phase (generate, judge), created on its first record. */
export function progressFor(label: string) {
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

// ---- the run ----

export interface Backend {
  readonly flags: BackendFlags;
  /** "" for the model, "judge" for the judge (flag prefix in messages). */
  readonly prefix: string;
  readonly concurrency: number;
}

/** The flags of a judged evaluation: the model under test, the judge, the common options, the judge's concurrency. */
export function addJudgedOptions(c: Command, judge = "the judge"): Command {
  addBackendOptions(c, "", "the model under test");
  addBackendOptions(c, "judge", judge);
  addCommonOptions(c);
  return c.option("--judge-concurrency <n>", "judge requests in flight per endpoint (default: --concurrency)");
}

/** The back ends of a run from its flags: the model under test, and (`judged`) the judge with its own concurrency. */
export function backendsOf(
  raw: Record<string, unknown>,
  o: { concurrency: number; judgeConcurrency?: number | undefined },
  judged: boolean,
): Backend[] {
  const model: Backend = { flags: backendFlags(raw), prefix: "", concurrency: o.concurrency };
  if (!judged) return [model];
  return [
    model,
    { flags: backendFlags(raw, "judge"), prefix: "judge", concurrency: o.judgeConcurrency ?? o.concurrency },
  ];
}

/** Refuse an --out that exists and is not a directory, before anything is opened. */
async function checkOutDir(out: string): Promise<void> {
  const s = await stat(out).catch(() => undefined);
  if (s && !s.isDirectory())
    throw new ConfigError("bad option --out: not a directory", {
      path: out,
      expected: "a run directory (created when missing)",
      got: "a file",
      hint: "give a directory path, e.g. --out runs/my-run",
    });
}

/**
 * Run `body` inside the frame: the run directory and its request cache, stop on SIGINT/SIGTERM, one engine per back
 * end; afterwards the exit status from the statuses `body` returns (one per benchmark); always close the cache and
 * every provider opened.
 */
export async function evalRun(
  name: string,
  o: { out: string; timeoutMs?: number; maxAttempts: number; retryFailed?: boolean },
  backends: readonly Backend[],
  body: (engines: RequestEngine[]) => Promise<{ stopped: boolean; statuses: readonly RunStatus[] }>,
): Promise<void> {
  await checkOutDir(o.out);
  await mkdir(o.out, { recursive: true });
  const stop = onStopSignals(name);
  const cache = ResponseCache.open(join(o.out, "cache.sqlite"));
  const log = (line: string) => process.stderr.write(`iopo ${name}: ${line}\n`);
  if (o.retryFailed) log(`cleared ${cache.clearFailures()} recorded failure(s)`);
  const opened: ChatProvider[] = [];
  try {
    const engines: RequestEngine[] = [];
    for (const b of backends) {
      const providers = await openProviders(b.flags, b.prefix, b.concurrency);
      opened.push(...providers);
      const common = { cache, signal: stop.signal, timeoutMs: o.timeoutMs, maxAttempts: o.maxAttempts, log };
      engines.push(engineFor(providers, { ...common, concurrency: b.concurrency }));
    }
    const { stopped, statuses } = await body(engines);
    if (stopped) {
      process.stderr.write(
        `iopo ${name}: stopped; the files hold a partial run (scores.json "complete": false); finished requests are cached.\nResume with: ${resumeCommand()}\n`,
      );
      process.exitCode = 130;
    } else if (statuses.some((s) => s.counts.total > 0 && s.counts.done === 0)) {
      process.stderr.write(
        `iopo ${name}: every record of a benchmark failed: no score (see the error lines in the run directory's files)\n` +
          "HINT: check the endpoint, model name and API key, then rerun with --retry-failed (failures are cached)\n",
      );
      process.exitCode = 1;
    } else if (statuses.some((s) => !s.complete)) {
      process.stderr.write(
        `iopo ${name}: partial run: some records failed (scores.json "complete": false); rerun with --retry-failed to ask them again\n`,
      );
    }
  } finally {
    stop.dispose();
    cache.close();
    for (const p of opened) await p.close?.();
  }
}

// ---- loading and printing, shared by eval trace / ifeval / suite ----

/** The first `limit` TRACE items of `path`. */
export async function loadTrace(path: string, limit?: number): Promise<Instruction[]> {
  const items: Instruction[] = [];
  for await (const item of FORMATS.trace.read(path, {})) {
    if (item.kind === "instruction") items.push(item.value);
    if (limit && items.length >= limit) break;
  }
  return items;
}

/** The first `limit` IFEval prompts of `path`. */
export async function loadIfeval(path: string, limit?: number): Promise<ifeval.IfevalInput[]> {
  const inputs: ifeval.IfevalInput[] = [];
  for await (const r of readJsonl(path, ifeval.IfevalInputSchema, {
    hint: "IFEval input lines are {key, prompt, instruction_id_list, kwargs}",
  })) {
    inputs.push(r.value);
    if (limit && inputs.length >= limit) break;
  }
  return inputs;
}

/** IFEval's four accuracies as text ("-" over zero prompts). */
export function formatIfevalRun(s: ifeval.IfevalRunSummary, title: string): string {
  const f = (a: ifeval.Accuracy) =>
    `${a.accuracy === null ? "-" : `${(100 * a.accuracy).toFixed(1)}%`} (${a.correct}/${a.total})`;
  return (
    `${partialNotice(s)}${title}\n  prompt strict (S-Acc)   ${f(s.prompt_strict)}\n  instruction strict      ${f(s.instruction_strict)}\n` +
    `  prompt loose (L-Acc)    ${f(s.prompt_loose)}\n  instruction loose       ${f(s.instruction_loose)}`
  );
}

export const JudgeProtocolFlag = z.enum(trace.JUDGE_PROTOCOLS, {
  message: `--judge-protocol must be one of ${trace.JUDGE_PROTOCOLS.join(", ")}`,
});
