// The compiled programs of a training run: the training step (summed response log-probs of a micro-batch → the
// method's loss in the graph → every parameter's gradient) and the scoring program (log-probs only, for the
// reference). The in-graph loss is the family of losses.ts in one form: z = Σ_s w_s·ρ_s per record, then the
// sigmoid / hinge / IPO form, plus a per-sequence NLL term. A test checks it against computeLoss for every method.

import * as E from "../engine/index.ts";
import type { ModelConfig, ParamSpec } from "../model/index.ts";
import { batchFeeds, llamaInputs, paramFeeds, type ScoredSequence, sequenceLogps } from "../model/llama.ts";
import type { LossParams } from "./losses.ts";
import { LOSSES, SEQUENCE_ORDER } from "./losses.ts";

// ---- types ----

/** What the graph needs to know about a loss: sequences per record, margin weights, form. */
export interface GraphLoss {
  /** Sequences per record (4 group, 2 pair, 1 example). */
  readonly S: number;
  /** z = Σ w_s ρ_s; null for SFT (no preference term). */
  readonly margin: readonly number[] | null;
  readonly form: "sigmoid" | "hinge" | "ipo";
  readonly beta: number;
  readonly labelSmoothing: number;
}

export interface MicroBatch {
  readonly seqs: readonly ScoredSequence[];
  /** Reference log-probs per sequence. */
  readonly ref: Float32Array;
  /** Weight of each sequence's NLL in the loss (γ/|y| on preferred responses; SFT: 1/batch response tokens). */
  readonly nllWeight: Float32Array;
  /** Weight of each record's preference loss (1/records in the optimizer step, so the step's loss is a mean). */
  readonly recordWeight: Float32Array;
}

export interface StepOutput {
  /** Summed response log-probs per sequence. */
  readonly lp: Float32Array;
  /** This micro-batch's share of the step loss. */
  readonly loss: number;
  /** d loss / d parameter, in parameter-table order. */
  readonly grads: Float32Array[];
}

// ---- helpers ----

/** log σ(x) = −(max(−x, 0) + log(1 + exp(−|x|))), stable for large |x|. */
function logSigmoid(x: E.Node): E.Node {
  const absx = E.maximum(x, E.neg(x));
  return E.neg(E.add(E.maximum(E.neg(x), 0), E.log(E.add(E.exp(E.neg(absx)), 1))));
}

/** The preference loss of margins z [R] by form. */
function preference(z: E.Node, l: GraphLoss): E.Node {
  if (l.form === "hinge") return E.maximum(E.sub(1, E.mul(z, l.beta)), 0); // [R] relu(1 − βz)
  if (l.form === "ipo") {
    const t = E.sub(z, 1 / (2 * l.beta)); // [R]
    return E.mul(t, t); // [R] (z − 1/(2β))²
  }
  const pos = E.mul(logSigmoid(E.mul(z, l.beta)), -(1 - l.labelSmoothing)); // [R]
  if (!l.labelSmoothing) return pos;
  return E.add(pos, E.mul(logSigmoid(E.mul(z, -l.beta)), -l.labelSmoothing)); // [R]
}

// ---- exports ----

/** The graph form of a loss's parameters. */
export function graphLoss(p: LossParams): GraphLoss {
  const S = SEQUENCE_ORDER[LOSSES[p.name].kind].length;
  if (p.name === "sft") return { S, margin: null, form: "sigmoid", beta: 1, labelSmoothing: 0 };
  return { S, margin: LOSSES[p.name].margin, form: p.form, beta: p.beta, labelSmoothing: p.label_smoothing };
}

/** Training and scoring programs for one model config and loss. */
export class TrainPrograms {
  private constructor(
    readonly cfg: ModelConfig,
    readonly table: readonly ParamSpec[],
    readonly loss: GraphLoss,
    private readonly train: E.Program,
    private readonly score: E.Program,
  ) {}

  static async create(cfg: ModelConfig, loss: GraphLoss, threads?: number): Promise<TrainPrograms> {
    const S = loss.S;
    const B = S === 1 ? "Rec" : `${S}*Rec`; // sequences: S per record ("Rec", not a symbol llama.ts uses)
    const { graph, result } = E.trace(() => {
      const { params, batch, table } = llamaInputs(cfg, B);
      const ref = E.input("ref_logps", ["Rec", S]);
      const nllW = E.input("nll_weight", ["Rec", S]);
      const recW = E.input("record_weight", ["Rec"]);
      const lp = sequenceLogps(cfg, params, batch); // [S*R]
      const lpRS = E.reshape(lp, [-1, S]); // [R, S]
      let perRecord = E.reduceSum(E.mul(E.neg(lpRS), nllW), [1]); // [R] weighted NLL
      if (loss.margin) {
        const z = E.reduceSum(E.mul(E.sub(lpRS, ref), E.constant(loss.margin, [S])), [1]); // [R] z = Σ w·ρ
        perRecord = E.add(perRecord, E.mul(preference(z, loss), recW)); // [R]
      }
      const total = E.reduceSum(perRecord, [0]); // []
      const grads = E.grad(() => total)(...params.values());
      return { lp, total, grads, table };
    });
    // No spin-waiting: on a shared machine idle ORT threads spinning cost more than they save (as `iopo bench train`).
    const t = { spin: false, ...(threads ? { threads } : {}) };
    const outs: Record<string, E.Node> = { lp: result.lp, loss: result.total };
    for (const [i, row] of result.table.entries()) outs[`grad:${row.key}`] = result.grads[i]!;
    const train = await E.Program.create(E.toOnnx(graph, outs, "train"), t);
    // Scoring: its own trace with a plain batch dim (no record structure).
    const scoring = E.trace(() => {
      const { params, batch } = llamaInputs(cfg);
      return sequenceLogps(cfg, params, batch); // [B]
    });
    const score = await E.Program.create(E.toOnnx(scoring.graph, { lp: scoring.result }, "score"), t);
    return new TrainPrograms(cfg, result.table, loss, train, score);
  }

  /** Forward + backward of one micro-batch. */
  async step(params: readonly Float32Array[], mb: MicroBatch): Promise<StepOutput> {
    const R = mb.recordWeight.length;
    const S = this.loss.S;
    const out = await this.train.run({
      ...batchFeeds(this.cfg, mb.seqs),
      ...paramFeeds(this.table, params as Float32Array[]),
      ref_logps: { data: mb.ref, dims: [R, S] },
      nll_weight: { data: mb.nllWeight, dims: [R, S] },
      record_weight: { data: mb.recordWeight, dims: [R] },
    });
    return {
      lp: out.lp as Float32Array,
      loss: (out.loss as Float32Array)[0]!,
      grads: this.table.map((row) => out[`grad:${row.key}`] as Float32Array),
    };
  }

  /** Summed response log-probs of sequences under `params` (any count; padded to the longest). */
  async logps(params: readonly Float32Array[], seqs: readonly ScoredSequence[]): Promise<Float32Array> {
    const out = await this.score.run({
      ...batchFeeds(this.cfg, seqs),
      ...paramFeeds(this.table, params as Float32Array[]),
    });
    return out.lp as Float32Array;
  }

  async release(): Promise<void> {
    await this.train.release();
    await this.score.release();
  }
}
