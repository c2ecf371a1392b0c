// Training and evaluation records built on the structured instruction: SFT examples, DPO pairs, IOPO groups.
// Each keeps lineage: the ids it came from and which constraints changed between x1 and x2.

import { z } from "zod";
import { InstructionSchema } from "./instruction.ts";

// ---- lineage ----

export const LineageSchema = z.object({
  /** Ids of the records this one was derived from (seed ids, source instruction ids). */
  source_ids: z.array(z.string()).default([]),
  /** Free-form origin, e.g. "trace_eval.jsonl", "offline", "llamafactory". */
  origin: z.string().optional(),
});
export type Lineage = z.infer<typeof LineageSchema>;

/** The constraint-rewrite operations that turn x1 into x2. */
export const REWRITE_OPS = ["add", "delete", "revise"] as const;
export const RewriteOpSchema = z.enum(REWRITE_OPS);
export type RewriteOp = z.infer<typeof RewriteOpSchema>;

/** Which constraints changed between x1 and x2, by index (0-based) in each. */
export const ChangeSchema = z.object({
  /** Indices in x1.constraints that were deleted or revised. */
  x1: z.array(z.number().int().nonnegative()).default([]),
  /** Indices in x2.constraints that were added or are the revised versions. */
  x2: z.array(z.number().int().nonnegative()).default([]),
});
export type Change = z.infer<typeof ChangeSchema>;

// ---- records ----

/** An SFT example: an instruction and a response that follows it. */
export const ExampleSchema = z.object({
  id: z.string().min(1),
  instruction: InstructionSchema,
  response: z.string(),
  /** Per-constraint scores 0–10 in constraint order, when judged. */
  scores: z.array(z.number()).optional(),
  lineage: LineageSchema.optional(),
});
export type Example = z.infer<typeof ExampleSchema>;

/** A DPO pair: for one instruction, a preferred and a dispreferred response. */
export const PreferencePairSchema = z.object({
  id: z.string().min(1),
  instruction: InstructionSchema,
  chosen: z.string(),
  rejected: z.string(),
  lineage: LineageSchema.optional(),
});
export type PreferencePair = z.infer<typeof PreferencePairSchema>;

/** The four relations of a group, each "this response follows this instruction" (true) or not. */
export const RelationsSchema = z.object({
  y1_x1: z.boolean(),
  y1_x2: z.boolean(),
  y2_x2: z.boolean(),
  y2_x1: z.boolean(),
});
export type Relations = z.infer<typeof RelationsSchema>;

/** Which groups construction keeps: "strict" needs y1 ⊨ x1, y1 ⊭ x2, y2 ⊨ x2 and y2 ⊭ x1; "loose" not the last. */
export const GROUP_MODES = ["strict", "loose"] as const;
export type GroupMode = (typeof GROUP_MODES)[number];

/**
 * An IOPO group: y1 follows x1, y2 follows x2, y1 does not follow x2. x2 has the same description and input
 * as x1 with its constraints rewritten by `op`.
 */
export const IopoGroupSchema = z.object({
  id: z.string().min(1),
  x1: InstructionSchema,
  y1: z.string(),
  x2: InstructionSchema,
  y2: z.string(),
  op: RewriteOpSchema.optional(),
  changed: ChangeSchema.optional(),
  /** Whether y2 also fails x1 (the paper's groups usually have it; recorded, not required). */
  y2_fails_x1: z.boolean().optional(),
  /** The four relations as construction checked them. */
  relations: RelationsSchema.optional(),
  lineage: LineageSchema.optional(),
});
export type IopoGroup = z.infer<typeof IopoGroupSchema>;
