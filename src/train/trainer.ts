// The training loop (STYLE 25): lr = schedule(step) → micro-batches (each record weighted 1/records of the step,
// so k micro-batches of b equal one batch of k·b) → NaN/inf guard → clip → AdamW → log → checkpoint → stop.
// Reference log-probs come from the cache before the first step. Data loading and printing live in the CLI.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AdamW } from "../engine/index.ts";
import { ConfigError, IopoError } from "../errors.ts";
import type { ModelDir } from "../model/index.ts";
import { loadModelDir } from "../model/index.ts";
import { Rng } from "../model/rng.ts";
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type TrainerState } from "./checkpoint.ts";
import type { TokenizedRecord } from "./collate.ts";
import { defaultRefCache, lossOf, scheduleOf, type TrainConfig, totalSteps } from "./config.ts";
import { computeLoss, LOSSES, type LossParams } from "./losses.ts";
import { graphLoss, type MicroBatch, TrainPrograms } from "./program.ts";
import { RefCache, type RefStats, weightsHash } from "./refcache.ts";
import { learningRate } from "./schedule.ts";

// ---- types ----

/** One line of metrics.jsonl. */
export type StepMetrics = Record<string, number>;

export interface TrainLogger {
  /** A plain message (config, truncation report, checkpoint written). */
  info(line: string): void;
  /** After every step: its metrics, the step count of the run and the estimated seconds left. */
  step(m: StepMetrics, total: number, etaS: number): void;
}

export interface RunInputs {
  readonly config: TrainConfig;
  /** The starting model (its tokenizer files travel into every checkpoint). */
  readonly model: ModelDir;
  readonly reference: ModelDir;
  readonly records: readonly TokenizedRecord[];
  readonly logger: TrainLogger;
}

export interface TrainResult {
  readonly steps: number;
  readonly checkpoint: string;
  readonly ref: RefStats;
  readonly last: StepMetrics | null;
  readonly params: Float32Array[];
}

// ---- helpers ----

/** Preferred sequences that carry the optional SFT term, by record kind size (DESIGN.md: y1|x1 and y2|x2). */
const PREFERRED: Record<number, readonly number[]> = { 4: [0, 2], 2: [0], 1: [0] };

/** The next optimizer step's records: up to batch·accum from this epoch's order (a new epoch reshuffles). */
function nextChunk(st: TrainerState, n: number, per: number, rng: Rng): number[] {
  if (st.cursor >= st.order.length) {
    st.epoch += 1;
    st.order = rng.permutation(n);
    st.cursor = 0;
    st.rng = rng.state;
  }
  const chunk = st.order.slice(st.cursor, st.cursor + per);
  st.cursor += chunk.length;
  return chunk;
}

/** Feeds of one micro-batch; weights make the step's loss a mean over the chunk's records. */
function microBatch(
  recs: readonly TokenizedRecord[],
  ref: readonly Float64Array[],
  chunkSize: number,
  chunkTokens: number,
  p: LossParams,
): MicroBatch {
  const S = recs[0]!.seqs.length;
  const nllWeight = new Float32Array(recs.length * S);
  recs.forEach((r, i) => {
    if (p.name === "sft")
      nllWeight[i] = 1 / chunkTokens; // SFT: summed NLL / response tokens of the step
    else if (p.sft_weight)
      for (const s of PREFERRED[S]!)
        nllWeight[i * S + s] = p.sft_weight / chunkSize / Math.max(1, r.seqs[s]!.response.length);
  });
  return {
    seqs: recs.flatMap((r) => r.seqs),
    ref: Float32Array.from(ref.flatMap((x) => [...x])),
    nllWeight,
    recordWeight: new Float32Array(recs.length).fill(1 / chunkSize),
  };
}

function globalNorm(grads: readonly Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

/** Mean of per-record metrics (TRL names), plus the step's scalars. */
function meanMetrics(per: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of per) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v / per.length;
  return out;
}

