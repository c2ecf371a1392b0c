// The demo runner: phases in order, each timed and skipped when its completion marker (phases/<name>.json, written
// after the phase's artefacts) and its artefact exist; results.json and report.html are always recomputed from the
// artefacts. A run directory belongs to one configuration: a rerun with another one is refused.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { readJsonFile, readJsonl, readLines, writeFileAtomic } from "../io/index.ts";
import { countParams, loadModelConfig, paramTable } from "../model/index.ts";
import { renderReport } from "../report/index.ts";
import { startingBase } from "./base.ts";
import { type DemoConfig, DemoConfigSchema, METHOD_SPECS, METHODS, type MethodName } from "./config.ts";
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
import { computeResults, type Generation, GenerationSchema, type Results, type TokenCount } from "./results.ts";

// ---- types ----

export interface DemoOptions {
  /** Run directory (created). */
  readonly dir: string;
  readonly config: DemoConfig;
  readonly logger: DemoLogger;
}

const MarkerSchema = z.object({
  name: z.string(),
  seconds: z.number(),
  /** CPU seconds of the process over the phase (every thread, user + system): a load-independent measure. */
  cpu_seconds: z.number().optional(),
  finished_at: z.string(),
});

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
  const c0 = process.cpuUsage();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpu_seconds = (cu.user + cu.system) / 1e6;
  await writeFileAtomic(
    marker,
    `${JSON.stringify({ name, seconds, cpu_seconds, finished_at: new Date().toISOString() }, null, 2)}\n`,
  );
  log.info(`phase ${name}: ${seconds.toFixed(1)} s (CPU ${cpu_seconds.toFixed(1)} s)`);
  return seconds;
}

/** The settings (dotted keys) whose values differ between a saved configuration and `c`. */
function configDiffs(saved: DemoConfig, c: DemoConfig): { key: string; saved: string; now: string }[] {
  const out: { key: string; saved: string; now: string }[] = [];
  const walk = (a: unknown, b: unknown, key: string) => {
    const plain = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);
    if (plain(a) && plain(b)) {
      const ra = a as Record<string, unknown>;
      const rb = b as Record<string, unknown>;
      for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) walk(ra[k], rb[k], key ? `${key}.${k}` : k);
    } else if (JSON.stringify(a) !== JSON.stringify(b))
      out.push({ key, saved: JSON.stringify(a) ?? "absent", now: JSON.stringify(b) ?? "absent" });
  };
  walk(saved, c, "");
  return out;
}

/**
 * Claim the run directory for configuration `c` and return the configuration to run. A directory made with the same
 * settings but fewer methods or seeds is extended (`iopo demo --full` after `npm start` trains only the added
 * methods); a request for a subset of what the directory holds runs its saved configuration (everything is then
 * complete); anything else is refused.
 */
async function claimDir(L: Layout, c: DemoConfig, log: DemoLogger): Promise<DemoConfig> {
  if (existsSync(L.config)) {
    const saved = await readJsonFile(L.config, DemoConfigSchema, "use another --out for another configuration");
    if (JSON.stringify(saved) === JSON.stringify(c)) return c;
    const rest = (x: DemoConfig) => JSON.stringify({ ...x, methods: [], seeds: 0 });
    const sub = (a: DemoConfig, b: DemoConfig) => a.seeds <= b.seeds && a.methods.every((m) => b.methods.includes(m));
    if (rest(saved) === rest(c) && sub(saved, c)) {
      const merged = { ...c, methods: METHODS.filter((m) => c.methods.includes(m)) };
      await writeFileAtomic(L.config, `${JSON.stringify(merged, null, 2)}\n`);
      log.info(`  extending the run: methods ${merged.methods.join(", ")}; ${merged.seeds} seed(s)`);
      return merged;
    }
    if (rest(saved) === rest(c) && sub(c, saved)) {
      log.info(`  the run directory holds more (methods ${saved.methods.join(", ")}; ${saved.seeds} seeds): using it`);
      return saved;
    }
    // Only the settings that differ (the whole configurations if none does, i.e. only their key order).
    const diffs = configDiffs(saved, c);
    const whole = [{ key: "configuration", saved: JSON.stringify(saved), now: JSON.stringify(c) }];
    const shown = diffs.length > 0 ? diffs : whole;
    throw new ConfigError("the run directory holds a demo with another configuration", {
      path: L.config,
      expected: shown.map((d) => `${d.key} ${d.now}`).join(", "),
      got: shown.map((d) => `${d.key} ${d.saved}`).join(", "),
      hint: "use another --out (or delete the directory) to run with these settings",
    });
  }
  await writeFileAtomic(L.config, `${JSON.stringify(c, null, 2)}\n`);
  return c;
}

