// The training loop (STYLE 25): lr = schedule(step) → the next records → the one training step (step.ts: micro-
// batches, NaN/inf guard, clip, AdamW) → log → checkpoint → stop. Reference log-probs come from the cache before the
// first step. Data loading and printing live in the CLI.

import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError, IopoError } from "../errors.ts";
import {
  float32Tensors,
  formatBytes,
  type HeldTensor,
  initLora,
  isHalfTensor,
  loraTable,
  type ModelDir,
  Rng,
} from "../model/index.ts";
import {
  type CheckpointWeights,
  latestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.ts";
import type { TokenizedRecord } from "./collate.ts";
import { defaultRefCache, loraOf, lossOf, type TrainConfig } from "./config.ts";
import { computeLoss, needsReference, type ResolvedLoss, resolveLoss } from "./losses.ts";
import { meanMetrics, trimMetrics } from "./metrics.ts";
import { planSteps } from "./plan.ts";
import { RefCache, type RefStats, weightsHash } from "./refcache.ts";
import { stepOptions, TrainStep } from "./step.ts";

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
  /**
   * The starting model (its tokenizer files travel into every checkpoint). Float32, except a LoRA run's frozen
   * base, whose BF16/F16 matrices may be held in half precision (`loadModelDir(dir, { keepHalf: true })`).
   */
  readonly model: ModelDir<HeldTensor>;
  readonly reference: ModelDir<HeldTensor>;
  readonly records: readonly TokenizedRecord[];
  readonly logger: TrainLogger;
  /**
   * Hand the model's weight arrays to the optimizer instead of copying them (full fine-tuning): one copy of the
   * weights in memory. The reference log-probs are computed before the first update, so a policy that is its own
   * reference is still scored as loaded; afterwards `model.params.tensors` are the trained weights (updated in place
   * by every step). `iopo train` sets it; tests that reuse a model leave it off.
   */
  readonly handOver?: boolean;
}

export interface TrainResult {
  readonly steps: number;
  readonly checkpoint: string;
  readonly ref: RefStats;
  readonly last: StepMetrics | null;
  readonly params: Float32Array[];
}

// ---- helpers ----

/**
 * Reference log-probs per record, computed once and cached on disk by reference weights + token ids. SFT has no
 * preference term, so it needs none (zeros, nothing computed).
 */
async function referenceLogps(
  inp: RunInputs,
  step: TrainStep,
  loss: ResolvedLoss,
  logger: RunInputs["logger"],
): Promise<{ ref: Float64Array[]; stats: RefStats }> {
  const { config: c, records } = inp;
  if (!needsReference(loss.name)) {
    logger.info(`reference log-probs: not needed (${loss.name} has no reference model)`);
    return { ref: records.map((r) => new Float64Array(r.seqs.length)), stats: { computed: 0, cached: 0 } };
  }
  const cache = await RefCache.open(
    c.ref_cache ?? defaultRefCache(),
    weightsHash(inp.reference.config, inp.reference.params),
  );
  const { values, stats } = await cache.fill(
    records.flatMap((r) => r.seqs),
    (seqs) => step.logps(inp.reference.params.tensors, seqs),
  );
  logger.info(`reference log-probs: ${stats.computed} computed, ${stats.cached} from the cache (${cache.path})`);
  const S = records[0]!.seqs.length;
  return { ref: records.map((_, i) => values.subarray(i * S, (i + 1) * S)), stats };
}

/** How a LoRA run holds its frozen base: matrices kept in half precision, and the memory that saves. */
function heldLine(tensors: readonly HeldTensor[]): string {
  const half = tensors.filter(isHalfTensor);
  if (half.length === 0)
    return "LoRA base held in float32 (no BF16/F16 matrices: a float32 checkpoint, or an adapter directory merged into its base)";
  const values = half.reduce((a, t) => a + t.bits.length, 0);
  return `LoRA base held as stored: ${half.length} matrices in ${half[0]!.dtype} (${formatBytes(2 * values)}; ${formatBytes(4 * values)} in float32), upcast per use`;
}

// ---- exports ----