/** Keep metrics lines up to `step` (a resumed run rewrites what follows). */
async function trimMetrics(path: string, step: number): Promise<void> {
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch {
    return;
  }
  const keep = text.split("\n").filter((l) => l.trim() && (JSON.parse(l) as { step: number }).step <= step);
  await writeFile(path, keep.map((l) => `${l}\n`).join(""));
}

/**
 * Reference log-probs per record, computed once and cached on disk by reference weights + token ids. SFT has no
 * preference term, so it needs none (zeros, nothing computed).
 */
async function referenceLogps(
  inp: RunInputs,
  programs: TrainPrograms,
  loss: LossParams,
  logger: RunInputs["logger"],
): Promise<{ ref: Float64Array[]; stats: RefStats }> {
  const { config: c, records } = inp;
  if (LOSSES[loss.name].margin === null) {
    logger.info("reference log-probs: not needed (no preference term)");
    return { ref: records.map((r) => new Float64Array(r.seqs.length)), stats: { computed: 0, cached: 0 } };
  }
  const cache = await RefCache.open(
    c.ref_cache ?? defaultRefCache(),
    weightsHash(inp.reference.config, inp.reference.params),
  );
  const { values, stats } = await cache.fill(
    records.flatMap((r) => r.seqs),
    (seqs) => programs.logps(inp.reference.params.tensors, seqs),
  );
  logger.info(`reference log-probs: ${stats.computed} computed, ${stats.cached} from the cache (${cache.path})`);
  const S = records[0]!.seqs.length;
  return { ref: records.map((_, i) => values.subarray(i * S, (i + 1) * S)), stats };
}

// ---- exports ----

