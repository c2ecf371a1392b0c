// The compiled programs of a training run: the training graph (summed response log-probs of a micro-batch → the
// method's loss → every parameter's gradient) and the scoring program (log-probs only, for the reference). The
// in-graph loss is built from the one loss table (losses.ts, ResolvedLoss): per-sequence scores, margin rows, form,
// NLL terms. A test checks it against computeLoss for every method. The step around it lives in step.ts.

import * as E from "../engine/index.ts";
import { ShapeError } from "../errors.ts";
import type { HeldTensor, ModelConfig, ParamSpec } from "../model/index.ts";
import {
  batchFeeds,
  batchInputs,
  LORA_SCALE_KEY,
  llamaInputs,
  modelDims,
  packedFeeds,
  packedInputs,
  packedLogps,
  packRows,
  paramFeeds,
  paramInputs,
  paramTable,
  type ScoredSequence,
  sequenceLogps,
} from "../model/index.ts";
import { type ResolvedLoss, SEQUENCE_ORDER } from "./losses.ts";

// ---- types ----

export interface MicroBatch {
  readonly seqs: readonly ScoredSequence[];
  /** Reference log-probs per sequence (zeros for reference-free methods). */
  readonly ref: Float32Array;
  /** Per sequence, 1/|y| (length normalisation of the mean and odds scores). */
  readonly seqScale: Float32Array;
  /** Weight of each sequence's summed NLL in the loss (see step.ts). */
  readonly nllWeight: Float32Array;
  /** Weight of each record's preference loss (1/records in the optimizer step, so the step's loss is a mean). */
  readonly recordWeight: Float32Array;
}

export interface StepOutput {
  /** Summed response log-probs per sequence. */
  readonly lp: Float32Array;
  /** This micro-batch's share of the step loss. */
  readonly loss: number;
}

// ---- helpers ----

/** log σ(x) = −(max(−x, 0) + log(1 + exp(−|x|))), stable for large |x|. */
function logSigmoid(x: E.Node): E.Node {
  const absx = E.maximum(x, E.neg(x));
  return E.neg(E.add(E.maximum(E.neg(x), 0), E.log(E.add(E.exp(E.neg(absx)), 1))));
}

/** Margins z [R, K] → loss [R, K] by form: −(1−ε)logσ(u) − ε·logσ(−u) with u = βz − γ, relu(1 − βz), (z − 1/(2β))². */
function preference(z: E.Node, l: ResolvedLoss): E.Node {
  if (l.form === "hinge") return E.maximum(E.sub(1, E.mul(z, l.scale)), 0); // [R, K]
  if (l.form === "ipo") {
    const t = E.sub(z, 1 / (2 * l.scale)); // [R, K]
    return E.mul(t, t); // [R, K]
  }
  const u = l.offset ? E.sub(E.mul(z, l.scale), l.offset) : E.mul(z, l.scale); // [R, K]
  const pos = E.mul(logSigmoid(u), -(1 - l.label_smoothing)); // [R, K]
  if (!l.label_smoothing) return pos;
  return E.add(pos, E.mul(logSigmoid(E.neg(u)), -l.label_smoothing)); // [R, K]
}

/** Per-sequence scores [R, S] (losses.ts SCORES): ρ = lp − ref, m = lp/|y|, or the log-odds m − log(1 − eᵐ). */
function scores(lp: E.Node, ref: E.Node, scale: E.Node, kind: NonNullable<ResolvedLoss["score"]>): E.Node {
  if (kind === "rho") return E.sub(lp, ref); // [R, S]
  const m = E.mul(lp, scale); // [R, S] mean token log-prob
  if (kind === "mean") return m;
  return E.sub(m, E.log(E.sub(1, E.exp(m)))); // [R, S]
}

