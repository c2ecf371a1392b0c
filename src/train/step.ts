// The one training step (issue 13): records of an optimizer step → micro-batches weighted so that k micro-batches
// of b equal one batch of k·b → forward + backward into reused gradient buffers (accumulated) → NaN/inf guard →
// global-norm clip → AdamW (a SIMD kernel on the calling thread). `iopo train`, `iopo bench train`, `iopo logps` and
// the demo all run this. Does not choose records, schedule the learning rate, log or checkpoint (trainer.ts does).

import os from "node:os";
import { AdamW } from "../engine/index.ts";
import { type HeldTensor, type ModelConfig, type ParamSpec, type ScoredSequence, splitPays } from "../model/index.ts";
import type { TokenizedRecord } from "./collate.ts";
import type { TrainConfig } from "./config.ts";
import { type ResolvedLoss, SEQUENCE_ORDER } from "./losses.ts";
import { type MicroBatch, TrainPrograms } from "./program.ts";

// ---- types ----

export interface StepOptions {
  /** Records per micro-batch. */
  readonly batch: number;
  /** Clip the global gradient norm to this (0 = off). */
  readonly clip: number;
  /** ONNX Runtime intra-op threads (0 = all cores). */
  readonly threads: number;
  readonly adam: { readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number };
  /** Benchmarks: a path prefix for an ORT profile of the training program. */
  readonly profile?: string;
  /** Score each record's prompt-sharing sequences as one packed row (model/packed.ts). @default false */
  readonly sharedPrefix?: boolean;
  /** Packed rows with split attention (where it pays: `splitPays`, model/packed.ts). @default false */
  readonly splitAttention?: boolean;
  /** Recompute each layer's activations in the backward pass (gradient checkpointing). @default false */
  readonly checkpoint?: boolean;
}

export interface StepRun {
  /** The step's loss (mean over its records; SFT: mean token NLL). */
  readonly loss: number;
  readonly gradNorm: number;
  /** False when the loss or the gradient norm was not finite: nothing was updated. */
  readonly applied: boolean;
  /** Summed response log-probs per record, in SEQUENCE_ORDER. */
  readonly lp: Float32Array[];
  /** Tokens trained on, by role. */
  readonly tokens: { readonly prompt: number; readonly response: number };
  /** Milliseconds: forward + backward (ORT), gradient accumulation and clipping, AdamW. */
  readonly ms: { readonly graph: number; readonly accumulate: number; readonly adamw: number };
}

// ---- helpers ----

/** Feeds of one micro-batch. Record weights make the step's loss a mean over the step's records (SFT: tokens). */
export function microBatch(
  recs: readonly TokenizedRecord[],
  ref: readonly Float64Array[],
  l: ResolvedLoss,
  step: { readonly records: number; readonly responseTokens: number },
): MicroBatch {
  const S = SEQUENCE_ORDER[l.kind].length;
  const nllWeight = new Float32Array(recs.length * S);
  const seqScale = new Float32Array(recs.length * S);
  recs.forEach((r, i) => {
    for (let s = 0; s < S; s++) {
      const y = Math.max(1, r.seqs[s]!.response.length);
      seqScale[i * S + s] = 1 / y;
      const w = l.nll[s]!;
      if (w) nllWeight[i * S + s] = l.norm === "tokens" ? w / step.responseTokens : w / step.records / y;
    }
  });
  return {
    seqs: recs.flatMap((r) => r.seqs),
    ref: Float32Array.from(ref.flatMap((x) => [...x])),
    seqScale,
    nllWeight,
    recordWeight: new Float32Array(recs.length).fill(1 / step.records),
  };
}

/**
 * The step options of a training config and its records (the one place `iopo train` and `iopo bench train` take
 * them from): split attention where the records' packed rows are long enough for it to pay.
 */
export function stepOptions(c: TrainConfig, records: readonly TokenizedRecord[]): StepOptions {
  return {
    batch: c.batch,
    clip: c.clip,
    threads: c.threads,
    adam: { beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_eps, weightDecay: c.weight_decay },
    sharedPrefix: c.shared_prefix,
    splitAttention: c.shared_prefix && splitPays(records.map(pairSizes)),
    checkpoint: c.grad_checkpointing ?? false,
  };
}

// ---- exports ----

/** A record's packed-row sizes: its longest prompt and its responses' lengths. */
export function pairSizes(r: TokenizedRecord): { prompt: number; responses: number[] } {
  return { prompt: Math.max(...r.seqs.map((s) => s.prompt.length)), responses: r.seqs.map((s) => s.response.length) };
}

export class TrainStep {
  /** Scratch gradients for micro-batches after the first (allocated once, only with accumulation). */
  private scratch: Float32Array[] | null = null;

  private constructor(
    readonly programs: TrainPrograms,
    readonly loss: ResolvedLoss,
    readonly opt: AdamW,
    readonly o: StepOptions,
  ) {}

