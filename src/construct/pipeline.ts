// The two construction runs over files: `trace` (seeds → instructions.jsonl + funnel.json + rejects.jsonl) and
// `groups` (instructions.jsonl → groups.jsonl + sft_star.jsonl + dpo_pairs.jsonl), resumable through runner.ts.

import { join } from "node:path";
import { z } from "zod";
import { DataError } from "../errors.ts";
import { readJsonl } from "../io/index.ts";
import { type Example, ExampleSchema, type GroupMode, IopoGroupSchema, PreferencePairSchema } from "../schema/index.ts";
import { type CountDistribution, countWeights, DEFAULT_COUNTS } from "./distribution.ts";
import { GROUP_STAGES, groupOne } from "./groups.ts";
import { offlineSeeds } from "./offline/provider.ts";
import type { Roles, SeedRecord } from "./roles.ts";
import { type Funnel, runChunked } from "./runner.ts";
import { type StageCtx, TRACE_STAGES, traceOne } from "./stages.ts";

// ---- types ----

export interface TraceOptions {
  readonly dir: string;
  readonly roles: Roles;
  readonly seed: number;
  /** Instructions to attempt (seeds are cycled). */
  readonly n: number;
  readonly seeds?: readonly SeedRecord[];
  /** Recorded in the run state so a resume with other seeds is refused. */
  readonly seedsPath?: string;
  /** Identifies a user taxonomy (path and content hash) in the run state, so a resume with another is refused. */
  readonly taxonomyId?: string;
  readonly counts?: CountDistribution;
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface GroupOptions {
  readonly dir: string;
  readonly roles: Roles;
  readonly seed: number;
  /** Which groups to keep. @default "strict" */
  readonly mode?: GroupMode;
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

// ---- helpers ----

const SeedLineSchema = z.object({
  id: z.string().min(1).optional(),
  text: z.string().min(1),
  input: z.string().nullable().optional(),
});

function ctxOf(roles: Roles, seed: number, counts: CountDistribution, mode?: GroupMode): StageCtx {
  return { roles, seed, counts, countWeights: countWeights(counts), mode };
}

// ---- exports ----

/** Read simple-instruction seeds: JSONL lines `{id?, text, input?}`. */
export async function readSeeds(path: string): Promise<SeedRecord[]> {
  const out: SeedRecord[] = [];
  for await (const { line, value } of readJsonl(path, SeedLineSchema, {
    hint: 'each line: {"text": "…", "input": null}',
  }))
    out.push({ id: value.id ?? `line-${line}`, text: value.text, input: value.input ?? null });
  if (out.length === 0) throw new DataError("no seeds", { path, expected: "at least one JSONL line" });
  return out;
}

export function traceId(index: number): string {
  return `t${String(index).padStart(6, "0")}`;
}

export async function constructTrace(o: TraceOptions): Promise<Funnel> {
  const seeds = o.seeds ?? offlineSeeds();
  const counts = o.counts ?? DEFAULT_COUNTS;
  const ctx = ctxOf(o.roles, o.seed, counts);
  return runChunked({
    dir: o.dir,
    name: "trace",
    config: {
      command: "trace",
      origin: o.roles.origin,
      seed: o.seed,
      n: o.n,
      seeds: o.seedsPath ?? "offline",
      counts,
      ...(o.taxonomyId && { taxonomy: o.taxonomyId }),
    },
    total: o.n,
    outputs: ["instructions"],
    rejectsFile: "rejects.jsonl",
    funnelFile: "funnel.json",
    stages: TRACE_STAGES,
    concurrency: o.concurrency ?? 8,
    onProgress: o.onProgress,
    work: async (i) => {
      const r = await traceOne(seeds[i % seeds.length]!, traceId(i), ctx);
      return {
        out: { instructions: r.example ? [ExampleSchema.parse(r.example)] : [] },
        rejects: r.reject ? [r.reject] : [],
        trail: r.trail,
      };
    },
  });
}

export async function constructGroups(o: GroupOptions): Promise<Funnel> {
  const path = join(o.dir, "instructions.jsonl");
  const examples: Example[] = [];
  for await (const { value } of readJsonl(path, ExampleSchema, {
    hint: "run `iopo construct trace --run <dir>` first",
  }))
    examples.push(value);
  const mode = o.mode ?? "strict";
  const ctx = ctxOf(o.roles, o.seed, DEFAULT_COUNTS, mode);
  return runChunked({
    dir: o.dir,
    name: "groups",
    config: { command: "groups", origin: o.roles.origin, seed: o.seed, examples: examples.length, groups: mode },
    total: examples.length,
    outputs: ["groups", "sft_star", "dpo_pairs"],
    rejectsFile: "groups_rejects.jsonl",
    funnelFile: "groups_funnel.json",
    stages: GROUP_STAGES,
    concurrency: o.concurrency ?? 8,
    onProgress: o.onProgress,
    work: async (i) => {
      const r = await groupOne(examples[i]!, ctx);
      return {
        out: {
          groups: r.group ? [IopoGroupSchema.parse(r.group)] : [],
          sft_star: r.sftStar.map((e) => ExampleSchema.parse(e)),
          dpo_pairs: r.pair ? [PreferencePairSchema.parse(r.pair)] : [],
        },
        rejects: r.rejects,
        trail: r.trail,
        counts: r.counts,
      };
    },
  });
}
