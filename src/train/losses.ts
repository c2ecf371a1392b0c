// The loss family: one table (LOSSES) of every method as data, and the pure loss of one record computed from it
// (../shared/DESIGN.md, "The IOPO objective"). The training graph (program.ts) and the PyTorch back end read the
// same table; sequence order is fixed in one place (SEQUENCE_ORDER) and shared with the collator. No model, no I/O.

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

// ---- the table ----

/**
 * How a sequence's score s is made from its summed response log-prob lp (|y| response tokens):
 *   rho   lp − lp_ref                        (DPO, IOPO: the implicit reward, needs a reference model)
 *   mean  lp / |y|                           (SimPO: length-normalised, reference-free)
 *   odds  log(p / (1 − p)), log p = lp / |y| (ORPO: log-odds of the mean token probability, reference-free)
 */
export const SCORES = ["rho", "mean", "odds"] as const;
export type ScoreKind = (typeof SCORES)[number];

export interface LossSpec {
  /** The record the loss is computed on (its sequences in SEQUENCE_ORDER). */
  readonly kind: RecordKind;
  /** The record kind read from the data file (sft-star reads groups and trains on their two preferred examples). */
  readonly reads: RecordKind;
  /** Per-sequence score; null: no preference term (SFT). */
  readonly score: ScoreKind | null;
  /** Margin rows z_k = Σ_s w_ks·s_s; the record's preference loss is the mean over rows of form(β·z_k − γ). */
  readonly margins: readonly (readonly number[])[];
  /** Sequences with an NLL term (mean token NLL): the preferred responses. */
  readonly nll: readonly number[];
  /** Equation or definition in the papers. */
  readonly source: string;
}

/**
 * Every method as data. IOPO family, s = ρ = [a, b, c, d] = [y1|x1, y2|x1, y2|x2, y1|x2]:
 *   iopo            ½(Π1 + Π2), Π1 = 2a − b − d, Π2 = 2c − d − b   →  a − b + c − d
 *   iopo-star       Π1 only (Appendix E)                          →  2a − b − d
 *   iopo-no-input   w/o input preference: the output preference of both inputs, (a − b) and (c − d)
 *   iopo-no-output  w/o output preference: the input preference of both responses, (a − d) and (c − b)
 *   dpo-star        DPO* (token-matched): the group as two DPO pairs (x1: y1 ≻ y2), (x2: y2 ≻ y1) — the same
 *                   objective as iopo-no-input, named as the paper's baseline
 * Pairs (chosen, rejected): dpo, simpo, orpo. Examples: sft; sft-star is SFT* — SFT on (x1, y1) and (x2, y2).
 */
/** The output preference of both inputs, (x1: y1 ≻ y2) and (x2: y2 ≻ y1): w/o input preference, and DPO*. */
const OUTPUT_PREFERENCES = {
  kind: "group",
  reads: "group",
  score: "rho",
  margins: [
    [1, -1, 0, 0],
    [0, 0, 1, -1],
  ],
  nll: [0, 2],
} as const;

export const LOSSES = {
  iopo: { kind: "group", reads: "group", score: "rho", margins: [[1, -1, 1, -1]], nll: [0, 2], source: "IOPO Eq. 8" },
  "iopo-star": {
    kind: "group",
    reads: "group",
    score: "rho",
    margins: [[2, -1, 0, -1]],
    nll: [0, 2],
    source: "IOPO Appendix E",
  },
  "iopo-no-input": { ...OUTPUT_PREFERENCES, source: "IOPO Table 4, w/o input preference" },
  "iopo-no-output": {
    kind: "group",
    reads: "group",
    score: "rho",
    margins: [
      [1, 0, 0, -1],
      [0, -1, 1, 0],
    ],
    nll: [0, 2],
    source: "IOPO Table 4, w/o output preference",
  },
  "dpo-star": { ...OUTPUT_PREFERENCES, source: "IOPO Table 3, DPO*" },
  dpo: { kind: "pair", reads: "pair", score: "rho", margins: [[1, -1]], nll: [0], source: "DPO Eq. 7" },
  simpo: { kind: "pair", reads: "pair", score: "mean", margins: [[1, -1]], nll: [0], source: "SimPO Eq. 6" },
  orpo: { kind: "pair", reads: "pair", score: "odds", margins: [[1, -1]], nll: [0], source: "ORPO Eq. 6–7" },
  sft: { kind: "example", reads: "example", score: null, margins: [], nll: [0], source: "token-mean NLL" },
  "sft-star": { kind: "example", reads: "group", score: null, margins: [], nll: [0], source: "IOPO Table 3, SFT*" },
} as const satisfies Record<string, LossSpec>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];
/** Methods with no reference model (SFT, SimPO, ORPO): no reference log-probs are computed for them. */
export const needsReference = (name: LossName): boolean => LOSSES[name].score === "rho";
/** Methods that train on IOPO groups. */
export const GROUP_METHODS = LOSS_NAMES.filter((n) => LOSSES[n].reads === "group" && LOSSES[n].kind === "group");

