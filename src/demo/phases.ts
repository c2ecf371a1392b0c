// The demo's phases as functions over the run directory: construct the data, create the model, train, generate.
// Each reads its inputs from and writes its artefacts into the run directory (atomically); the runner decides what
// to skip. Progress goes through the injected DemoLogger.

import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { buildOfflineDataset, checkResponse } from "../construct/index.ts";
import { readJsonFile, readJsonl, renderTracePrompt, writeFileAtomic, writeJsonlAtomic } from "../io/index.ts";
import { countParams, createModel, ModelProvider, saveModelDir } from "../model/index.ts";
import {
  ExampleSchema,
  type Instruction,
  InstructionSchema,
  type IopoGroup,
  type PreferencePair,
} from "../schema/index.ts";
import { runTraining, type StepMetrics, TrainConfigSchema } from "../train/index.ts";
import { copyBase } from "./base.ts";
import type { DemoConfig, MethodName } from "./config.ts";
import type { Generation } from "./results.ts";

// ---- types ----

export interface DemoLogger {
  /** A plain line (phase start, summary). */
  info(line: string): void;
  /** A progress line that the next one replaces on a terminal. */
  progress(line: string): void;
}

/** Paths of the run directory's artefacts: the data once, then one directory per seed (`seed-<s>/`). */
export function layout(dir: string) {
  const run = (seed: number) => join(dir, `seed-${seed}`);
  return {
    config: join(dir, "demo_config.json"),
    data: join(dir, "data"),
    sft: join(dir, "data", "sft.jsonl"),
    groups: join(dir, "data", "groups.jsonl"),
    pairs: join(dir, "data", "pairs.jsonl"),
    eval: join(dir, "data", "eval.jsonl"),
    dataSummary: join(dir, "data", "summary.json"),
    run,
    initModel: (seed: number) => join(run(seed), "models", "init"),
    train: (seed: number, m: MethodName) => join(run(seed), "train", m),
    checkpoint: (seed: number, m: MethodName, steps: number) => join(run(seed), "train", m, `checkpoint-${steps}`),
    refCache: join(dir, "ref-cache"),
    generations: (seed: number, m: MethodName) => join(run(seed), "generations", `${m}.jsonl`),
    phases: join(dir, "phases"),
    results: join(dir, "results.json"),
    report: join(dir, "report.html"),
  };
}
export type Layout = ReturnType<typeof layout>;

export const DataSummarySchema = z.object({
  built: z.object({ sft: z.number(), groups: z.number(), pairs: z.number(), eval: z.number() }),
  kept: z.object({
    sft_examples: z.number(),
    iopo_groups: z.number(),
    dpo_pairs: z.number(),
    eval_items: z.number(),
    eval_single: z.number(),
    eval_multi: z.number(),
  }),
  max_chars: z.number(),
});
export type DataSummary = z.infer<typeof DataSummarySchema>;

// ---- helpers ----

/** Characters of a training record: its rendered prompt plus its response (compared with `max_chars`). */
export const recordChars = (x: Instruction, y: string) => renderTracePrompt(x).length + y.length;
const chars = recordChars;
const groupChars = (g: IopoGroup) => Math.max(...[g.x1, g.x2].flatMap((x) => [chars(x, g.y1), chars(x, g.y2)]));
const pairChars = (p: PreferencePair) => Math.max(chars(p.instruction, p.chosen), chars(p.instruction, p.rejected));

/** "missing_keyword: expected panels, got …" from a checker's issues. */
function why(issues: readonly { code: string; expected?: unknown; got?: unknown }[]): string | undefined {
  if (issues.length === 0) return undefined;
  return issues
    .map(
      (i) =>
        `${i.code}${i.expected !== undefined ? `: expected ${String(i.expected)}` : ""}${i.got !== undefined ? `, got ${String(i.got).slice(0, 60)}` : ""}`,
    )
    .join("; ");
}

// ---- exports ----

