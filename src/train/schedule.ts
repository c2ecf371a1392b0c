// Learning-rate schedules: linear warm-up then cosine (or linear / constant) decay to a floor, by optimizer step.

import { z } from "zod";

export const ScheduleSchema = z.object({
  /** Peak learning rate, e.g. 5e-6 (the paper's LoRA recipe) or 1e-3 for a tiny model from scratch. */
  lr: z.number().positive(),
  /** Total optimizer steps of the run. */
  total_steps: z.number().int().positive(),
  /** Warm-up steps (linear from 0 to lr); the paper uses 10% of the steps. */
  warmup_steps: z.number().int().nonnegative().default(0),
  /** Shape after warm-up. */
  decay: z.enum(["cosine", "linear", "constant"]).default("cosine"),
  /** Floor as a fraction of lr at the end of decay. */
  min_ratio: z.number().min(0).max(1).default(0),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

/** Learning rate for optimizer step `step` (0-based). */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup_steps) return (s.lr * (step + 1)) / s.warmup_steps;
  if (s.decay === "constant") return s.lr;
  const span = Math.max(1, s.total_steps - s.warmup_steps);
  const t = Math.min(1, (step - s.warmup_steps) / span);
  const shape = s.decay === "cosine" ? 0.5 * (1 + Math.cos(Math.PI * t)) : 1 - t;
  return s.lr * (s.min_ratio + (1 - s.min_ratio) * shape);
}