export async function train(inp: RunInputs): Promise<TrainResult> {
  const { config: c, logger, records } = inp;
  const loss = resolveLoss(lossOf(c));
  const lora = loraOf(c);
  if (lora && inp.reference !== inp.model)
    throw new ConfigError("with LoRA the reference is the base model with its adapters off", {
      field: "--ref",
      expected: "no --ref (the base --model is the reference, as in the authors' LoRA runs)",
      got: c.ref ?? "another reference model",
      hint: "drop --ref, or train without --lora-rank",
    });
  if (lora && lora.dropout > 0)
    throw new ConfigError("the embedded engine has no LoRA dropout", {
      field: "--lora-dropout",
      expected: "0 (the authors' setting)",
      got: String(lora.dropout),
      hint: "use --lora-dropout 0, or --engine torch for dropout on the adapter branch",
    });
  // Trained tensors: the whole model (handed over, or copied when the caller keeps using it), or (LoRA) the adapter
  // on the frozen base — no second copy of the base.
  const table = lora ? loraTable(inp.model.config, lora) : inp.model.params.table;
  const initial = lora
    ? initLora(table, c.seed).tensors
    : inp.handOver
      ? float32Tensors(inp.model.params.tensors)
      : float32Tensors(inp.model.params.tensors).map((t) => Float32Array.from(t));
  if (lora) logger.info(heldLine(inp.model.params.tensors));
  const step = await TrainStep.create(
    inp.model.config,
    table,
    initial,
    loss,
    stepOptions(c, inp.records),
    lora ? { scale: lora.alpha / lora.rank, base: inp.model.params.tensors } : undefined,
  );
  try {
    const { ref, stats: refStats } = await referenceLogps(inp, step, loss, logger);

    const metricsPath = join(c.out, "metrics.jsonl");
    const found = await latestCheckpoint(c.out);
    if (found && !c.resume)
      throw new ConfigError("the output directory already holds checkpoints", {
        path: found,
        hint: "pass --resume to continue that run, or choose another --out",
      });
    let resumed: TrainerState | null = null;
    if (c.resume && found) {
      const ck = await loadCheckpoint(found, table);
      step.restore(ck.weights, ck.m, ck.v, ck.manifest.adam_t);
      resumed = ck.state;
      await trimMetrics(metricsPath, resumed.step);
      logger.info(`resumed from ${found} at step ${resumed.step}`);
    } else {
      if (c.resume) logger.info(`no checkpoint in ${c.out}; starting at step 0`);
      await mkdir(c.out, { recursive: true });
      await writeFile(metricsPath, "");
    }

    // The records and learning rate of every step (plan.ts: the seeded per-epoch order, as the PyTorch back end uses).
    const plan = planSteps(c, records, 1, resumed);
    const stopAt = plan.stopAt;
    // Before the first step (replaced by each planned step's state): epoch 0's order, drawn from the seed.
    const rng = Rng.fromSeed(c.seed);
    let st: TrainerState = resumed ?? {
      step: 0,
      epoch: 0,
      cursor: 0,
      order: rng.permutation(records.length),
      rng: rng.state,
      total_steps: plan.total,
      tokens: 0,
    };
    let last: StepMetrics | null = null;
    let lastDir = found ?? "";
    const started = performance.now();
    const startStep = st.step;
    const save = async (l: number | null) => {
      const params = { table, tensors: step.params };
      const weights: CheckpointWeights = lora
        ? { kind: "adapter", spec: lora, params, base: resolve(c.model), files: inp.model.files }
        : { kind: "model", model: { ...inp.model, params } };
      lastDir = await saveCheckpoint(c.out, weights, step.state(), st, { ...c, loss_resolved: loss }, l);
      logger.info(`checkpoint ${lastDir}`);
    };
    for (const p of plan.steps) {
      const t0 = performance.now();
      const { lr } = p;
      const recs = p.records.map((i) => records[i]!);
      const refs = p.records.map((i) => ref[i]!);
      const out = await step.run(recs, refs, lr);
      if (!out.applied)
        throw new IopoError(
          `non-finite ${Number.isFinite(out.loss) ? "gradient norm" : "loss"} at step ${st.step + 1} (loss ${out.loss}, grad norm ${out.gradNorm}); stopped without updating`,
          {
            path: lastDir || undefined,
            hint: `the last good checkpoint is ${lastDir || "(none yet: the run made no checkpoint)"}; lower --lr or raise --warmup and --resume`,
          },
        );
      const perRecord = recs.map(
        (r, i) =>
          computeLoss({ logp: [...out.lp[i]!], ref: [...refs[i]!], tokens: r.seqs.map((s) => s.response.length) }, loss)
            .metrics,
      );
      const tokens = out.tokens.prompt + out.tokens.response;
      st = { ...p.state, step: p.step, order: [...plan.orders[p.state.epoch]!], total_steps: plan.total };
      const sec = (performance.now() - t0) / 1000;
      last = {
        step: st.step,
        epoch: st.epoch + st.cursor / records.length,
        loss: out.loss,
        lr,
        grad_norm: out.gradNorm,
        tokens_per_s: tokens / sec,
        step_s: sec,
        tokens_prompt: out.tokens.prompt,
        tokens_response: out.tokens.response,
        ...meanMetrics(perRecord),
      };
      await writeFile(metricsPath, `${JSON.stringify(last)}\n`, { flag: "a" });
      const done = st.step - startStep;
      logger.step(last, st.total_steps, ((performance.now() - started) / 1000 / done) * (stopAt - st.step));
      if (c.save_every > 0 && st.step % c.save_every === 0 && st.step < stopAt) await save(out.loss);
    }
    if (!lastDir.endsWith(`checkpoint-${st.step}`)) await save(last?.loss ?? null);
    // The optimizer's own arrays (no copy): nothing updates them once the loop is over.
    return { steps: st.step, checkpoint: lastDir, ref: refStats, last, params: [...step.params] };
  } finally {
    await step.close();
  }
}