/** seed → method → generations, for the runs whose generation file exists. */
async function readGenerations(L: Layout, c: DemoConfig): Promise<Record<string, Record<string, Generation[]>>> {
  const out: Record<string, Record<string, Generation[]>> = {};
  for (const s of seedsOf(c))
    for (const m of c.methods) {
      if (!existsSync(L.generations(s, m))) continue;
      const gens: Generation[] = [];
      for await (const { value } of readJsonl(L.generations(s, m), GenerationSchema)) gens.push(value);
      (out[s] ??= {})[m] = gens;
    }
  return out;
}

/** Prompt and response tokens a run trained on: the sums over its metrics.jsonl (the last line of each step). */
export async function tokensOf(metrics: string): Promise<TokenCount | null> {
  if (!existsSync(metrics)) return null;
  const bySteps = new Map<number, { p: number; r: number }>();
  for await (const { text } of readLines(metrics)) {
    if (!text.trim()) continue;
    const m = JSON.parse(text) as Record<string, number>;
    if (m.tokens_prompt === undefined || m.tokens_response === undefined) return null;
    bySteps.set(m.step!, { p: m.tokens_prompt, r: m.tokens_response });
  }
  let prompt = 0;
  let response = 0;
  for (const v of bySteps.values()) {
    prompt += v.p;
    response += v.r;
  }
  return { prompt, response, steps: bySteps.size };
}

async function readTokens(L: Layout, c: DemoConfig): Promise<Record<string, Record<string, TokenCount | null>>> {
  const out: Record<string, Record<string, TokenCount | null>> = {};
  for (const s of seedsOf(c))
    for (const m of c.methods) (out[s] ??= {})[m] = await tokensOf(join(L.train(s, m), "metrics.jsonl"));
  return out;
}

/** Wall and CPU seconds per finished phase. */
async function readTimings(
  L: Layout,
  c: DemoConfig,
): Promise<{ wall: Record<string, number>; cpu: Record<string, number> }> {
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const name of phasesOf(c))
    if (existsSync(markerPath(L, name))) {
      const m = await readJsonFile(markerPath(L, name), MarkerSchema);
      wall[name] = m.seconds;
      if (m.cpu_seconds !== undefined) cpu[name] = m.cpu_seconds;
    }
  return { wall, cpu };
}

/** The training job of one method and seed (every method after SFT starts from that seed's SFT checkpoint). */
function jobOf(c: DemoConfig, L: Layout, seed: number, m: MethodName): TrainJob {
  const spec = METHOD_SPECS[m];
  const data = spec.data === "sft" ? L.sft : spec.data === "pairs" ? L.pairs : L.groups;
  const base = { name: m, method: spec.loss, seed, data, format: spec.data };
  if (m === "sft") return { ...base, model: L.initModel(seed), ...c.sft, loss: {} };
  const loss =
    m === "simpo"
      ? { beta: c.simpo.beta, simpo_gamma: c.simpo.gamma }
      : m === "orpo"
        ? { orpo_lambda: c.orpo.lambda }
        : spec.loss.startsWith("sft")
          ? {}
          : { beta: c.pref.beta };
  const { beta: _, ...p } = c.pref;
  // The first method of each data file that needs reference log-probs fills the cache (phases.ts, trainPhase).
  const prime = spec.ref && c.methods.find((x) => METHOD_SPECS[x].ref && METHOD_SPECS[x].data === spec.data) === m;
  return { ...base, model: L.checkpoint(seed, "sft", c.sft.steps), ...p, loss, ...(prime ? { prime } : {}) };
}

