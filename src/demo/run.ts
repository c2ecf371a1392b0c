// The demo runner: phases in order, each timed and skipped when its completion marker (phases/<name>.json, written
// after the phase's artefacts) and its artefact exist; results.json and report.html are always recomputed from the
// artefacts. A run directory belongs to one configuration: a rerun with another one is refused.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { readJsonFile, readJsonl, writeFileAtomic } from "../io/index.ts";
import { countParams, loadModelConfig, paramTable } from "../model/index.ts";
import { renderReport } from "../report/index.ts";
import { type DemoConfig, DemoConfigSchema, MODELS, type ModelName } from "./config.ts";
import {
  constructPhase,
  type DemoLogger,
  generatePhase,
  initModelPhase,
  type Layout,
  layout,
  readDataSummary,
  type TrainJob,
  trainPhase,
} from "./phases.ts";
import { reportData } from "./report-data.ts";
import { computeResults, type Generation, GenerationSchema, type Results } from "./results.ts";

// ---- types ----

export interface DemoOptions {
  /** Run directory (created). */
  readonly dir: string;
  readonly config: DemoConfig;
  readonly logger: DemoLogger;
}

const MarkerSchema = z.object({ name: z.string(), seconds: z.number(), finished_at: z.string() });

// ---- helpers ----

const markerPath = (L: Layout, name: string) => join(L.phases, `${name}.json`);

/** Run `fn` unless the phase's marker and artefact exist; record its time. Returns the phase's seconds. */
async function phase(
  L: Layout,
  log: DemoLogger,
  name: string,
  artefact: string,
  fn: () => Promise<unknown>,
): Promise<number> {
  const marker = markerPath(L, name);
  if (existsSync(marker) && existsSync(artefact)) {
    const m = await readJsonFile(marker, MarkerSchema);
    log.info(`phase ${name}: complete (took ${m.seconds.toFixed(1)} s) — skipped`);
    return m.seconds;
  }
  log.info(`phase ${name} …`);
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  await writeFileAtomic(
    marker,
    `${JSON.stringify({ name, seconds, finished_at: new Date().toISOString() }, null, 2)}\n`,
  );
  log.info(`phase ${name}: ${seconds.toFixed(1)} s`);
  return seconds;
}

/** Refuse a run directory made with another configuration; save the configuration in a new one. */
async function claimDir(L: Layout, c: DemoConfig): Promise<void> {
  if (existsSync(L.config)) {
    const saved = await readJsonFile(L.config, DemoConfigSchema, "use another --out for another configuration");
    if (JSON.stringify(saved) !== JSON.stringify(c))
      throw new ConfigError("the run directory holds a demo with another configuration", {
        path: L.config,
        expected: JSON.stringify(c),
        got: JSON.stringify(saved),
        hint: "use another --out (or delete the directory) to run with other settings",
      });
    return;
  }
  await writeFileAtomic(L.config, `${JSON.stringify(c, null, 2)}\n`);
}

async function readGenerations(L: Layout): Promise<Record<string, Generation[]>> {
  const out: Record<string, Generation[]> = {};
  for (const m of MODELS) {
    if (!existsSync(L.generations(m))) continue;
    const gens: Generation[] = [];
    for await (const { value } of readJsonl(L.generations(m), GenerationSchema)) gens.push(value);
    out[m] = gens;
  }
  return out;
}

async function readTimings(L: Layout): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of PHASES)
    if (existsSync(markerPath(L, name))) out[name] = (await readJsonFile(markerPath(L, name), MarkerSchema)).seconds;
  return out;
}

// ---- exports ----

/** Phase names in run order (results and report are recomputed every time and not listed). */
export const PHASES = [
  "construct",
  "init-model",
  ...MODELS.map((m) => `train-${m}`),
  ...MODELS.map((m) => `generate-${m}`),
] as const;

/** results.json from the run directory's artefacts (generations, data summary, model, phase timings). */
export async function resultsFromDir(dir: string): Promise<Results> {
  const L = layout(dir);
  const config = await readJsonFile(L.config, DemoConfigSchema);
  const summary = await readDataSummary(L);
  const mc = await loadModelConfig(L.initModel);
  const sizes = { ...summary.kept, parameters: countParams(paramTable(mc)), vocab_size: mc.vocab_size };
  return computeResults(config, sizes, await readGenerations(L), await readTimings(L));
}

/** Recompute results.json and report.html from the artefacts (`iopo report`). */
export async function writeReport(dir: string): Promise<{ results: Results; report: string }> {
  const L = layout(dir);
  const results = await resultsFromDir(dir);
  await writeFileAtomic(L.results, `${JSON.stringify(results, null, 2)}\n`);
  const html = renderReport(await reportData(dir, results, await readGenerations(L)));
  await writeFileAtomic(L.report, html);
  return { results, report: L.report };
}

/** The whole demo. Returns the results and the per-phase seconds of this invocation (0 for skipped phases). */
export async function runDemo(o: DemoOptions): Promise<{ results: Results; report: string }> {
  const { config: c, logger: log } = o;
  const L = layout(o.dir);
  await claimDir(L, c);
  await phase(L, log, "construct", L.eval, () => constructPhase(c, L, log));
  await phase(L, log, "init-model", join(L.initModel, "model.safetensors"), () => initModelPhase(c, L, log));
  const p = c.pref;
  const sftCkpt = L.checkpoint("sft", c.sft.steps);
  const jobs: TrainJob[] = [
    { name: "sft", method: "sft", model: L.initModel, data: L.sft, format: "sft", ...c.sft, beta: p.beta },
    { name: "sft-continued", method: "sft", model: sftCkpt, data: L.sft, format: "sft", ...p },
    { name: "dpo", method: "dpo", model: sftCkpt, data: L.pairs, format: "pairs", ...p },
    { name: "iopo", method: "iopo", model: sftCkpt, data: L.groups, format: "groups", ...p },
  ];
  for (const job of jobs)
    await phase(L, log, `train-${job.name}`, join(L.checkpoint(job.name, job.steps), "manifest.json"), () =>
      trainPhase(c, L, job, log),
    );
  for (const job of jobs)
    await phase(L, log, `generate-${job.name}`, L.generations(job.name), () =>
      generatePhase(c, L, job.name, L.checkpoint(job.name, job.steps), log),
    );
  return writeReport(o.dir);
}

/** The checkpoint each model's generations came from. */
export function checkpointOf(c: DemoConfig, dir: string, m: ModelName): string {
  return layout(dir).checkpoint(m, m === "sft" ? c.sft.steps : c.pref.steps);
}

/** Read a saved demo configuration (for `iopo report`). */
export async function readDemoConfig(dir: string): Promise<DemoConfig> {
  const L = layout(dir);
  if (!existsSync(L.config))
    throw new ConfigError("not a demo run directory (no demo_config.json)", {
      path: dir,
      hint: "run `iopo demo --out <dir>` first",
    });
  return DemoConfigSchema.parse(JSON.parse(await readFile(L.config, "utf8")));
}
