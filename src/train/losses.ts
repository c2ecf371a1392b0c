// The loss family as pure functions of summed response log-probs (../shared/DESIGN.md, "The IOPO objective").
// Sequence order is fixed in one place (SEQUENCE_ORDER) and shared with the collator. No model, no I/O.

import { z } from "zod";
import { Dual } from "./dual.ts";

// ---- sequence order ----

/**
 * The one order of sequences per record, shared with the collator and the engine:
 * an IOPO group is (x1,y1), (x1,y2), (x2,y2), (x2,y1) as in the authors' implementation; a DPO pair is
 * (x,chosen), (x,rejected); an SFT example is (x,y).
 */
export const SEQUENCE_ORDER = {
  group: ["y1x1", "y2x1", "y2x2", "y1x2"],
  pair: ["chosen", "rejected"],
  example: ["y"],
} as const;
export type RecordKind = keyof typeof SEQUENCE_ORDER;

// ---- parameters ----

/** How a preference margin z becomes a loss. */
export const FORMS = ["sigmoid", "hinge", "ipo"] as const;

const Pref = {
  /** β, the KL-regularisation strength; 0.1 in the paper. */
  beta: z.number().positive().default(0.1),
  /** sigmoid (the paper's), hinge relu(1 − βz), or IPO (z − 1/(2β))². */
  form: z.enum(FORMS).default("sigmoid"),
  /** ε: conservative label smoothing, sigmoid form only. */
  label_smoothing: z.number().min(0).max(0.5).default(0),
  /** γ: weight of the optional SFT term on the preferred responses (0 = off). */
  sft_weight: z.number().min(0).default(0),
};

export const LossParamsSchema = z
  .discriminatedUnion("name", [
    z.object({ name: z.literal("iopo"), ...Pref }),
    z.object({ name: z.literal("iopo-star"), ...Pref }),
    z.object({ name: z.literal("iopo-no-input"), ...Pref }),
    z.object({ name: z.literal("iopo-no-output"), ...Pref }),
    z.object({ name: z.literal("dpo"), ...Pref }),
    z.object({ name: z.literal("sft") }),
  ])
  .refine((p) => !("form" in p) || p.form === "sigmoid" || p.label_smoothing === 0, {
    message: "label smoothing applies to the sigmoid form only",
    path: ["label_smoothing"],
  });
export type LossParams = z.infer<typeof LossParamsSchema>;
type PrefParams = Extract<LossParams, { beta: number }>;

// ---- inputs and outputs ----

/** One record's summed log-probs: policy, reference, and response lengths, in SEQUENCE_ORDER. */
export interface RecordLogps {
  readonly logp: readonly number[];
  readonly ref: readonly number[];
  /** Response tokens per sequence (for the SFT term and SFT's mean token NLL). */
  readonly tokens: readonly number[];
}

export interface LossResult {
  /** The record's loss. */
  readonly loss: number;
  /** d loss / d logp, one entry per sequence (reference log-probs are constants). */
  readonly dlogp: Float64Array;
  readonly metrics: Record<string, number>;
}

// ---- helpers ----

/** z → loss, by form (DESIGN.md): −(1−ε)logσ(βz) − ε·logσ(−βz), relu(1 − βz), or (z − 1/(2β))². */
function preference(zm: Dual, p: PrefParams): Dual {
  if (p.form === "hinge") return zm.scale(-p.beta).addConst(1).relu();
  if (p.form === "ipo") return zm.addConst(-1 / (2 * p.beta)).square();
  const pos = zm
    .scale(p.beta)
    .logSigmoid()
    .scale(-(1 - p.label_smoothing));
  return p.label_smoothing ? pos.add(zm.scale(-p.beta).logSigmoid().scale(-p.label_smoothing)) : pos;
}

/** γ·(mean token NLL of the preferred responses), e.g. −lp(y1|x1)/|y1| − lp(y2|x2)/|y2| for IOPO. */
function sftTerm(lp: Dual[], r: RecordLogps, which: readonly number[], gamma: number): Dual {
  let t = Dual.constant(0, lp.length);
  for (const i of which) t = t.sub(lp[i]!.scale(1 / Math.max(1, r.tokens[i]!)));
  return t.scale(gamma);
}

