// Up-front checks of an embedded-engine run, from config.json alone (before any weight is read): the sequence length
// against a Qwen2 sliding window, and the memory estimate (model/memory.ts) against the machine's memory, refused
// with the estimate by part and the options that would fit (LoRA, a shorter --max-len, a smaller --batch).
// Does not load weights or data; the memory budget is the machine's RAM unless IOPO_MEMORY_GB says otherwise.

import os from "node:os";
import { ConfigError } from "../errors.ts";
import {
  checkMemory,
  checkSequenceLength,
  estimateMemory,
  formatBytes,
  holdsHalf,
  loadModelConfig,
  type MemoryRun,
  type ModelConfig,
} from "../model/index.ts";
import { loraOf, type TrainConfig } from "./config.ts";
import { LOSSES, SEQUENCE_ORDER } from "./losses.ts";

// ---- exports ----

/** The memory budget in bytes: IOPO_MEMORY_GB (GiB) when set, else the machine's RAM. */
export function memoryBudget(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.IOPO_MEMORY_GB;
  if (raw === undefined || raw === "") return os.totalmem();
  const gb = Number(raw);
  if (!Number.isFinite(gb) || gb <= 0)
    throw new ConfigError("IOPO_MEMORY_GB is not a positive number", {
      field: "IOPO_MEMORY_GB",
      expected: "GiB of memory a run may use, e.g. 20",
      got: JSON.stringify(raw),
      hint: "unset it to use the machine's memory",
    });
  return gb * 2 ** 30;
}

/**
 * The shape of a training run's memory (one micro-batch of `batch` records at `max_len`). `halfBase`: the model's
 * matrices are stored in BF16/F16 (hfdir.ts `holdsHalf`), so LoRA — this run's, or the LoRA option a refusal
 * offers — holds them at 2 bytes a weight.
 */
export function trainMemoryRun(c: TrainConfig, halfBase = false): MemoryRun {
  const S = SEQUENCE_ORDER[LOSSES[c.method].kind].length;
  const lora = loraOf(c);
  return {
    mode: lora ? "lora" : "full",
    sequences: c.batch * S,
    perRecord: S,
    maxLen: c.max_len,
    // A separate --ref is held beside the policy; a policy that is its own reference is not copied (trainer.ts).
    weightCopies: c.ref ? 1 : 0,
    weightBytes: halfBase ? 2 : 4,
    ...(lora ? { lora: { rank: lora.rank, targets: lora.targets } } : {}),
    checkpoint: c.grad_checkpointing ?? false,
  };
}

/** Refuse a run that cannot fit: `checkSequenceLength` for `what` tokens, then the memory estimate. */
export function checkRunFits(
  cfg: ModelConfig,
  run: MemoryRun,
  what: string,
  budget: number = memoryBudget(),
  path?: string,
  hint?: string,
): void {
  checkSequenceLength(cfg, run.maxLen, what);
  checkMemory(cfg, run, budget, path, hint);
}

/**
 * `iopo train` (embedded engine): read config.json only and check the run fits before the weights are loaded.
 * Returns whether the run checkpoints gradients: as set, or (unset) only when the run would not fit without.
 */
export async function checkTrainingFits(
  c: TrainConfig,
  budget: number = memoryBudget(),
): Promise<{ checkpoint: boolean; why?: string }> {
  const cfg = await loadModelConfig(c.model);
  const run = trainMemoryRun(c, await holdsHalf(c.model));
  if (c.grad_checkpointing === undefined) {
    const without = estimateMemory(cfg, run).total;
    const withCk = estimateMemory(cfg, { ...run, checkpoint: true }).total;
    if (without > budget && withCk <= budget) {
      checkSequenceLength(cfg, run.maxLen, "--max-len");
      return {
        checkpoint: true,
        why: `gradient checkpointing on: the run needs an estimated ${formatBytes(without)} without it, ${formatBytes(withCk)} with it (memory ${formatBytes(budget)}; --no-grad-checkpointing to refuse instead)`,
      };
    }
  }
  checkRunFits(cfg, run, "--max-len", budget, c.model);
  return { checkpoint: run.checkpoint ?? false };
}

/**
 * `iopo logps`: one pass over every group (the scoring program; with `grad` the training program's forward +
 * backward of the whole model), as its four sequences, at the longest of them.
 */
export function logpsMemoryRun(
  groups: readonly { x1: readonly number[]; y1: readonly number[]; x2: readonly number[]; y2: readonly number[] }[],
  grad: boolean,
  separateRef: boolean,
): MemoryRun {
  let longest = 2;
  let scored = 1;
  for (const g of groups)
    for (const [x, y] of [
      [g.x1, g.y1],
      [g.x1, g.y2],
      [g.x2, g.y1],
      [g.x2, g.y2],
    ] as const) {
      longest = Math.max(longest, x.length + y.length);
      scored = Math.max(scored, y.length);
    }
  return {
    mode: grad ? "full" : "score",
    sequences: 4 * Math.max(1, groups.length),
    perRecord: 4,
    maxLen: longest,
    scored,
    weightCopies: separateRef ? 1 : 0,
  };
}