/** Phase 1: the offline world's SFT set, IOPO groups, DPO pairs and held-out eval set, written as JSONL. */
export async function constructPhase(c: DemoConfig, L: Layout, log: DemoLogger): Promise<DataSummary> {
  const d = await buildOfflineDataset({
    seed: c.seed,
    n: c.n,
    evalN: c.eval_n,
    keywords: c.world.keywords,
    keywordWeight: c.world.keyword_weight,
    quoteKeywords: c.world.quote_keywords,
  });
  const sft = d.sft.filter((e) => chars(e.instruction, e.response) <= c.max_chars);
  const groups = d.groups.filter((g) => groupChars(g) <= c.max_chars);
  const pairs = d.pairs.filter((p) => pairChars(p) <= c.max_chars);
  await writeJsonlAtomic(L.sft, sft);
  await writeJsonlAtomic(L.groups, groups);
  await writeJsonlAtomic(L.pairs, pairs);
  await writeJsonlAtomic(L.eval, d.eval);
  const single = d.eval.filter((x) => x.constraints.length === 1).length;
  const summary: DataSummary = {
    built: { sft: d.sft.length, groups: d.groups.length, pairs: d.pairs.length, eval: d.eval.length },
    kept: {
      sft_examples: sft.length,
      iopo_groups: groups.length,
      dpo_pairs: pairs.length,
      eval_items: d.eval.length,
      eval_single: single,
      eval_multi: d.eval.length - single,
    },
    max_chars: c.max_chars,
  };
  await writeFileAtomic(L.dataSummary, `${JSON.stringify(summary, null, 2)}\n`);
  log.info(
    `  ${sft.length} SFT examples, ${groups.length} IOPO groups, ${pairs.length} DPO pairs (≤ ${c.max_chars} characters; ` +
      `built ${d.sft.length}/${d.groups.length}/${d.pairs.length}); held out: ${d.eval.length} instructions ` +
      `(${single} single-, ${d.eval.length - single} multi-constraint) from topics never used in training`,
  );
  return summary;
}

/**
 * Phase 2: the seed's starting model — the shipped base (`base: "shipped"`), or a new model whose byte-level BPE
 * tokenizer is trained on the training texts.
 */
export async function initModelPhase(c: DemoConfig, L: Layout, seed: number, log: DemoLogger): Promise<void> {
  if (c.base === "shipped") {
    const b = await copyBase(c, L.initModel(seed));
    log.info(
      `  the shipped base (assets/demo-base/: ${b.model.layers} layers × ${b.model.hidden} hidden, SFT ${b.steps.toLocaleString("en")} ` +
        `steps on ${b.sft_examples.toLocaleString("en")} examples of the training topics) → ${L.initModel(seed)}`,
    );
    return;
  }
  const texts: string[] = [];
  for await (const { value } of readJsonl(L.sft, ExampleSchema))
    texts.push(renderTracePrompt(value.instruction), value.response);
  const m = c.model;
  const model = createModel(texts, {
    arch: m.arch,
    vocabSize: m.vocab_size,
    hidden: m.hidden,
    layers: m.layers,
    heads: m.heads,
    kvHeads: m.kv_heads,
    intermediate: m.intermediate,
    seed,
  });
  await saveModelDir(L.initModel(seed), model);
  log.info(
    `  ${m.arch} ${m.layers} layers × ${m.hidden} hidden, vocab ${model.config.vocab_size}, ` +
      `${countParams(model.params.table).toLocaleString("en")} parameters → ${L.initModel(seed)}`,
  );
}

export interface TrainJob {
  readonly name: MethodName;
  /** The loss (src/train/losses.ts). */
  readonly method: string;
  readonly seed: number;
  readonly model: string;
  readonly data: string;
  readonly format: "sft" | "pairs" | "groups";
  readonly steps: number;
  readonly lr: number;
  readonly batch: number;
  readonly warmup: number;
  /** Method-specific loss settings (β, SimPO's γ, ORPO's λ). */
  readonly loss: { beta?: number; simpo_gamma?: number; orpo_lambda?: number };
  /** Fill the reference log-prob cache with a throwaway one-step run first (see trainPhase). */
  readonly prime?: boolean;
}

