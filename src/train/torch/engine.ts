// `iopo train --engine torch`: the hand-off to the Python ranks. Writes into <out>/torch/ the tokenized records,
// the step plan (plan.ts), the reference log-probs, the resolved loss and the job; starts the ranks (launch.ts);
// turns rank 0's raw per-step numbers into the same metrics.jsonl lines (computeLoss metrics) and progress line as
// the embedded trainer. Reference log-probs missing from the shared cache are computed by the ranks first.

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, ConfigError, IopoError } from "../../errors.ts";
import { writeFileAtomic } from "../../io/index.ts";
import {
  configDtype,
  initLora,
  type ModelConfig,
  modelDims,
  paramTable,
  ropeFrequencies,
  SIDE_FILES,
  saveAdapter,
} from "../../model/index.ts";
import { latestCheckpoint, loadCheckpoint, paramTableHash } from "../checkpoint.ts";
import type { TokenizedRecord } from "../collate.ts";
import { defaultRefCache, lossOf, type TrainConfig } from "../config.ts";
import { computeLoss, needsReference, type ResolvedLoss, resolveLoss } from "../losses.ts";
import { meanMetrics, trimMetrics } from "../metrics.ts";
import { type Plan, planSteps } from "../plan.ts";
import { RefCache, type RefStats } from "../refcache.ts";
import type { StepMetrics, TrainLogger, TrainResult } from "../trainer.ts";
import { launchLines, launchRanks, type RankEvent } from "./launch.ts";
import { adapterTable, loraOf } from "./lora.ts";

// ---- types ----

export interface TorchRunInputs {
  readonly config: TrainConfig;
  readonly modelConfig: ModelConfig;
  readonly records: readonly TokenizedRecord[];
  readonly logger: TrainLogger;
  /** Identity of the reference model (weightsHash), the reference cache's key. */
  readonly refHash: string;
}

// ---- helpers ----

const exists = (p: string) =>
  readFile(p).then(
    () => true,
    () => false,
  );

/** Threads per rank: --threads, else the machine's cores shared by the ranks. */
async function threadsPerRank(c: TrainConfig): Promise<number> {
  const os = await import("node:os");
  return c.threads > 0 ? c.threads : Math.max(1, Math.floor(os.availableParallelism() / (c.nproc ?? 1)));
}

/** The job file every rank reads (python/iopo_torch/train.py); paths are absolute or relative to the CLI's cwd. */
function jobOf(
  c: TrainConfig,
  cfg: ModelConfig,
  refCfg: ModelConfig,
  loss: ResolvedLoss,
  plan: Plan,
  dir: string,
  longest: number,
) {
  const table = paramTable(cfg);
  // Dynamic NTK scaling depends on the length: resolved for the longest sequence of the data.
  const rope = ropeFrequencies(cfg, longest);
  return {
    version: 1,
    dir,
    out: c.out,
    init: c.model,
    ref: c.ref ?? c.model,
    model_config: cfg,
    ref_config: refCfg,
    table: table.map((r) => ({ key: r.key, shape: r.shape, decay: r.decay })),
    param_table_hash: paramTableHash(table),
    rope: { inv_freq: [...rope.invFreq], attention_factor: rope.attentionFactor, window: modelDims(cfg).window },
    loss,
    batch: c.batch,
    accum: c.accum,
    clip: c.clip,
    adam: { beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_eps, weight_decay: c.weight_decay },
    device: c.device ?? "cpu",
    dtype: c.dtype ?? "fp32",
    grad_checkpointing: c.grad_checkpointing === true,
    fsdp: c.fsdp === true,
    save_every: c.save_every,
    stop_at: plan.stopAt,
    total_steps: plan.total,
    save_dtype: configDtype(cfg),
    side_files: [] as string[],
    checkpoint_config: { ...c, loss_resolved: loss },
    resume: null as null | { dir: string; adam_t: number },
  };
}

// ---- exports ----

