// In-process construction for callers such as the demo: SFT examples, IOPO groups, DPO pairs and a held-out
// eval set from the offline world and a seed, with no files written.

import type { Example, GroupMode, Instruction, IopoGroup, PreferencePair } from "../schema/index.ts";
import { countWeights, DEFAULT_COUNTS } from "./distribution.ts";
import { groupOne } from "./groups.ts";
import { OfflineRoles, offlineSeeds } from "./offline/provider.ts";
import { traceId } from "./pipeline.ts";
import type { SeedRecord } from "./roles.ts";
import { type StageCtx, traceOne } from "./stages.ts";

// ---- types ----

export interface DatasetOptions {
  readonly seed: number;
  /** Seeds to attempt for the SFT set (kept ones are fewer: the judge drops some). */
  readonly n: number;
  /** Held-out eval instructions: half single-constraint, half multi-constraint. @default 100 */
  readonly evalN?: number;
  /** Which groups to keep. @default "strict" */
  readonly groups?: GroupMode;
}

export interface Dataset {
  readonly sft: Example[];
  readonly groups: IopoGroup[];
  /** SFT*: (x1, y1) and (x2, y2) of every group. */
  readonly sftStar: Example[];
  /** DPO pairs whose rejected answer was written separately for x (never y2). */
  readonly pairs: PreferencePair[];
  /** Instructions from seeds (topics) the training sets never use. */
  readonly eval: Instruction[];
}

// ---- helpers ----

/** The last 4 topics' seeds (40 of 400) are held out for evaluation. */
const HOLDOUT = 40;

// ---- exports ----

export function splitSeeds(): { train: SeedRecord[]; heldOut: SeedRecord[] } {
  const all = offlineSeeds();
  return { train: all.slice(0, all.length - HOLDOUT), heldOut: all.slice(all.length - HOLDOUT) };
}

export async function buildOfflineDataset(o: DatasetOptions): Promise<Dataset> {
  const roles = new OfflineRoles({ seed: o.seed });
  const ctx: StageCtx = {
    roles,
    seed: o.seed,
    counts: DEFAULT_COUNTS,
    countWeights: countWeights(DEFAULT_COUNTS),
    mode: o.groups ?? "strict",
  };
  const { train, heldOut } = splitSeeds();
  const sft: Example[] = [];
  const groups: IopoGroup[] = [];
  const sftStar: Example[] = [];
  const pairs: PreferencePair[] = [];
  for (let i = 0; i < o.n; i++) {
    const r = await traceOne(train[i % train.length]!, traceId(i), ctx);
    if (!r.example) continue;
    sft.push(r.example);
    const g = await groupOne(r.example, ctx);
    if (g.group) groups.push(g.group);
    sftStar.push(...g.sftStar);
    if (g.pair) pairs.push(g.pair);
  }
  const evalSet: Instruction[] = [];
  const evalN = o.evalN ?? 100;
  const single = { min: 1, max: 1, mean: 1 };
  const multi = { min: 2, max: 15, mean: 4.4 };
  for (let i = 0; evalSet.length < evalN && i < evalN * 4; i++) {
    const counts = evalSet.length < evalN / 2 ? single : multi;
    const ectx: StageCtx = { ...ctx, counts, countWeights: countWeights(counts) };
    const r = await traceOne(heldOut[i % heldOut.length]!, `e${String(i).padStart(6, "0")}`, ectx);
    if (r.example) evalSet.push(r.example.instruction);
  }
  return { sft, groups, sftStar, pairs, eval: evalSet };
}