// ---- parameters ----

/** How a preference margin becomes a loss. */
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
const prefMethod = <N extends string>(name: N) => z.object({ name: z.literal(name), ...Pref });

export const LossParamsSchema = z
  .discriminatedUnion("name", [
    prefMethod("iopo"),
    prefMethod("iopo-star"),
    prefMethod("iopo-no-input"),
    prefMethod("iopo-no-output"),
    prefMethod("dpo-star"),
    prefMethod("dpo"),
    z.object({
      name: z.literal("simpo"),
      /** β scales the length-normalised margin; SimPO's range is 2–2.5. */
      beta: z.number().positive().default(2),
      /** γ, the target reward margin (SimPO's γ/β ≈ 0.5). */
      simpo_gamma: z.number().min(0).default(1),
      sft_weight: Pref.sft_weight,
    }),
    z.object({
      name: z.literal("orpo"),
      /** λ, the weight of the odds-ratio term beside the NLL of the chosen response; 0.1 in the ORPO paper. */
      orpo_lambda: z.number().positive().default(0.1),
    }),
    z.object({ name: z.literal("sft") }),
    z.object({ name: z.literal("sft-star") }),
  ])
  .refine((p) => !("form" in p) || p.form === "sigmoid" || p.label_smoothing === 0, {
    message: "label smoothing applies to the sigmoid form only",
    path: ["label_smoothing"],
  });
export type LossParams = z.infer<typeof LossParamsSchema>;

/** Parse loss parameters (defaults filled), e.g. `lossParams({name: "iopo", beta: 0.1})`. */
export function lossParams(input: { name: string } & Record<string, unknown>): LossParams {
  return LossParamsSchema.parse(input);
}

/**
 * The numbers of a method's loss for one record, as the training graph and the PyTorch back end use them:
 * preference loss = weight · mean_k form(scale·z_k − offset), plus Σ nll_s · (−lp_s / |y_s|).
 */
export interface ResolvedLoss {
  readonly name: LossName;
  readonly kind: RecordKind;
  readonly reads: RecordKind;
  readonly score: ScoreKind | null;
  readonly margins: readonly (readonly number[])[];
  readonly form: (typeof FORMS)[number];
  /** β (ORPO: 1). */
  readonly scale: number;
  /** Subtracted from scale·z (SimPO's γ; else 0). */
  readonly offset: number;
  /** Multiplies the preference term (ORPO's λ; else 1). */
  readonly weight: number;
  readonly label_smoothing: number;
  /** Per sequence, the weight of its mean-token NLL (γ of the SFT term on the preferred ones; ORPO: 1). */
  readonly nll: readonly number[];
  /** How records are averaged in a step: over records, or (SFT) over the step's response tokens. */
  readonly norm: "records" | "tokens";
}

/** Resolve a method's parameters against the table (the form that is exported into train_config.json). */
export function resolveLoss(p: LossParams): ResolvedLoss {
  const spec: LossSpec = LOSSES[p.name];
  const S = SEQUENCE_ORDER[spec.kind].length;
  const nllOf = (w: number) => Array.from({ length: S }, (_, s) => (spec.nll.includes(s) ? w : 0));
  const base = { name: p.name, kind: spec.kind, reads: spec.reads, score: spec.score, margins: spec.margins };
  const plain = { form: "sigmoid", scale: 1, offset: 0, weight: 1, label_smoothing: 0 } as const;
  switch (p.name) {
    case "sft":
    case "sft-star":
      return { ...base, ...plain, nll: nllOf(1), norm: "tokens" };
    case "orpo":
      return { ...base, ...plain, weight: p.orpo_lambda, nll: nllOf(1), norm: "records" };
    case "simpo":
      return { ...base, ...plain, scale: p.beta, offset: p.simpo_gamma, nll: nllOf(p.sft_weight), norm: "records" };
    default:
      return {
        ...base,
        form: p.form,
        scale: p.beta,
        offset: 0,
        weight: 1,
        label_smoothing: p.label_smoothing,
        nll: nllOf(p.sft_weight),
        norm: "records",
      };
  }
}

// ---- inputs and outputs ----

