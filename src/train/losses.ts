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

/** IOPO-family margin z from ρ = [a, b, c, d] = [y1|x1, y2|x1, y2|x2, y1|x2]. */
const IOPO_MARGINS = {
  // Eq. (IOPO): Π1 = 2a − b − d, Π2 = 2c − d − b, z = ½(Π1 + Π2).
  iopo: ([a, b, c, d]: Dual[]) => a!.scale(2).sub(b!).sub(d!).add(c!.scale(2).sub(d!).sub(b!)).scale(0.5),
  // Appendix E, IOPO*: Π1 only.
  "iopo-star": ([a, b, , d]: Dual[]) => a!.scale(2).sub(b!).sub(d!),
  // Ablation "w/o input preference": the output preference for x1, a − b.
  "iopo-no-input": ([a, b]: Dual[]) => a!.sub(b!),
  // Ablation "w/o output preference": the input preference for y1, a − d.
  "iopo-no-output": ([a, , , d]: Dual[]) => a!.sub(d!),
} as const;

function iopoFamily(r: RecordLogps, p: PrefParams & { name: keyof typeof IOPO_MARGINS }): LossResult {
  const { lp, rho } = inputs(r);
  const zm = IOPO_MARGINS[p.name](rho);
  let loss = preference(zm, p);
  if (p.sft_weight) loss = loss.add(sftTerm(lp, r, [0, 2], p.sft_weight));
  const [a, b, c, d] = rho.map((x) => x.v) as [number, number, number, number];
  const out = p.beta * ((a - b + (c - d)) / 2); // output preference: right response for each input
  const inp = p.beta * ((a - d + (c - b)) / 2); // input preference: right input for each response
  return {
    loss: loss.v,
    dlogp: loss.g,
    metrics: {
      "rewards/y1x1": p.beta * a,
      "rewards/y2x1": p.beta * b,
      "rewards/y2x2": p.beta * c,
      "rewards/y1x2": p.beta * d,
      "rewards/margins": p.beta * zm.v,
      "rewards/output_margin": out,
      "rewards/input_margin": inp,
      "rewards/accuracies": zm.v > 0 ? 1 : 0,
      "rewards/output_accuracies": out > 0 ? 1 : 0,
      "rewards/input_accuracies": inp > 0 ? 1 : 0,
      "rewards/implied_preference": sigmoid(p.beta * zm.v),
      "logps/y1x1": r.logp[0]!,
      "logps/y2x1": r.logp[1]!,
      "logps/y2x2": r.logp[2]!,
      "logps/y1x2": r.logp[3]!,
    },
  };
}

function dpo(r: RecordLogps, p: PrefParams): LossResult {
  const { lp, rho } = inputs(r);
  const zm = rho[0]!.sub(rho[1]!); // DPO: z = ρ(y_w|x) − ρ(y_l|x)
  let loss = preference(zm, p);
  if (p.sft_weight) loss = loss.add(sftTerm(lp, r, [0], p.sft_weight));
  return {
    loss: loss.v,
    dlogp: loss.g,
    metrics: {
      "rewards/chosen": p.beta * rho[0]!.v,
      "rewards/rejected": p.beta * rho[1]!.v,
      "rewards/margins": p.beta * zm.v,
      "rewards/accuracies": zm.v > 0 ? 1 : 0,
      "logps/chosen": r.logp[0]!,
      "logps/rejected": r.logp[1]!,
    },
  };
}

/** SFT: the record's summed NLL; the trainer divides by the batch's response tokens (mean token NLL). */
function sft(r: RecordLogps): LossResult {
  return { loss: -r.logp[0]!, dlogp: Float64Array.of(-1), metrics: { "logps/y": r.logp[0]!, tokens: r.tokens[0]! } };
}

/** The registry: loss name → record kind it trains on and its function. */
export const LOSSES = {
  iopo: { kind: "group", fn: (r: RecordLogps, p: LossParams) => iopoFamily(r, p as PrefParams & { name: "iopo" }) },
  "iopo-star": {
    kind: "group",
    fn: (r: RecordLogps, p: LossParams) => iopoFamily(r, p as PrefParams & { name: "iopo-star" }),
  },
  "iopo-no-input": {
    kind: "group",
    fn: (r: RecordLogps, p: LossParams) => iopoFamily(r, p as PrefParams & { name: "iopo-no-input" }),
  },
  "iopo-no-output": {
    kind: "group",
    fn: (r: RecordLogps, p: LossParams) => iopoFamily(r, p as PrefParams & { name: "iopo-no-output" }),
  },
  dpo: { kind: "pair", fn: (r: RecordLogps, p: LossParams) => dpo(r, p as PrefParams) },
  sft: { kind: "example", fn: (r: RecordLogps) => sft(r) },
} as const satisfies Record<
  LossParams["name"],
  { kind: RecordKind; fn: (r: RecordLogps, p: LossParams) => LossResult }
>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

/** Parse loss parameters (defaults filled), e.g. `lossParams({name: "iopo", beta: 0.1})`. */
export function lossParams(input: { name: string } & Record<string, unknown>): LossParams {
  return LossParamsSchema.parse(input);
}

/** Evaluate a loss for one record. */
export function computeLoss(r: RecordLogps, p: LossParams): LossResult {
  return LOSSES[p.name].fn(r, p);
}