function inputs(r: RecordLogps): { lp: Dual[]; rho: Dual[] } {
  const lp = r.logp.map((v, i) => Dual.input(v, i, r.logp.length));
  return { lp, rho: lp.map((d, i) => d.addConst(-r.ref[i]!)) };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// ---- the family ----

/**
 * Every preference method is z = Σ_s w_s·ρ_s over its record's sequences (SEQUENCE_ORDER), then a form.
 * IOPO family, ρ = [a, b, c, d] = [y1|x1, y2|x1, y2|x2, y1|x2]:
 *   iopo            ½(Π1 + Π2) with Π1 = 2a − b − d, Π2 = 2c − d − b   →  a − b + c − d
 *   iopo-star       Π1 only (Appendix E)                                →  2a − b − d
 *   iopo-no-input   "w/o input preference": output preference for x1  →  a − b
 *   iopo-no-output  "w/o output preference": input preference for y1  →  a − d
 * DPO, ρ = [chosen, rejected]: z = ρ(y_w|x) − ρ(y_l|x). The SFT term covers the preferred responses (`sft`).
 * The training graph (program.ts) uses these same weights.
 */
export const LOSSES = {
  iopo: { kind: "group", margin: [1, -1, 1, -1], sft: [0, 2] },
  "iopo-star": { kind: "group", margin: [2, -1, 0, -1], sft: [0, 2] },
  "iopo-no-input": { kind: "group", margin: [1, -1, 0, 0], sft: [0, 2] },
  "iopo-no-output": { kind: "group", margin: [1, 0, 0, -1], sft: [0, 2] },
  dpo: { kind: "pair", margin: [1, -1], sft: [0] },
  sft: { kind: "example", margin: null, sft: [0] },
} as const satisfies Record<
  LossParams["name"],
  { kind: RecordKind; margin: readonly number[] | null; sft: readonly number[] }
>;

function groupMetrics(r: RecordLogps, rho: readonly number[], z: number, beta: number): Record<string, number> {
  const [a, b, c, d] = rho as [number, number, number, number];
  // z = (a − b) + (c − d) = (a − d) + (c − b): summed, the output-preference parts (the right response for each
  // input) and the input-preference parts (the right input for each response) are the same number, so the four
  // parts are logged separately, and the accuracies count each part.
  const out = [a - b, c - d];
  const inp = [a - d, c - b];
  const share = (xs: number[]) => xs.filter((x) => x > 0).length / xs.length;
  return {
    "rewards/y1x1": beta * a,
    "rewards/y2x1": beta * b,
    "rewards/y2x2": beta * c,
    "rewards/y1x2": beta * d,
    "rewards/margins": beta * z,
    "rewards/output_margin_x1": beta * out[0]!,
    "rewards/output_margin_x2": beta * out[1]!,
    "rewards/input_margin_y1": beta * inp[0]!,
    "rewards/input_margin_y2": beta * inp[1]!,
    "rewards/accuracies": z > 0 ? 1 : 0,
    "rewards/output_accuracies": share(out),
    "rewards/input_accuracies": share(inp),
    "rewards/implied_preference": sigmoid(beta * z),
    "logps/y1x1": r.logp[0]!,
    "logps/y2x1": r.logp[1]!,
    "logps/y2x2": r.logp[2]!,
    "logps/y1x2": r.logp[3]!,
  };
}

function pairMetrics(r: RecordLogps, rho: readonly number[], z: number, beta: number): Record<string, number> {
  return {
    "rewards/chosen": beta * rho[0]!,
    "rewards/rejected": beta * rho[1]!,
    "rewards/margins": beta * z,
    "rewards/accuracies": z > 0 ? 1 : 0,
    "logps/chosen": r.logp[0]!,
    "logps/rejected": r.logp[1]!,
  };
}

/** A preference loss: z = Σ w·ρ, its form, the optional SFT term; TRL-style metrics. */
function preferenceLoss(r: RecordLogps, p: PrefParams): LossResult {
  const spec = LOSSES[p.name];
  const { lp, rho } = inputs(r);
  const zm = spec.margin.reduce((z, w, i) => (w ? z.add(rho[i]!.scale(w)) : z), Dual.constant(0, lp.length));
  let loss = preference(zm, p);
  if (p.sft_weight) loss = loss.add(sftTerm(lp, r, spec.sft, p.sft_weight));
  const rv = rho.map((x) => x.v);
  const metrics = spec.kind === "group" ? groupMetrics(r, rv, zm.v, p.beta) : pairMetrics(r, rv, zm.v, p.beta);
  return { loss: loss.v, dlogp: loss.g, metrics };
}

/** SFT: the record's summed NLL; the trainer divides by the batch's response tokens (mean token NLL). */
function sft(r: RecordLogps): LossResult {
  return { loss: -r.logp[0]!, dlogp: Float64Array.of(-1), metrics: { "logps/y": r.logp[0]!, tokens: r.tokens[0]! } };
}

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

/** Parse loss parameters (defaults filled), e.g. `lossParams({name: "iopo", beta: 0.1})`. */
export function lossParams(input: { name: string } & Record<string, unknown>): LossParams {
  return LossParamsSchema.parse(input);
}

/** Evaluate a loss for one record. */
export function computeLoss(r: RecordLogps, p: LossParams): LossResult {
  return p.name === "sft" ? sft(r) : preferenceLoss(r, p);
}
