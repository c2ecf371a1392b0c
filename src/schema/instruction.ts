// The structured instruction: the one record that travels through construct, train and evaluate.
// `{id, description, constraints: [{text, type?}], input, lang?}`; `type` is a taxonomy dimension.

import { z } from "zod";
import { DimensionNameSchema } from "./taxonomy.ts";

/**
 * A machine-checkable form attached to a constraint (e.g. `{kind: "keywords", params: {words: ["AI"]}}`).
 * The construction pipeline's rule checkers define the kinds; here it is opaque data.
 */
export const CheckSpecSchema = z.object({
  kind: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type CheckSpec = z.infer<typeof CheckSpecSchema>;

export const ConstraintSchema = z.object({
  /** The constraint as written, e.g. "1. Use at most 50 words;". */
  text: z.string(),
  /** Taxonomy dimension (English name), when known. */
  type: DimensionNameSchema.optional(),
  /** The source's own label when it is not one of the 26 dimensions (kept, never dropped). */
  label: z.string().optional(),
  /** A rule checker's form of this constraint, when it has one. */
  check: CheckSpecSchema.optional(),
});
export type Constraint = z.infer<typeof ConstraintSchema>;

export const InstructionSchema = z.object({
  id: z.string().min(1),
  /** The task description (first part of the prompt). */
  description: z.string(),
  constraints: z.array(ConstraintSchema),
  /** The task input, or null when the instruction has none. */
  input: z.string().nullable(),
  /** BCP-47-ish language tag: "zh", "en". */
  lang: z.string().optional(),
  /** Source-specific fields kept for lossless round trips, e.g. TRACE's `{category: "trace1.0"}`. */
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type Instruction = z.infer<typeof InstructionSchema>;