export async function trainTorch(inp: TorchRunInputs): Promise<TrainResult> {
  const { config: c, logger, records, modelConfig: cfg } = inp;
  const loss = resolveLoss(lossOf(c));
  const nproc = c.nproc ?? 1;
  const world = nproc * (c.nnodes ?? 1);
  const dir = join(c.out, "torch");
  await mkdir(dir, { recursive: true });
  const threads = await threadsPerRank(c);
  const lora = loraOf(c);
  // What is trained: the model's tensors, or under LoRA the adapter's (the base stays frozen).
  const table = lora ? adapterTable(cfg, lora) : paramTable(cfg);

  // Start or resume (the embedded trainer's rules: a fresh run never overwrites checkpoints).
  const found = await latestCheckpoint(c.out);
  if (found && !c.resume)
    throw new ConfigError("the output directory already holds checkpoints", {
      path: found,
      hint: "pass --resume to continue that run, or choose another --out",
    });
  const ck = c.resume && found ? await loadCheckpoint(found, table) : null;
  const plan = planSteps(c, records, world, ck?.state ?? null);
  const refCfg = c.ref ? JSON.parse(await readFile(join(c.ref, "config.json"), "utf8")) : cfg;
  const longest = Math.max(...records.flatMap((r) => r.seqs.map((q) => q.prompt.length + q.response.length)));
  const job = jobOf(c, cfg, refCfg, loss, plan, dir, longest);
  for (const name of SIDE_FILES) if (await exists(join(c.model, name))) job.side_files.push(join(c.model, name));
  if (ck) job.resume = { dir: ck.dir, adam_t: ck.manifest.adam_t };
  // Full fine-tuning resumes from the checkpoint's weights; LoRA from the base plus the checkpoint's adapter.
  if (ck && !lora) job.init = ck.dir;
  // A fresh adapter starts from model/lora.ts initLora (the embedded engine's A and B for the same seed), so both
  // engines train the same adapter.
  const loraInit = join(dir, "adapter-init");
  if (lora && !ck) await saveAdapter(loraInit, lora, initLora(table, c.seed), c.model);
  const jobAll = {
    ...job,
    param_table_hash: paramTableHash(table),
    lora: lora && { ...lora, init: ck ? null : loraInit },
    // The reference is the base with the adapters off when it is the starting model (no second copy).
    ref_is_base: lora !== null && (!c.ref || c.ref === c.model),
    base_name: c.model,
  };

  await writeFileAtomic(
    join(dir, "records.jsonl"),
    records.map((r) => `${JSON.stringify({ id: r.id, seqs: r.seqs })}\n`).join(""),
  );
  await writeFileAtomic(join(dir, "plan.json"), `${JSON.stringify({ orders: plan.orders, steps: plan.steps })}\n`);

  const metricsPath = join(c.out, "metrics.jsonl");
  if (ck) {
    await trimMetrics(metricsPath, ck.state.step);
    logger.info(`resumed from ${ck.dir} at step ${ck.state.step}`);
  } else {
    if (c.resume) logger.info(`no checkpoint in ${c.out}; starting at step 0`);
    await writeFile(metricsPath, "");
  }
  const jobPath = join(dir, "job.json");
  await rm(join(dir, "refs.json"), { force: true });
  await rm(join(dir, "ref_todo.jsonl"), { force: true });
  // Run: rank 0's events become metrics lines, progress lines and checkpoint messages.
  let last: StepMetrics | null = null;
  let lastDir = found ?? "";
  let steps = plan.start;
  const run: { failed: Error | null; onLogps: (v: number[]) => void } = { failed: null, onLogps: () => {} };
  const refs: number[][] = [];
  const byStep = new Map(plan.steps.map((s) => [s.step, s]));
  const started = performance.now();
  const onEvent = async (e: RankEvent) => {
    if (e.event === "logps") run.onLogps(e.values as number[]);
    else if (e.event === "ready")
      logger.info(
        `torch ${String(e.torch)}: ${String(e.world)} rank(s), ${String(e.model)} model, ${String(e.params)} parameters`,
      );
    else if (e.event === "done" && typeof e.peak_gpu_bytes === "number")
      logger.info(`peak GPU memory of rank 0: ${(e.peak_gpu_bytes / 2 ** 30).toFixed(2)} GiB`);
    else if (e.event === "checkpoint") {
      lastDir = String(e.dir);
      logger.info(`checkpoint ${lastDir}`);
    } else if (e.event === "error") {
      const f = e as unknown as {
        message: string;
        path?: string;
        field?: string;
        expected?: string;
        got?: string;
        hint?: string;
        kind?: string;
      };
      const fields = { path: f.path, field: f.field, expected: f.expected, got: f.got, hint: f.hint };
      run.failed = f.kind === "config" ? new ConfigError(f.message, fields) : new CheckpointError(f.message, fields);
    } else if (e.event === "step") {
      const planned = byStep.get(Number(e.step))!;
      const lp = e.lp as number[][];
      const tokens = e.tokens as { prompt: number; response: number };
      if (e.applied === false) {
        const l = Number(e.loss);
        run.failed = new IopoError(
          `non-finite ${Number.isFinite(l) ? "gradient norm" : "loss"} at step ${planned.step} (loss ${e.loss}, grad norm ${e.grad_norm}); stopped without updating`,
          {
            path: lastDir || undefined,
            hint: `the last good checkpoint is ${lastDir || "(none yet: the run made no checkpoint)"}; lower --lr or raise --warmup and --resume`,
          },
        );
        return;
      }
      const perRecord = planned.records.map(
        (ri, i) =>
          computeLoss({ logp: lp[i]!, ref: refs[ri]!, tokens: records[ri]!.seqs.map((s) => s.response.length) }, loss)
            .metrics,
      );
      const sec = Number(e.seconds);
      steps = planned.step;
      last = {
        step: planned.step,
        epoch: planned.state.epoch + planned.state.cursor / records.length,
        loss: Number(e.loss),
        lr: planned.lr,
        grad_norm: Number(e.grad_norm),
        tokens_per_s: (tokens.prompt + tokens.response) / sec,
        step_s: sec,
        tokens_prompt: tokens.prompt,
        tokens_response: tokens.response,
        ...meanMetrics(perRecord),
      };
      await writeFile(metricsPath, `${JSON.stringify(last)}\n`, { flag: "a" });
      const done = steps - plan.start;
      logger.step(last, plan.total, ((performance.now() - started) / 1000 / done) * (plan.stopAt - steps));
    }
  };
  // One launch: the ranks first score the sequences missing from the reference cache (fill calls `score` once,
  // with all of them), print them, and wait for refs.json, which is written once the cache has them.
  const S = records[0]!.seqs.length;
  const ranks: { done: Promise<void> | null } = { done: null };
  const launch = (mode: "train" | "logps") =>
    launchRanks({ mode, job: jobPath, nproc, threads, onEvent, explain: () => run.failed });
  let ref: number[][] = records.map((r) => r.seqs.map(() => 0));
  let refStats: RefStats = { computed: 0, cached: 0 };
  if (needsReference(loss.name)) {
    const cache = await RefCache.open(c.ref_cache ?? defaultRefCache(), inp.refHash);
    const { values, stats } = await cache.fill(
      records.flatMap((r) => r.seqs),
      async (todo) => {
        await writeFileAtomic(join(dir, "ref_todo.jsonl"), todo.map((s) => `${JSON.stringify(s)}\n`).join(""));
        await writeFileAtomic(jobPath, `${JSON.stringify({ ...jobAll, ref_todo: true })}\n`);
        const got = new Promise<number[]>((resolve) => (run.onLogps = resolve));
        // --print-launch: the ranks only score here; the printed commands train later.
        const done = launch(c.print_launch ? "logps" : "train");
        if (!c.print_launch) ranks.done = done;
        const values = await Promise.race([
          got,
          done.then(() => {
            throw new IopoError("the PyTorch ranks ended without reference log-probs", { path: dir });
          }),
        ]);
        if (values.length !== todo.length)
          throw new IopoError("the PyTorch ranks returned the wrong number of reference log-probs", {
            path: dir,
            expected: String(todo.length),
            got: String(values.length),
          });
        return Float32Array.from(values);
      },
      Number.POSITIVE_INFINITY,
    );
    refStats = stats;
    logger.info(`reference log-probs: ${stats.computed} computed, ${stats.cached} from the cache (${cache.path})`);
    ref = records.map((_, i) => [...values.subarray(i * S, (i + 1) * S)]);
  } else logger.info(`reference log-probs: not needed (${loss.name} has no reference model)`);
  refs.splice(0, refs.length, ...ref);
  if (!ranks.done) await writeFileAtomic(jobPath, `${JSON.stringify(jobAll)}\n`);
  await writeFileAtomic(join(dir, "refs.json"), `${JSON.stringify(ref)}\n`);
  if (c.print_launch) {
    for (const l of launchLines(jobPath, c.nnodes ?? 1, nproc)) logger.info(l);
    return { steps: plan.start, checkpoint: found ?? "", ref: refStats, last: null, params: [] };
  }
  if (!ranks.done && plan.steps.length > 0) ranks.done = launch("train");
  if (ranks.done) await ranks.done;
  if (run.failed) throw run.failed;
  await rm(join(dir, "ref_todo.jsonl"), { force: true });
  return { steps, checkpoint: lastDir, ref: refStats, last, params: [] };
}