/** The per-record loss [R] of a micro-batch in the graph. */
function recordLoss(lpRS: E.Node, l: ResolvedLoss, S: number): E.Node {
  const ref = E.input("ref_logps", ["Rec", S]);
  const seqScale = E.input("seq_scale", ["Rec", S]);
  const nllW = E.input("nll_weight", ["Rec", S]);
  const recW = E.input("record_weight", ["Rec"]);
  const perRecord = E.reduceSum(E.mul(E.neg(lpRS), nllW), [1]); // [R] weighted NLL
  if (l.score === null) return perRecord;
  const K = l.margins.length;
  const W = E.constant(
    Array.from({ length: S * K }, (_, i) => l.margins[i % K]![Math.floor(i / K)]!),
    [S, K],
  ); // [S, K]: column k is margin row k
  const z = E.matmul(scores(lpRS, ref, seqScale, l.score), W); // [R, K]
  const pref = E.reduceSum(preference(z, l), [1]); // [R]
  return E.add(perRecord, E.mul(pref, E.mul(recW, l.weight / K))); // [R]
}

/** The packed rows of a micro-batch (a record's sequences come in prompt-sharing pairs by SEQUENCE_ORDER). */
function rowsOf(seqs: readonly ScoredSequence[]) {
  const rows = packRows(seqs);
  if (!rows)
    throw new ShapeError("shared-prefix packing needs each record's sequences in pairs that share a prompt", {
      expected: "(x1,y1), (x1,y2), (x2,y2), (x2,y1) per group; (x,chosen), (x,rejected) per pair",
      hint: "train with --no-shared-prefix",
    });
  return rows;
}

// ---- exports ----

/** Training and scoring programs for one model config and loss. */
export class TrainPrograms {
  /** Feed arrays of the training and the scoring program, reused from run to run. */
  private readonly pools = { train: new E.FeedPool(), score: new E.FeedPool() };

  private constructor(
    readonly cfg: ModelConfig,
    readonly table: readonly ParamSpec[],
    readonly loss: ResolvedLoss,
    /** Whether the training program scores shared-prefix rows (two sequences per row). */
    readonly packed: boolean,
    /** Whether those rows use split attention (model/packed.ts). */
    readonly split: boolean,
    private readonly train: E.Program,
    private readonly score: E.Program,
    /** The traced training graph and its outputs (benchmarks count its MatMul FLOPs), and its ONNX node count. */
    readonly traced: { graph: E.Graph; outputs: Record<string, E.Node>; onnxNodes: number },
    /** With an adapter: the base model's table and tensors, fed as constants (only `table` is trained). */
    private readonly frozen: { table: readonly ParamSpec[]; tensors: readonly HeldTensor[] } | null,
  ) {}

  /** Stop the training program's profile (when created with one). */
  endProfiling(): void {
    this.train.endProfiling();
  }