  /**
   * Compile the programs for a model and loss; `initial` weights of `table` are taken over by the optimizer (read
   * `params`). With `lora`, `table` is the adapter's and the base tensors stay frozen (fed, never updated; BF16/F16
   * matrices may stay in half precision, upcast per use in the graph).
   */
  static async create(
    cfg: ModelConfig,
    table: readonly ParamSpec[],
    initial: readonly Float32Array[],
    loss: ResolvedLoss,
    o: StepOptions,
    lora?: { readonly scale: number; readonly base: readonly HeldTensor[] },
  ): Promise<TrainStep> {
    const threads = o.threads || os.availableParallelism();
    const programs = await TrainPrograms.create(cfg, loss, {
      threads,
      ...(o.profile ? { profile: o.profile } : {}),
      sharedPrefix: o.sharedPrefix ?? false,
      splitAttention: o.splitAttention ?? false,
      checkpoint: o.checkpoint ?? false,
      ...(lora ? { lora: { table, scale: lora.scale, base: lora.base } } : {}),
    });
    const opt = new AdamW(
      table.map((row, i) => ({ data: initial[i]!, decay: row.decay, name: row.key })),
      { beta1: o.adam.beta1, beta2: o.adam.beta2, eps: o.adam.eps, weightDecay: o.adam.weightDecay },
    );
    return new TrainStep(programs, loss, opt, o);
  }

  get table(): readonly ParamSpec[] {
    return this.programs.table;
  }

  /** The current weights, in parameter-table order (the arrays `create` was given, trained in place). */
  get params(): Float32Array[] {
    return this.opt.params;
  }

  /** Summed response log-probs of sequences under full-model `tensors` (the scoring program: no adapter). */
  logps(tensors: readonly HeldTensor[], seqs: readonly ScoredSequence[]): Promise<Float32Array> {
    return this.programs.logps(tensors, seqs);
  }

  /**
   * Gradients of the step's loss over `recs` (in micro-batches of `batch`), accumulated in the optimizer's
   * gradient buffers; returns the loss, the log-probs and the global gradient norm. Nothing is updated.
   */
  async gradients(recs: readonly TokenizedRecord[], ref: readonly Float64Array[]) {
    const S = SEQUENCE_ORDER[this.loss.kind].length;
    const step = {
      records: recs.length,
      responseTokens: recs.reduce((a, r) => a + r.seqs.reduce((b, s) => b + s.response.length, 0), 0),
    };
    let loss = 0;
    let graphMs = 0;
    let accMs = 0;
    const lp: Float32Array[] = [];
    for (let k = 0; k < recs.length; k += this.o.batch) {
      const part = recs.slice(k, k + this.o.batch);
      const first = k === 0;
      if (!first && !this.scratch) this.scratch = this.opt.grads.map((g) => new Float32Array(g.length));
      const target = first ? this.opt.grads : this.scratch!;
      const t0 = performance.now();
      const out = await this.programs.step(
        this.params,
        microBatch(part, ref.slice(k, k + this.o.batch), this.loss, step),
        target,
      );
      const t1 = performance.now();
      if (!first)
        for (const [j, g] of this.opt.grads.entries()) {
          const d = target[j]!;
          for (let e = 0; e < g.length; e++) g[e]! += d[e]!;
        }
      accMs += performance.now() - t1;
      graphMs += t1 - t0;
      loss += out.loss;
      for (let i = 0; i < part.length; i++) lp.push(out.lp.slice(i * S, (i + 1) * S));
    }
    const t2 = performance.now();
    const gradNorm = Math.sqrt(this.opt.sumSquares());
    accMs += performance.now() - t2;
    return { loss, lp, gradNorm, graphMs, accMs };
  }

  /** One optimizer step over `recs` with reference log-probs `ref` (one array per record) at learning rate `lr`. */
  async run(recs: readonly TokenizedRecord[], ref: readonly Float64Array[], lr: number): Promise<StepRun> {
    const g = await this.gradients(recs, ref);
    const tokens = {
      prompt: recs.reduce((a, r) => a + r.seqs.reduce((b, s) => b + s.prompt.length, 0), 0),
      response: recs.reduce((a, r) => a + r.seqs.reduce((b, s) => b + s.response.length, 0), 0),
    };
    const base = { loss: g.loss, gradNorm: g.gradNorm, lp: g.lp, tokens };
    if (!Number.isFinite(g.loss) || !Number.isFinite(g.gradNorm))
      return { ...base, applied: false, ms: { graph: g.graphMs, accumulate: g.accMs, adamw: 0 } };
    // Global-norm clipping as a scale the update applies while it reads the gradients (no pass of its own).
    const scale = this.o.clip > 0 && g.gradNorm > this.o.clip ? this.o.clip / (g.gradNorm + 1e-6) : 1;
    const t1 = performance.now();
    this.opt.step(lr, scale);
    const adamw = performance.now() - t1;
    return { ...base, applied: true, ms: { graph: g.graphMs, accumulate: g.accMs, adamw } };
  }

  /** Optimizer state for checkpoints: moments and step count (set them back with `restore`). */
  state(): { m: Float32Array[]; v: Float32Array[]; t: number } {
    return { m: this.opt.m, v: this.opt.v, t: this.opt.t };
  }

  /** Resume: weights, moments and step count from a checkpoint. */
  restore(params: readonly Float32Array[], m: readonly Float32Array[], v: readonly Float32Array[], t: number): void {
    for (const [i, p] of this.opt.params.entries()) {
      p.set(params[i]!);
      this.opt.m[i]!.set(m[i]!);
      this.opt.v[i]!.set(v[i]!);
    }
    this.opt.t = t;
  }

  async close(): Promise<void> {
    await this.programs.release();
  }
}
