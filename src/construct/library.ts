// In-process construction for callers such as the demo: SFT examples, IOPO groups, DPO pairs and a held-out
// eval set from the offline world and a seed, with no files written.

import type { Example, GroupMode, Instruction, IopoGroup, PreferencePair } from "../schema/index.ts";
import { countWeights, DEFAULT_COUNTS } from "./distribution.ts";
import { groupOne } from "./groups.ts";
import type { KeywordPool } from "./offline/generators.ts";
import { OfflineRoles, offlineSeeds } from "./offline/provider.ts";
import { VALIDATION_SEEDS } from "./offline/seeds.ts";
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
  /**
   * Validation instructions (half single-, half multi-constraint) from the validation topics, which neither the
   * training nor the held-out seeds use: for choosing settings without the held-out set. @default 0
   */
  readonly validN?: number;
  /** Training data only: where keyword constraints take their words. @default "topic" */
  readonly keywords?: KeywordPool;
  /** Training data only: multiplies how often keyword constraints are drawn. @default 1 */
  readonly keywordWeight?: number;
  /** Training data only: the responder quotes required keywords. @default false */
  readonly quoteKeywords?: boolean;
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
  /** Instructions from the validation topics (in neither the training nor the held-out split). */
  readonly validation: Instruction[];
}

// ---- helpers ----

/** The last 4 topics' seeds (40 of 400) are held out for evaluation. */
const HOLDOUT = 40;

// ---- exports ----

export function splitSeeds(): { train: SeedRecord[]; heldOut: SeedRecord[] } {
  const all = offlineSeeds();
  return { train: all.slice(0, all.length - HOLDOUT), heldOut: all.slice(all.length - HOLDOUT) };
}

/** `n` instructions, the first half single-constraint, the rest multi-constraint, from `seeds` (ids `<prefix>NNNNNN`). */
async function instructionSet(ctx: StageCtx, seeds: readonly SeedRecord[], n: number, prefix: string) {
  const out: Instruction[] = [];
  const single = { min: 1, max: 1, mean: 1 };
  const multi = { min: 2, max: 15, mean: 4.4 };
  for (let i = 0; out.length < n && i < n * 4; i++) {
    const counts = out.length < n / 2 ? single : multi;
    const ectx: StageCtx = { ...ctx, counts, countWeights: countWeights(counts) };
    const r = await traceOne(seeds[i % seeds.length]!, `${prefix}${String(i).padStart(6, "0")}`, ectx);
    if (r.example) out.push(r.example.instruction);
  }
  return out;
}

export async function buildOfflineDataset(o: DatasetOptions): Promise<Dataset> {
  const roles = new OfflineRoles({
    seed: o.seed,
    ...(o.keywords ? { keywords: o.keywords } : {}),
    ...(o.keywordWeight !== undefined ? { keywordWeight: o.keywordWeight } : {}),
    ...(o.quoteKeywords ? { quoteKeywords: true } : {}),
  });
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
  // Evaluation sets are written by the world's default roles: the training-only options never reach them.
  const ectx: StageCtx = { ...ctx, roles: new OfflineRoles({ seed: o.seed }) };
  const evalSet = await instructionSet(ectx, heldOut, o.evalN ?? 100, "e");
  const validSeeds = VALIDATION_SEEDS.map((s) => ({ id: s.id, text: s.text, input: s.input }));
  const validation = await instructionSet(ectx, validSeeds, o.validN ?? 0, "v");
  return { sft, groups, sftStar, pairs, eval: evalSet, validation };
}