/** One record's summed log-probs: policy, reference (zeros when none), and response lengths, in SEQUENCE_ORDER. */
export interface RecordLogps {
  readonly logp: readonly number[];
  readonly ref: readonly number[];
  /** Response tokens per sequence (for length normalisation and the NLL terms). */
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

/** Margin u = scale·z − offset → loss, by form: −(1−ε)logσ(u) − ε·logσ(−u), relu(1 − u), or (z − 1/(2β))². */
function preference(zm: Dual, l: ResolvedLoss): Dual {
  if (l.form === "hinge") return zm.scale(-l.scale).addConst(1).relu();
  if (l.form === "ipo") return zm.addConst(-1 / (2 * l.scale)).square();
  const u = zm.scale(l.scale).addConst(-l.offset);
  const pos = u.logSigmoid().scale(-(1 - l.label_smoothing));
  return l.label_smoothing ? pos.add(u.scale(-1).logSigmoid().scale(-l.label_smoothing)) : pos;
}

/** Per-sequence scores as duals of lp (SCORES). */
function scores(lp: Dual[], r: RecordLogps, kind: ScoreKind): Dual[] {
  if (kind === "rho") return lp.map((d, i) => d.addConst(-r.ref[i]!));
  const mean = lp.map((d, i) => d.scale(1 / Math.max(1, r.tokens[i]!)));
  if (kind === "mean") return mean;
  // log-odds of p = exp(m): m − log(1 − e^m), with log(1 − e^m) = log(−expm1(m)) (stable near m = 0).
  return mean.map((m) =>
    m.map(
      (x) => x - Math.log(-Math.expm1(x)),
      (x) => 1 / (1 - Math.exp(x)),
    ),
  );
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function groupMetrics(r: RecordLogps, s: readonly number[], z: readonly number[], l: ResolvedLoss) {
  const [a, b, c, d] = s as [number, number, number, number];
  const beta = l.scale;
  // a − b + c − d = (a − d) + (c − b): summed, the output-preference parts (the right response for each input) and
  // the input-preference parts (the right input for each response) are the same number, so the four parts are
  // logged separately, and the accuracies count each part.
  const out = [a - b, c - d];
  const inp = [a - d, c - b];
  const share = (xs: readonly number[]) => xs.filter((x) => x > 0).length / xs.length;
  const zMean = z.reduce((t, x) => t + x, 0) / z.length;
  return {
    "rewards/y1x1": beta * a,
    "rewards/y2x1": beta * b,
    "rewards/y2x2": beta * c,
    "rewards/y1x2": beta * d,
    "rewards/margins": beta * zMean,
    "rewards/output_margin_x1": beta * out[0]!,
    "rewards/output_margin_x2": beta * out[1]!,
    "rewards/input_margin_y1": beta * inp[0]!,
    "rewards/input_margin_y2": beta * inp[1]!,
    "rewards/accuracies": share(z),
    "rewards/output_accuracies": share(out),
    "rewards/input_accuracies": share(inp),
    "rewards/implied_preference": sigmoid(beta * zMean),
    "logps/y1x1": r.logp[0]!,
    "logps/y2x1": r.logp[1]!,
    "logps/y2x2": r.logp[2]!,
    "logps/y1x2": r.logp[3]!,
  };
}

function pairMetrics(r: RecordLogps, s: readonly number[], z: number, l: ResolvedLoss) {
  return {
    "rewards/chosen": l.scale * s[0]!,
    "rewards/rejected": l.scale * s[1]!,
    "rewards/margins": l.scale * z,
    "rewards/accuracies": z > 0 ? 1 : 0,
    "logps/chosen": r.logp[0]!,
    "logps/rejected": r.logp[1]!,
    ...(l.score === "odds" ? { log_odds_ratio: z } : {}),
  };
}

// ---- exports ----

/** Evaluate a loss for one record (its value, its gradient in the log-probs, TRL-style metrics). */
export function computeLoss(r: RecordLogps, p: LossParams | ResolvedLoss): LossResult {
  const l = "norm" in p ? p : resolveLoss(p);
  const n = r.logp.length;
  const lp = r.logp.map((v, i) => Dual.input(v, i, n));
  // NLL terms: Σ w_s · (−lp_s / |y_s|). SFT's record loss is the summed NLL; the step divides by its tokens.
  let loss = Dual.constant(0, n);
  for (const [s, w] of l.nll.entries())
    if (w) loss = loss.sub(lp[s]!.scale(l.norm === "tokens" ? w : w / Math.max(1, r.tokens[s]!)));
  if (l.score === null)
    return { loss: loss.v, dlogp: loss.g, metrics: { "logps/y": r.logp[0]!, tokens: r.tokens[0]! } };
  const sc = scores(lp, r, l.score);
  const zs = l.margins.map((row) => row.reduce((z, w, i) => (w ? z.add(sc[i]!.scale(w)) : z), Dual.constant(0, n)));
  for (const z of zs) loss = loss.add(preference(z, l).scale(l.weight / zs.length));
  const sv = sc.map((x) => x.v);
  const zv = zs.map((x) => x.v);
  const metrics = l.kind === "group" ? groupMetrics(r, sv, zv, l) : pairMetrics(r, sv, zv[0]!, l);
  return { loss: loss.v, dlogp: loss.g, metrics };
}
