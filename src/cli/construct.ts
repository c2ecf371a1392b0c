// `iopo construct taxonomy|trace|groups`: wiring only — parse flags, pick the offline world or an LLM endpoint
// (request engine with SQLite cache in the run directory), run the resumable pipeline, print the funnel.

import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import {
  constructGroups,
  constructTaxonomy,
  constructTrace,
  type Funnel,
  LlmRoles,
  LlmTaxonomyRoles,
  OfflineRoles,
  OfflineTaxonomyRoles,
  offlineSeeds,
  type Requester,
  type Roles,
  readSeeds,
  readTaxonomy,
  type TaxonomyRoles,
} from "../construct/index.ts";
import { checkOutputDir, writeFileAtomic } from "../io/index.ts";
import { ResponseCache, redactUrl } from "../llm/index.ts";
import { GROUP_MODES, type Taxonomy } from "../schema/index.ts";
import { checkBackend, engineFor, exitOnStopSignals, openProviders } from "./backend.ts";
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
  const { run, baseUrl, model, apiKeyEnv } = c as Partial<Common>;
  if (run !== undefined) checkOutputDir(run, "--run");
  // The endpoint flags are checked before anything is written to the run directory.
  if (baseUrl !== undefined) checkBackend({ baseUrl: [baseUrl], model, apiKeyEnv });
  return c;
}

/** Ctrl-C: the run state is replaced atomically after every chunk, so a rerun of the same command resumes. */
const onInterrupt = (run: string) =>
  exitOnStopSignals("construct", `finished chunks are kept in ${run} (run state, *.partial files)`);

// ---- helpers ----

async function requesterFor(c: Common): Promise<{ requester: Requester; close: () => void }> {
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
  return { requester: engine, close: () => cache.close() };
}

async function rolesFor(c: Common, taxonomy?: Taxonomy): Promise<{ roles: Roles; close: () => void }> {
  if (c.offline) return { roles: new OfflineRoles({ seed: c.seed, taxonomy }), close: () => {} };
  const { requester, close } = await requesterFor(c);
  return { roles: new LlmRoles({ requester, model: c.model!, lang: c.lang, taxonomy }), close };
}

