// The parity tool behind `iopo logps`: for IOPO groups given as token ids, the four summed response log-probs
// under a policy and a reference, the IOPO and DPO losses, and optionally the gradient of the mean IOPO loss.

import { z } from "zod";
import { readJsonl } from "../io/index.ts";
import type { ModelDir } from "../model/index.ts";
import type { ScoredSequence } from "../model/llama.ts";
import { computeLoss, lossParams, SEQUENCE_ORDER } from "./losses.ts";
import { graphLoss, TrainPrograms } from "./program.ts";

// ---- types ----

const Ids = z.array(z.number().int().nonnegative());
export const TokenGroupSchema = z.object({ x1: Ids, y1: Ids, x2: Ids, y2: Ids });
export type TokenGroup = z.infer<typeof TokenGroupSchema>;

/** Log-probs keyed as in the issue and the golden fixtures: a = y1|x1, b = y2|x1, c = y2|x2, d = y1|x2. */
export type FourLogps = Record<"y1|x1" | "y2|x1" | "y2|x2" | "y1|x2", number>;

export interface LogpsReport {
  groups: { lp: FourLogps; ref_lp: FourLogps; iopo_loss: number; dpo_loss: number }[];
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

/** Read a tokens file: one `{"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]}` per line. */
export async function readTokenGroups(path: string): Promise<TokenGroup[]> {
  const out: TokenGroup[] = [];
  for await (const r of readJsonl(path, TokenGroupSchema, {
    hint: 'lines are {"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]}',
  })) {
    out.push(r.value);
  }
  return out;
}

/** Compute the report; `reference` defaults to the policy itself. */
export async function logpsReport(
  policy: ModelDir,
  groups: readonly TokenGroup[],
  o: { reference?: ModelDir; beta?: number; grad?: boolean },
): Promise<LogpsReport> {
  const beta = o.beta ?? 0.1;
  const iopo = lossParams({ name: "iopo", beta });
  const dpo = lossParams({ name: "dpo", beta });
  const programs = await TrainPrograms.create(policy.config, graphLoss(iopo));
  try {
    const seqs = groups.flatMap(sequences);
    const lp = await programs.logps(policy.params.tensors, seqs);
    const ref = o.reference ? await programs.logps(o.reference.params.tensors, seqs) : lp;
    const report: LogpsReport = { groups: [], mean_iopo_loss: 0, mean_dpo_loss: 0 };
    groups.forEach((g, i) => {
      const at = 4 * i;
      const four = (a: ArrayLike<number>) => [a[at]!, a[at + 1]!, a[at + 2]!, a[at + 3]!];
      const tokens = [g.y1.length, g.y2.length, g.y2.length, g.y1.length];
      const iopoLoss = computeLoss({ logp: four(lp), ref: four(ref), tokens }, iopo).loss;
      const dpoLoss = computeLoss({ logp: four(lp).slice(0, 2), ref: four(ref).slice(0, 2), tokens }, dpo).loss;
      report.groups.push({ lp: keyed(lp, at), ref_lp: keyed(ref, at), iopo_loss: iopoLoss, dpo_loss: dpoLoss });
    });
    report.mean_iopo_loss = report.groups.reduce((s, g) => s + g.iopo_loss, 0) / groups.length;
    report.mean_dpo_loss = report.groups.reduce((s, g) => s + g.dpo_loss, 0) / groups.length;
    if (o.grad) {
      // d mean IOPO loss / d θ: each group's preference loss weighted 1/G, no NLL term.
      const G = groups.length;
      const step = await programs.step(policy.params.tensors, {
        seqs,
        ref: Float32Array.from(ref),
        nllWeight: new Float32Array(4 * G),
        recordWeight: new Float32Array(G).fill(1 / G),
      });
      const norms: Record<string, number> = {};
      let total = 0;
      programs.table.forEach((row, i) => {
        let s = 0;
        for (const x of step.grads[i]!) s += x * x;
        total += s;
        norms[row.key] = Math.sqrt(s);
      });
      report.grad_norm = Math.sqrt(total);
      report.grad_norms = norms;
    }
    return report;
  } finally {
    await programs.release();
  }
}
