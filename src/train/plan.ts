// The step plan of a run, computed before any rank starts: which records each optimizer step trains on (a seeded
// permutation per epoch, each step's chunk sorted by index), its learning rate, and the trainer state after it.
// The one place the record order is decided: the embedded trainer (trainer.ts) walks this plan and the PyTorch back
// end (torch/engine.ts) writes it for its ranks, so both engines see the same batches. Pure: no files, no processes.

import { Rng } from "../model/index.ts";
import type { TrainerState } from "./checkpoint.ts";
import type { TokenizedRecord } from "./collate.ts";
import { scheduleOf, type TrainConfig, totalSteps } from "./config.ts";
import { learningRate } from "./schedule.ts";

// ---- types ----

/** One optimizer step of the plan. */
export interface PlannedStep {
  /** The step number after it (1-based, as metrics.jsonl and checkpoint-<step>). */
  readonly step: number;
  /** Record indices, sorted. */
  readonly records: readonly number[];
  readonly lr: number;
  /** The trainer state after the step (its order is `orders[epoch]`), written into checkpoints. */
  readonly state: {
    readonly epoch: number;
    readonly cursor: number;
    readonly rng: TrainerState["rng"];
    readonly tokens: number;
  };
}

export interface Plan {
  /** Total optimizer steps of the run (the schedule's horizon). */
  readonly total: number;
  /** The step the plan starts after (0, or the resumed checkpoint's step). */
  readonly start: number;
  /** The last step this invocation runs (--stop-at, else total). */
  readonly stopAt: number;
  /** Each epoch's record order that a planned step's state refers to, by epoch. */
  readonly orders: Record<string, readonly number[]>;
  readonly steps: readonly PlannedStep[];
}

// ---- exports ----

/** Records per optimizer step: batch × accum on each of `world` ranks. */
export const recordsPerStep = (c: TrainConfig, world: number): number => c.batch * c.accum * world;

/**
 * Plan the steps from `resumed` (a checkpoint's trainer state) or from the start: an epoch that runs out reshuffles
 * before the next step takes its chunk; each chunk is sorted (the step is a mean over its set, so a fixed order makes
 * it reproducible from the set alone).
 */
export function planSteps(
  c: TrainConfig,
  records: readonly TokenizedRecord[],
  world: number,
  resumed: TrainerState | null,
): Plan {
  const n = records.length;
  const per = recordsPerStep(c, world);
  const total = totalSteps({ ...c, accum: c.accum * world }, n);
  const schedule = scheduleOf(c, total);
  let rng = Rng.fromSeed(c.seed);
  const st: TrainerState = resumed
    ? { ...resumed, order: [...resumed.order] }
    : { step: 0, epoch: 0, cursor: 0, order: rng.permutation(n), rng: rng.state, total_steps: total, tokens: 0 };
  if (resumed) rng = new Rng(resumed.rng);
  const orders: Record<string, readonly number[]> = { [st.epoch]: st.order };
  const stopAt = Math.min(c.stop_at > 0 ? c.stop_at : st.total_steps, st.total_steps);
  const start = st.step;
  const steps: PlannedStep[] = [];
  while (st.step < stopAt) {
    const lr = learningRate(schedule, st.step);
    if (st.cursor >= st.order.length) {
      st.epoch += 1;
      st.order = rng.permutation(n);
      st.cursor = 0;
      st.rng = rng.state;
      orders[st.epoch] = st.order;
    }
    const chunk = st.order.slice(st.cursor, st.cursor + per).sort((a, b) => a - b);
    st.cursor += chunk.length;
    for (const i of chunk) for (const q of records[i]!.seqs) st.tokens += q.prompt.length + q.response.length;
    st.step += 1;
    steps.push({
      step: st.step,
      records: chunk,
      lr,
      state: { epoch: st.epoch, cursor: st.cursor, rng: st.rng, tokens: st.tokens },
    });
  }
  return { total: st.total_steps, start, stopAt, orders, steps };
}