async function taxonomyRolesFor(c: Common): Promise<{ roles: TaxonomyRoles; close: () => void }> {
  if (c.offline) return { roles: new OfflineTaxonomyRoles({ seed: c.seed }), close: () => {} };
  const { requester, close } = await requesterFor(c);
  return { roles: new LlmTaxonomyRoles({ requester, model: c.model!, lang: c.lang }), close };
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
    return `  ${name.padEnd(13)} in ${String(s.in).padStart(7)}  out ${String(s.out).padStart(7)}${s.fixed ? `  fixed ${s.fixed}` : ""}${dropped ? `  dropped: ${dropped}` : ""}`;
  });
  const outs = Object.entries(f.records_out)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const rel = (f.counts?.relations ?? {}) as Record<string, Record<string, number>>;
  const ops = Object.entries(rel).map(
    ([op, r]) =>
      `  ${op.padEnd(7)} candidates ${r.candidates ?? 0}, answered ${r.responded ?? 0}: y1⊨x1 ${r.y1_x1 ?? 0}, ` +
      `y1⊭x2 ${r.y1_not_x2 ?? 0}, y2⊨x2 ${r.y2_x2 ?? 0}, y2⊭x1 ${r.y2_not_x1 ?? 0}, all four ${r.all_four ?? 0}; kept ${r.kept ?? 0}`,
  );
  const more = ops.length ? `per operation (candidates and the relations they pass):\n${ops.join("\n")}\n` : "";
  process.stdout.write(`records in ${f.records_in}; out: ${outs}\n${lines.join("\n")}\n${more}`);
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
    .description("Induce a constraint taxonomy; build TRACE-style instructions, IOPO groups, SFT* and DPO data");
  common(construct.command("taxonomy"))
    .description(
      "seeds → proposed constraint types → normalise, count, merge → map to the 26 dimensions or new → <run>/taxonomy.json + taxonomy.md",
    )
    .option("--seeds <file>", "JSONL of simple instructions {id?, text, input?} (--offline: default the world's 400)")
    .option("--min-count <n>", "proposals a new dimension needs (default 2)")
    .action(async (opts: Record<string, unknown>) => {
      const c = parseConfig(CommonSchema, opts);
      const extra = parseConfig(
        z
          .object({ seeds: z.string().min(1).optional(), minCount: int("min-count", 1).default(2) })
          .refine((e) => c.offline || e.seeds !== undefined, { message: "--base-url needs --seeds" }),
        opts,
      );
      const seeds = extra.seeds ? await readSeeds(extra.seeds) : offlineSeeds();
      process.stderr.write(
        `construct taxonomy: ${JSON.stringify({ run: c.run, offline: c.offline, model: c.model, seeds: seeds.length })}\n`,
      );
      const { roles, close } = await taxonomyRolesFor(c);
      const release = onInterrupt(c.run);
      try {
        const r = await constructTaxonomy({
          dir: c.run,
          roles,
          seeds,
          seedsPath: extra.seeds ?? "offline",
          seed: c.seed,
          minCount: extra.minCount,
          concurrency: c.concurrency,
          onProgress: progress("taxonomy"),
        });
        if (c.json) process.stdout.write(`${JSON.stringify(r.funnel)}\n`);
        else {
          const s = r.summary;
          process.stdout.write(
            `proposals ${s.proposals} from ${r.funnel.records_in} instructions → ${s.normal_forms} names → ` +
              `${s.clusters} clusters (${s.merged_by_judge} merged of ${s.pairs_judged} pairs judged) → ` +
              `${s.builtin_dimensions} built-in + ${s.new_dimensions} new dimensions\n` +
              `wrote ${join(c.run, "taxonomy.json")} and ${join(c.run, "taxonomy.md")}\n`,
          );
        }
      } finally {
        release();
        close();
      }
    });
  common(construct.command("trace"))
    .description(
      "seeds → expand → structure → completeness → redundancy → contradiction → respond → judge → <run>/instructions.jsonl + funnel.json",
    )
    .option("--seeds <file>", "JSONL of simple instructions {id?, text, input?} (default: the offline world's 400)")
    .option("--n <n>", "instructions to attempt (default: one per seed)")
    .option("--taxonomy <file.json>", "a taxonomy to use instead of the built-in 26 dimensions (taxonomy.json format)")
    .action(async (opts: Record<string, unknown>) => {
      const c = parseConfig(CommonSchema, opts);
      const extra = parseConfig(
        z.object({ seeds: z.string().optional(), n: int("n", 1).optional(), taxonomy: z.string().min(1).optional() }),
        opts,
      );
      const tax = extra.taxonomy ? await readTaxonomy(extra.taxonomy) : undefined;
      const seeds = extra.seeds ? await readSeeds(extra.seeds) : undefined;
      const n = extra.n ?? seeds?.length ?? 400;
      // Credentials in the URL never reach a file.
      const saved = { ...c, ...extra, n, ...(c.baseUrl ? { baseUrl: redactUrl(c.baseUrl) } : {}) };
      await writeFileAtomic(join(c.run, "config.trace.json"), `${JSON.stringify(saved, null, 2)}\n`);
      process.stderr.write(
        `construct trace: ${JSON.stringify({ run: c.run, offline: c.offline, model: c.model, seed: c.seed, n })}\n`,
      );
      const { roles, close } = await rolesFor(c, tax?.taxonomy);
      const release = onInterrupt(c.run);
      try {
        const f = await constructTrace({
          dir: c.run,
          roles,
          seed: c.seed,
          n,
          seeds,
          seedsPath: extra.seeds,
          taxonomyId: tax?.id,
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
      "<run>/instructions.jsonl → rewrite (add|delete|revise) → respond → relations → rationality → groups.jsonl + sft_star.jsonl; worse answer → dpo_pairs.jsonl",
    )
    .option("--groups <strict|loose>", "strict: y1⊨x1, y1⊭x2, y2⊨x2 and y2⊭x1 (default); loose: not the last")
    .action(async (opts: Record<string, unknown>) => {
      const c = parseConfig(CommonSchema, opts);
      const extra = parseConfig(z.object({ groups: z.enum(GROUP_MODES).default("strict") }), opts);
      const { roles, close } = await rolesFor(c);
      const release = onInterrupt(c.run);
      try {
        const f = await constructGroups({
          dir: c.run,
          roles,
          seed: c.seed,
          mode: extra.groups,
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
