// The parity tool behind `iopo logps`: for IOPO groups given as token ids, the four summed response log-probs
// under a policy and a reference, the loss of every method that trains on groups (and DPO on the x1 pair), and
// optionally the gradient of the mean IOPO loss, computed by the one training step (step.ts).

import { z } from "zod";
import { DataError } from "../errors.ts";
import { readJsonl } from "../io/index.ts";
import { checkTokenIds, type ModelDir, type ScoredSequence, splitPays } from "../model/index.ts";
import { tokenizedFromIds } from "./collate.ts";
import { computeLoss, GROUP_METHODS, type LossName, lossParams, resolveLoss, SEQUENCE_ORDER } from "./losses.ts";
import { pairSizes, TrainStep } from "./step.ts";

// ---- types ----

const Ids = z.array(z.number().int().nonnegative());
export const TokenGroupSchema = z.object({ x1: Ids, y1: Ids, x2: Ids, y2: Ids });
export type TokenGroup = z.infer<typeof TokenGroupSchema>;

/** Log-probs keyed as in the issue and the golden fixtures: a = y1|x1, b = y2|x1, c = y2|x2, d = y1|x2. */
export type FourLogps = Record<"y1|x1" | "y2|x1" | "y2|x2" | "y1|x2", number>;

export interface LogpsReport {
  groups: {
    lp: FourLogps;
    ref_lp: FourLogps;
    iopo_loss: number;
    dpo_loss: number;
    /** The loss of every method that trains on groups (iopo, iopo-star, the ablations, dpo-star). */
    losses: Partial<Record<LossName, number>>;
  }[];
  mean_iopo_loss: number;
  mean_dpo_loss: number;
  grad_norm?: number;
  grad_norms?: Record<string, number>;
}

// ---- helpers ----

/** The four sequences of a group in SEQUENCE_ORDER.group: (x1,y1), (x1,y2), (x2,y2), (x2,y1). */
function sequences(g: TokenGroup): ScoredSequence[] {
  return [
    { prompt: g.x1, response: g.y1 },
    { prompt: g.x1, response: g.y2 },
    { prompt: g.x2, response: g.y2 },
    { prompt: g.x2, response: g.y1 },
  ];
}

const KEYS = { y1x1: "y1|x1", y2x1: "y2|x1", y2x2: "y2|x2", y1x2: "y1|x2" } as const;

function keyed(lp: ArrayLike<number>, at: number): FourLogps {
  return Object.fromEntries(SEQUENCE_ORDER.group.map((s, i) => [KEYS[s], lp[at + i]!])) as FourLogps;
}

// ---- exports ----

/**
 * Read a tokens file: one `{"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]}` per line; with `vocabSize`, every id is
 * checked against the model's vocabulary (file:line, field, the id) before anything is computed.
 */
export async function readTokenGroups(path: string, vocabSize?: number): Promise<TokenGroup[]> {
  const out: TokenGroup[] = [];
  for await (const r of readJsonl(path, TokenGroupSchema, {
    hint: 'lines are {"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]}',
  })) {
    if (vocabSize !== undefined)
      for (const field of ["x1", "y1", "x2", "y2"] as const)
        checkTokenIds(r.value[field], vocabSize, { path, line: r.line, field });
    out.push(r.value);
  }
  if (out.length === 0)
    throw new DataError("no token groups", {
      path,
      expected: 'at least one {"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]} line',
      hint: "write one group of token ids per line",
    });
  return out;
}

/** Compute the report; `reference` defaults to the policy itself. */
export async function logpsReport(
  policy: ModelDir,
  groups: readonly TokenGroup[],
  o: { reference?: ModelDir; beta?: number; grad?: boolean; sharedPrefix?: boolean },
): Promise<LogpsReport> {
  const beta = o.beta ?? 0.1;
  const iopo = resolveLoss(lossParams({ name: "iopo", beta }));
  const dpo = lossParams({ name: "dpo", beta });
  const records = groups.map((g, i) => tokenizedFromIds(`g${i}`, "group", [g.x1, g.x2], [g.y1, g.y2]));
  // The step of `iopo train` (one micro-batch of every group, no clipping); its optimizer is never stepped here.
  const step = await TrainStep.create(policy.config, policy.params.table, policy.params.tensors, iopo, {
    batch: Math.max(1, groups.length),
    clip: 0,
    threads: 0,
    adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    sharedPrefix: o.sharedPrefix ?? true,
    splitAttention: splitPays(records.map(pairSizes)),
  });
  try {
    const seqs = groups.flatMap(sequences);
    const lp = await step.logps(policy.params.tensors, seqs);
    const ref = o.reference ? await step.logps(o.reference.params.tensors, seqs) : lp;
    const report: LogpsReport = { groups: [], mean_iopo_loss: 0, mean_dpo_loss: 0 };
    groups.forEach((g, i) => {
      const at = 4 * i;
      const four = (a: ArrayLike<number>) => [a[at]!, a[at + 1]!, a[at + 2]!, a[at + 3]!];
      const r = { logp: four(lp), ref: four(ref), tokens: [g.y1.length, g.y2.length, g.y2.length, g.y1.length] };
      const losses = Object.fromEntries(
        GROUP_METHODS.map((name) => [name, computeLoss(r, lossParams({ name, beta })).loss]),
      ) as Partial<Record<LossName, number>>;
      const dpoLoss = computeLoss({ logp: r.logp.slice(0, 2), ref: r.ref.slice(0, 2), tokens: r.tokens }, dpo).loss;
      report.groups.push({
        lp: keyed(lp, at),
        ref_lp: keyed(ref, at),
        iopo_loss: losses.iopo!,
        dpo_loss: dpoLoss,
        losses,
      });
    });
    report.mean_iopo_loss = report.groups.reduce((s, g) => s + g.iopo_loss, 0) / groups.length;
    report.mean_dpo_loss = report.groups.reduce((s, g) => s + g.dpo_loss, 0) / groups.length;
    if (o.grad) {
      // d mean IOPO loss / d θ: each group's preference loss weighted 1/G, no NLL term.
      const refs = records.map((_, i) => Float64Array.from(ref.subarray(4 * i, 4 * i + 4)));
      await step.gradients(records, refs);
      const norms: Record<string, number> = {};
      let total = 0;
      step.table.forEach((row, i) => {
        const s = step.opt.sumSquares(i);
        total += s;
        norms[row.key] = Math.sqrt(s);
      });
      report.grad_norm = Math.sqrt(total);
      report.grad_norms = norms;
    }
    return report;
  } finally {
    await step.close();
  }
}