  /**
   * `profile`: a path prefix for an ORT profile of the training program (benchmarks). `checkpoint`: recompute
   * each layer in the backward pass (model/llama.ts DecoderOptions). `lora`: train only the adapter's table
   * (model/lora.ts) on top of the frozen base tensors (half-precision ones upcast per use); scoring stays the base
   * (the reference).
   */
  static async create(
    cfg: ModelConfig,
    loss: ResolvedLoss,
    o: {
      threads?: number;
      profile?: string;
      sharedPrefix?: boolean;
      splitAttention?: boolean;
      checkpoint?: boolean;
      lora?: { table: readonly ParamSpec[]; scale: number; base: readonly HeldTensor[] };
    } = {},
  ): Promise<TrainPrograms> {
    const { threads, profile } = o;
    const S = SEQUENCE_ORDER[loss.kind].length;
    // Shared prefix: the S sequences of a record are S/2 packed rows `y_b | x | y_a` (model/packed.ts).
    const packed = Boolean(o.sharedPrefix) && S % 2 === 0;
    const split = packed && Boolean(o.splitAttention);
    const { graph, result } = E.trace(() => {
      const base = paramInputs(paramTable(cfg), o.lora?.base);
      const table = o.lora ? [...o.lora.table] : paramTable(cfg);
      const trained = o.lora ? paramInputs(table) : base;
      const params = o.lora ? new Map([...base, ...trained, [LORA_SCALE_KEY, E.scalar(o.lora.scale)] as const]) : base;
      const dec = { checkpoint: Boolean(o.checkpoint) };
      const lp = packed // [S*R]
        ? packedLogps(cfg, params, packedInputs(cfg, S === 2 ? "Rec" : `${S / 2}*Rec`, split), dec)
        : sequenceLogps(cfg, params, batchInputs(modelDims(cfg), S === 1 ? "Rec" : `${S}*Rec`), dec);
      const total = E.reduceSum(recordLoss(E.reshape(lp, [-1, S]), loss, S), [0]); // []
      const grads = E.grad(() => total)(...trained.values());
      return { lp, total, grads, table };
    });
    // No spin-waiting: on a shared machine idle ORT threads spinning cost more than they save (as `iopo bench train`).
    // ORT's memory pattern off: its planned block came on top of the arena (docs/engine.md, "Memory discipline").
    const t = { spin: false, memPattern: false, ...(threads ? { threads } : {}) };
    const outs: Record<string, E.Node> = { lp: result.lp, loss: result.total };
    for (const [i, row] of result.table.entries()) outs[`grad:${row.key}`] = result.grads[i]!;
    const model = E.toOnnx(graph, outs, "train");
    const train = await E.Program.create(model, profile ? { ...t, profile: true, profilePrefix: profile } : t);
    // Scoring: its own trace with a plain batch dim (no record structure).
    const scoring = E.trace(() => {
      const { params, batch } = llamaInputs(cfg, "B", o.lora?.base);
      return sequenceLogps(cfg, params, batch); // [B]
    });
    const score = await E.Program.create(E.toOnnx(scoring.graph, { lp: scoring.result }, "score"), t);
    const frozen = o.lora ? { table: paramTable(cfg), tensors: o.lora.base } : null;
    return new TrainPrograms(
      cfg,
      result.table,
      loss,
      packed,
      split,
      train,
      score,
      { graph, outputs: outs, onnxNodes: model.nodeCount },
      frozen,
    );
  }

  /**
   * Forward + backward of one micro-batch; the gradients are written into `grads` (caller-owned buffers in
   * parameter-table order, reused every step: no allocation of gradient memory per step).
   */
  async step(params: readonly Float32Array[], mb: MicroBatch, grads: readonly Float32Array[]): Promise<StepOutput> {
    const R = mb.recordWeight.length;
    const S = SEQUENCE_ORDER[this.loss.kind].length;
    const into = Object.fromEntries(
      this.table.map((row, i) => [`grad:${row.key}`, { data: grads[i]!, dims: row.shape }]),
    );
    const out = await this.train.run(
      {
        ...(this.packed
          ? packedFeeds(this.cfg, rowsOf(mb.seqs), this.split, this.pools.train)
          : batchFeeds(this.cfg, mb.seqs, this.pools.train)),
        ...(this.frozen ? paramFeeds(this.frozen.table, this.frozen.tensors) : {}),
        ...paramFeeds(this.table, params as Float32Array[]),
        ref_logps: { data: mb.ref, dims: [R, S] },
        seq_scale: { data: mb.seqScale, dims: [R, S] },
        nll_weight: { data: mb.nllWeight, dims: [R, S] },
        record_weight: { data: mb.recordWeight, dims: [R] },
      },
      undefined,
      into,
    );
    return { lp: out.lp as Float32Array, loss: (out.loss as Float32Array)[0]! };
  }

  /**
   * Summed response log-probs of sequences under full model `params` (any count; padded to the longest). With an
   * adapter the scoring program was built for the base's tensors: `params` must hold the same dtypes.
   */
  async logps(params: readonly HeldTensor[], seqs: readonly ScoredSequence[]): Promise<Float32Array> {
    const out = await this.score.run({
      ...batchFeeds(this.cfg, seqs, this.pools.score),
      ...paramFeeds(this.frozen?.table ?? this.table, params),
    });
    return out.lp as Float32Array;
  }

  async release(): Promise<void> {
    await this.train.release();
    await this.score.release();
  }
}