/** Phases 3–4: one training run (resumable: checkpoints every quarter of the run; the reference is `model`). */
export async function trainPhase(c: DemoConfig, L: Layout, job: TrainJob, log: DemoLogger): Promise<string> {
  const out = L.train(job.seed, job.name);
  await mkdir(out, { recursive: true });
  const config = TrainConfigSchema.parse({
    method: job.method,
    model: job.model,
    data: job.data,
    format: job.format,
    out,
    lr: job.lr,
    max_steps: job.steps,
    batch: job.batch,
    accum: 1,
    ...job.loss,
    warmup: job.warmup,
    schedule: "cosine",
    max_len: c.max_len,
    seed: job.seed,
    save_every: Math.max(1, Math.floor(job.steps / 4)),
    resume: true,
    ref_cache: L.refCache,
    threads: c.threads,
  });
  if (job.prime) {
    // A throwaway one-step run fills the reference cache, so every method's run reads its reference log-probs from
    // the cache and runs on the same data start alike. (Added while hunting a first-step difference, 4.57 against
    // 1.58 in gradient norm for DPO* on seed 0, whose cause was the engine's Max gradient at ties — fixed there.)
    const dir = join(L.run(job.seed), "prime", job.name);
    await rm(dir, { recursive: true, force: true });
    await runTraining(TrainConfigSchema.parse({ ...config, out: dir, stop_at: 1, resume: false, save_every: 0 }), {
      info: () => {},
      step: () => {},
    });
    await rm(dir, { recursive: true, force: true });
  }
  const fmt = (m: StepMetrics, k: string, d = 3) =>
    m[k] === undefined ? "" : ` ${k.replace("rewards/", "")} ${m[k]!.toFixed(d)}`;
  const r = await runTraining(config, {
    info: (line) => {
      if (!line.startsWith("config:") && !line.startsWith("checkpoint")) log.info(`  ${line}`);
    },
    step: (m, total, eta) =>
      log.progress(
        `  seed ${job.seed} ${job.name} step ${m.step}/${total} loss ${m.loss!.toFixed(4)}${fmt(m, "rewards/output_accuracies", 2)}${fmt(m, "rewards/input_accuracies", 2)}${fmt(m, "rewards/margins")}${fmt(m, "rewards/accuracies", 2)} | ${Math.round(m.tokens_per_s!)} tok/s | ETA ${Math.round(eta)} s`,
      ),
  });
  return r.checkpoint;
}

/** Phase 5: greedy generation on the held-out set by one model, each response rule-checked per constraint. */
export async function generatePhase(
  c: DemoConfig,
  L: Layout,
  seed: number,
  name: MethodName,
  modelDir: string,
  log: DemoLogger,
): Promise<Generation[]> {
  const items: Instruction[] = [];
  for await (const { value } of readJsonl(L.eval, InstructionSchema)) items.push(value);
  const provider = await ModelProvider.open(modelDir, c.threads || undefined);
  const gens: Generation[] = [];
  try {
    for (let from = 0; from < items.length; from += c.gen_batch) {
      const batch = items.slice(from, from + c.gen_batch);
      const rs = await provider.chatMany(
        batch.map((ins) => [{ role: "user" as const, content: renderTracePrompt(ins) }]),
        { max_tokens: c.max_tokens, temperature: 0 },
      );
      for (const [k, ins] of batch.entries()) {
        const r = rs[k]!;
        const v = checkResponse(ins, r.text);
        gens.push({
          id: ins.id,
          model: name,
          seed,
          instruction: ins,
          response: r.text,
          finish: r.finish === "length" ? "length" : "stop",
          completion_tokens: r.usage.completion_tokens,
          verdicts: v.constraints.map((x) => ({
            text: x.text,
            ...(x.type ? { type: x.type } : {}),
            ok: x.ok,
            ...(why(x.issues) ? { why: why(x.issues) } : {}),
          })),
          all_ok: v.all_ok === true,
        });
      }
      log.progress(
        `  seed ${seed} ${name}: ${gens.length}/${items.length} generated, ${gens.filter((g) => g.all_ok).length} fully correct`,
      );
    }
  } finally {
    await provider.close();
  }
  await writeJsonlAtomic(L.generations(seed, name), gens);
  return gens;
}

/** The data summary written by the construct phase. */
export function readDataSummary(L: Layout): Promise<DataSummary> {
  return readJsonFile(L.dataSummary, DataSummarySchema, "rerun `iopo demo` with the same --out to rebuild it");
}