export async function train(inp: RunInputs): Promise<TrainResult> {
  const { config: c, logger, records } = inp;
  const loss = lossOf(c);
  const table = inp.model.params.table;
  const programs = await TrainPrograms.create(inp.model.config, graphLoss(loss), c.threads || undefined);
  try {
    const { ref, stats: refStats } = await referenceLogps(inp, programs, loss, logger);
    const S = records[0]!.seqs.length;

    // Start or resume.
    const total = totalSteps(c, records.length);
    const schedule = scheduleOf(c, total);
    const params: Float32Array[] = inp.model.params.tensors.map((t) => Float32Array.from(t));
    const opt = new AdamW(
      table.map((r, i) => ({ data: params[i]!, decay: r.decay })),
      {
        beta1: c.adam_beta1,
        beta2: c.adam_beta2,
        eps: c.adam_eps,
        weightDecay: c.weight_decay,
      },
    );
    let rng = Rng.fromSeed(c.seed);
    let st: TrainerState = {
      step: 0,
      epoch: 0,
      cursor: 0,
      order: rng.permutation(records.length),
      rng: rng.state,
      total_steps: total,
      tokens: 0,
    };
    const metricsPath = join(c.out, "metrics.jsonl");
    const found = await latestCheckpoint(c.out);
    if (found && !c.resume)
      throw new ConfigError("the output directory already holds checkpoints", {
        path: found,
        hint: "pass --resume to continue that run, or choose another --out",
      });
    if (c.resume && found) {
      const ck = await loadCheckpoint(found, table);
      const saved = (await loadModelDir(found)).params.tensors;
      for (const [i, p] of params.entries()) {
        p.set(saved[i]!);
        opt.m[i]!.set(ck.m[i]!);
        opt.v[i]!.set(ck.v[i]!);
      }
      opt.t = ck.manifest.adam_t;
      st = ck.state;
      rng = new Rng(st.rng);
      await trimMetrics(metricsPath, st.step);
      logger.info(`resumed from ${found} at step ${st.step}`);
    } else {
      if (c.resume) logger.info(`no checkpoint in ${c.out}; starting at step 0`);
      await mkdir(c.out, { recursive: true });
      await writeFile(metricsPath, "");
    }

    const per = c.batch * c.accum;
    const stopAt = Math.min(c.stop_at > 0 ? c.stop_at : st.total_steps, st.total_steps);
    let last: StepMetrics | null = null;
    let lastDir = found ?? "";
    const started = performance.now();
    const startStep = st.step;
    const save = async (l: number | null) => {
      const model = { ...inp.model, params: { table, tensors: params } };
      lastDir = await saveCheckpoint(c.out, model, { m: opt.m, v: opt.v, t: opt.t }, st, { ...c }, l);
      logger.info(`checkpoint ${lastDir}`);
    };
    while (st.step < stopAt) {
      const t0 = performance.now();
      const lr = learningRate(schedule, st.step);
      const chunk = nextChunk(st, records.length, per, rng);
      const chunkTokens = chunk.reduce((a, i) => a + records[i]!.seqs.reduce((b, s) => b + s.response.length, 0), 0);
      let grads: Float32Array[] | null = null;
      let stepLoss = 0;
      let tokens = 0;
      const perRecord: Record<string, number>[] = [];
      for (let k = 0; k < chunk.length; k += c.batch) {
        const ids = chunk.slice(k, k + c.batch);
        const recs = ids.map((i) => records[i]!);
        const out = await programs.step(
          params,
          microBatch(
            recs,
            ids.map((i) => ref[i]!),
            chunk.length,
            chunkTokens,
            loss,
          ),
        );
        stepLoss += out.loss;
        if (!grads) grads = out.grads.map((g) => Float32Array.from(g));
        else
          grads.forEach((g, j) => {
            const d = out.grads[j]!;
            for (let e = 0; e < g.length; e++) g[e]! += d[e]!;
          });
        recs.forEach((r, i) => {
          const logp = [...out.lp.subarray(i * S, (i + 1) * S)];
          tokens += r.seqs.reduce((a, s) => a + s.prompt.length + s.response.length, 0);
          perRecord.push(
            computeLoss({ logp, ref: [...ref[ids[i]!]!], tokens: r.seqs.map((s) => s.response.length) }, loss).metrics,
          );
        });
      }
      const gradNorm = globalNorm(grads!);
      if (!Number.isFinite(stepLoss) || !Number.isFinite(gradNorm))
        throw new IopoError(
          `non-finite ${Number.isFinite(stepLoss) ? "gradient norm" : "loss"} at step ${st.step + 1} (loss ${stepLoss}, grad norm ${gradNorm}); stopped without updating`,
          {
            path: lastDir || undefined,
            hint: `the last good checkpoint is ${lastDir || "(none yet: the run made no checkpoint)"}; lower --lr or raise --warmup and --resume`,
          },
        );
      if (c.clip > 0 && gradNorm > c.clip)
        for (const g of grads!) for (let e = 0; e < g.length; e++) g[e]! *= c.clip / (gradNorm + 1e-6);
      opt.step(grads!, lr);
      st.step += 1;
      st.tokens += tokens;
      const sec = (performance.now() - t0) / 1000;
      last = {
        step: st.step,
        epoch: st.epoch + st.cursor / records.length,
        loss: stepLoss,
        lr,
        grad_norm: gradNorm,
        tokens_per_s: tokens / sec,
        step_s: sec,
        ...meanMetrics(perRecord),
      };
      await writeFile(metricsPath, `${JSON.stringify(last)}\n`, { flag: "a" });
      const done = st.step - startStep;
      logger.step(last, st.total_steps, ((performance.now() - started) / 1000 / done) * (stopAt - st.step));
      if (c.save_every > 0 && st.step % c.save_every === 0 && st.step < stopAt) await save(stepLoss);
    }
    if (!lastDir.endsWith(`checkpoint-${st.step}`)) await save(last?.loss ?? null);
    return { steps: st.step, checkpoint: lastDir, ref: refStats, last, params };
  } finally {
    await programs.release();
  }
}