// ---- exports ----

/** The seeds of a configuration's runs: seed, seed + 1, …. */
export function seedsOf(c: DemoConfig): number[] {
  return Array.from({ length: c.seeds }, (_, k) => c.seed + k);
}

/** Phase names in run order (results and report are recomputed every time and not listed). */
export function phasesOf(c: DemoConfig): string[] {
  return [
    "construct",
    ...seedsOf(c).flatMap((s) => [
      `seed${s}-init-model`,
      ...c.methods.map((m) => `seed${s}-train-${m}`),
      ...c.methods.map((m) => `seed${s}-generate-${m}`),
    ]),
  ];
}

/** results.json from the run directory's artefacts (generations, metrics, data summary, model, phase timings). */
export async function resultsFromDir(dir: string): Promise<Results> {
  const L = layout(dir);
  const config = await readJsonFile(L.config, DemoConfigSchema);
  const summary = await readDataSummary(L);
  const mc = await loadModelConfig(L.initModel(config.seed));
  const base = await startingBase(L.initModel(config.seed));
  const sizes = {
    ...summary.kept,
    parameters: countParams(paramTable(mc)),
    vocab_size: mc.vocab_size,
    // The shipped base's own training, when the runs start from it.
    ...(base ? { base_sft_examples: base.sft_examples, base_sft_steps: base.steps } : {}),
  };
  return computeResults(config, {
    sizes,
    generations: await readGenerations(L, config),
    tokens: await readTokens(L, config),
    ...(await readTimings(L, config).then((t) => ({ timings: t.wall, cpuTimings: t.cpu }))),
  });
}

/** Recompute results.json and report.html from the artefacts (`iopo report`). */
export async function writeReport(dir: string): Promise<{ results: Results; report: string }> {
  const L = layout(dir);
  const config = await readJsonFile(L.config, DemoConfigSchema);
  const results = await resultsFromDir(dir);
  await writeFileAtomic(L.results, `${JSON.stringify(results, null, 2)}\n`);
  const html = renderReport(await reportData(dir, results, await readGenerations(L, config)));
  await writeFileAtomic(L.report, html);
  return { results, report: L.report };
}

/** The whole demo: the data once, then per seed its starting model, SFT, every other method from it, generation. */
export async function runDemo(o: DemoOptions): Promise<{ results: Results; report: string }> {
  const log = o.logger;
  const L = layout(o.dir);
  const c = await claimDir(L, o.config, log);
  await phase(L, log, "construct", L.eval, () => constructPhase(c, L, log));
  for (const s of seedsOf(c)) {
    await phase(L, log, `seed${s}-init-model`, join(L.initModel(s), "model.safetensors"), () =>
      initModelPhase(c, L, s, log),
    );
    const jobs = c.methods.map((m) => jobOf(c, L, s, m));
    for (const job of jobs)
      await phase(
        L,
        log,
        `seed${s}-train-${job.name}`,
        join(L.checkpoint(s, job.name, job.steps), "manifest.json"),
        () => trainPhase(c, L, job, log),
      );
    for (const job of jobs)
      await phase(L, log, `seed${s}-generate-${job.name}`, L.generations(s, job.name), () =>
        generatePhase(c, L, s, job.name, L.checkpoint(s, job.name, job.steps), log),
      );
  }
  return writeReport(o.dir);
}

/** The checkpoint a run's generations came from. */
export function checkpointOf(c: DemoConfig, dir: string, seed: number, m: MethodName): string {
  return layout(dir).checkpoint(seed, m, m === "sft" ? c.sft.steps : c.pref.steps);
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
