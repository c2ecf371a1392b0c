// zod schemas of IFEval's files: input lines (`key, prompt, instruction_id_list, kwargs`), response lines
// (official `{prompt, response}` or `{key, response}`) and verdict lines (reference_verdicts.jsonl's shape).
// Kept beside the scorer because only IFEval reads them; the instruction kwargs are validated per checker.

import { z } from "zod";

export const IfevalKey = z.union([z.number().int(), z.string().min(1)]);

export const IfevalInputSchema = z
  .object({
    key: IfevalKey,
    prompt: z.string(),
    instruction_id_list: z.array(z.string()).min(1),
    kwargs: z.array(z.record(z.string(), z.unknown())),
  })
  .refine((v) => v.kwargs.length === v.instruction_id_list.length, {
    message: "kwargs must have one entry per instruction id",
    path: ["kwargs"],
  });
export type IfevalInput = z.infer<typeof IfevalInputSchema>;

export const IfevalResponseSchema = z
  .object({ key: IfevalKey.optional(), prompt: z.string().optional(), response: z.string() })
  .refine((v) => v.key !== undefined || v.prompt !== undefined, {
    message: "a response line needs `prompt` (official format) or `key`",
    path: ["prompt"],
  });
export type IfevalResponse = z.infer<typeof IfevalResponseSchema>;

export const IfevalVerdictSchema = z.object({
  key: IfevalKey,
  instruction_id_list: z.array(z.string()),
  follow_instruction_list_strict: z.array(z.boolean()),
  follow_instruction_list_loose: z.array(z.boolean()),
});
export type IfevalVerdict = z.infer<typeof IfevalVerdictSchema>;

export interface Accuracy {
  readonly correct: number;
  readonly total: number;
  /** correct / total, or null when total is 0. */
  readonly accuracy: number | null;
}

export interface IfevalSummary {
  readonly prompt_strict: Accuracy;
  readonly instruction_strict: Accuracy;
  readonly prompt_loose: Accuracy;
  readonly instruction_loose: Accuracy;
  /** Per instruction id (e.g. `keywords:existence`), sorted by id. */
  readonly per_instruction: Readonly<Record<string, { readonly strict: Accuracy; readonly loose: Accuracy }>>;
  /** Per group (the part before the colon, e.g. `keywords`), sorted. */
  readonly per_group: Readonly<Record<string, { readonly strict: Accuracy; readonly loose: Accuracy }>>;
}
