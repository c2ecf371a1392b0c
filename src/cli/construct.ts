// `iopo construct trace|groups`: wiring only — parse flags, pick the offline world or an LLM endpoint (request
// engine with SQLite cache in the run directory), run the resumable pipeline, print the funnel.

import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import {
  constructGroups,
  constructTrace,
  type Funnel,
  LlmRoles,
  OfflineRoles,
  type Roles,
  readSeeds,
} from "../construct/index.ts";
import { checkOutputDir, writeFileAtomic } from "../io/index.ts";
import { ResponseCache } from "../llm/index.ts";
import { engineFor, exitOnStopSignals, openProviders } from "./backend.ts";
import { int, parseOptions } from "./util.ts";

// ---- config ----

const CommonSchema = z
  .object({
    run: z.string().min(1),
    offline: z.boolean().default(false),
    baseUrl: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    apiKeyEnv: z.string().optional(),
    seed: int("seed", 0).default(0),
    concurrency: int("concurrency", 1).default(8),
    lang: z.enum(["en", "zh"]).default("en"),
    json: z.boolean().default(false),
  })
  .refine((c) => c.offline !== (c.baseUrl !== undefined), { message: "give exactly one of --offline or --base-url" })
  .refine((c) => c.offline || c.model !== undefined, { message: "--base-url needs --model" });
type Common = z.infer<typeof CommonSchema>;

function parseConfig<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const c = parseOptions(schema, raw, "construct");
  const run = (c as { run?: string }).run;
  if (run !== undefined) checkOutputDir(run, "--run");
  return c;
}

/** Ctrl-C: the run state is replaced atomically after every chunk, so a rerun of the same command resumes. */
const onInterrupt = (run: string) =>
  exitOnStopSignals("construct", `finished chunks are kept in ${run} (run state, *.partial files)`);

// ---- helpers ----

async function rolesFor(c: Common): Promise<{ roles: Roles; close: () => void }> {
  if (c.offline) return { roles: new OfflineRoles({ seed: c.seed }), close: () => {} };
  const flags = { baseUrl: [c.baseUrl!], model: c.model, apiKeyEnv: c.apiKeyEnv };
  const providers = await openProviders(flags, "", c.concurrency);
  const cache = ResponseCache.open(join(c.run, "llm-cache.sqlite"));
  // Ctrl-C exits at once (onInterrupt): the engine's own stop signal is never raised.
  const engine = engineFor(providers, {
    concurrency: c.concurrency,
    cache,
    signal: new AbortController().signal,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  return { roles: new LlmRoles({ requester: engine, model: c.model!, lang: c.lang }), close: () => cache.close() };
}

function progress(label: string): (done: number, total: number) => void {
  const started = Date.now();
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 1000 && done < total) return;
    last = now;
    const rate = done / Math.max(0.001, (now - started) / 1000);
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    process.stderr.write(`${label}: ${done}/${total} (${rate.toFixed(0)}/s, ETA ${eta}s)\n`);
  };
}

function printFunnel(f: Funnel, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(f)}\n`);
    return;
  }
  const lines = Object.entries(f.stages).map(([name, s]) => {
    const dropped = Object.entries(s.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    return `  ${name.padEnd(10)} in ${String(s.in).padStart(7)}  out ${String(s.out).padStart(7)}${s.fixed ? `  fixed ${s.fixed}` : ""}${dropped ? `  dropped: ${dropped}` : ""}`;
  });
  const outs = Object.entries(f.records_out)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  process.stdout.write(`records in ${f.records_in}; out: ${outs}\n${lines.join("\n")}\n`);
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption("--run <dir>", "run directory (outputs, run state, LLM cache)")
    .option("--offline", "use the built-in offline world (no network)")
    .option("--base-url <url>", "OpenAI-compatible base URL incl. /v1")
    .option("--model <name>", "model name (with --base-url)")
    .option("--api-key-env <VAR>", "environment variable holding the API key (never the key itself)")
    .option("--seed <n>", "run seed (default 0)")
    .option("--concurrency <n>", "records in flight (default 8)")
    .option("--lang <en|zh>", "prompt language for the LLM path (default en)")
    .option("--json", "print the funnel as JSON");
}

// ---- exports ----

export function registerConstruct(program: Command): void {
  const construct = program
    .command("construct")
    .description("Build TRACE-style instructions, IOPO groups and DPO pairs");
  common(construct.command("trace"))
    .description("seeds → expand → structure → control → respond → judge → <run>/instructions.jsonl + funnel.json")
    .option("--seeds <file>", "JSONL of simple instructions {id?, text, input?} (default: the offline world's 400)")
    .option("--n <n>", "instructions to attempt (default: one per seed)")
    .action(async (opts: Record<string, unknown>) => {
      const c = parseConfig(CommonSchema, opts);
      const extra = parseConfig(z.object({ seeds: z.string().optional(), n: int("n", 1).optional() }), opts);
      const seeds = extra.seeds ? await readSeeds(extra.seeds) : undefined;
      const n = extra.n ?? seeds?.length ?? 400;
      await writeFileAtomic(join(c.run, "config.trace.json"), `${JSON.stringify({ ...c, ...extra, n }, null, 2)}\n`);
      process.stderr.write(
        `construct trace: ${JSON.stringify({ run: c.run, offline: c.offline, model: c.model, seed: c.seed, n })}\n`,
      );
      const { roles, close } = await rolesFor(c);
      const release = onInterrupt(c.run);
      try {
        const f = await constructTrace({
          dir: c.run,
          roles,
          seed: c.seed,
          n,
          seeds,
          seedsPath: extra.seeds,
          concurrency: c.concurrency,
          onProgress: progress("trace"),
        });
        printFunnel(f, c.json);
      } finally {
        release();
        close();
      }
    });
  common(construct.command("groups"))
    .description(
      "<run>/instructions.jsonl → rewrite (add|delete|revise) → respond → verify → groups.jsonl + dpo_pairs.jsonl",
    )
    .action(async (opts: Record<string, unknown>) => {
      const c = parseConfig(CommonSchema, opts);
      const { roles, close } = await rolesFor(c);
      const release = onInterrupt(c.run);
      try {
        const f = await constructGroups({
          dir: c.run,
          roles,
          seed: c.seed,
          concurrency: c.concurrency,
          onProgress: progress("groups"),
        });
        printFunnel(f, c.json);
      } finally {
        release();
        close();
      }
    });
}
