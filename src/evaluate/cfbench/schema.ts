// zod schemas of CFBench's files: a benchmark record (cfbench_data.jsonl) and a judged record (the benchmark record
// plus the model's response and the judge's reply and verdicts, upstream's `<model>_eval.json` layout).
// Kept beside the scorer because only CFBench reads them (as IFEval's schemas are).

import { z } from "zod";

/** One checklist entry: [item text, priority (主需 / 次需), constraint type, constraint subtype]. */
export const CriterionSchema = z.tuple([z.string(), z.string(), z.string(), z.string()]);
export type Criterion = z.infer<typeof CriterionSchema>;

export const CfbenchRecordSchema = z.object({
  idx: z.number().int().min(0),
  prompt: z.string(),
  isanswer: z.string(),
  gold: z.string(),
  /** Domain; the key is misspelt upstream and kept as is. */
  doamin: z.string(),
  scenario: z.string(),
  source: z.string(),
  split: z.enum(["easy", "hard"]),
  criteria: z.array(CriterionSchema).min(1),
});
export type CfbenchRecord = z.infer<typeof CfbenchRecordSchema>;

/** How a judge reply was read: "1" strict, "0" fallback, "-1" nothing (upstream's codes). */
export const JudgeParsingSchema = z.enum(["1", "0", "-1"]);
export type JudgeParsing = z.infer<typeof JudgeParsingSchema>;

export const SampleMetricSchema = z.object({ CSR: z.number(), ISR: z.number(), PSR: z.number() });
export type SampleMetric = z.infer<typeof SampleMetricSchema>;

/** A judged record; the verdict fields are optional because `cfbench score` recomputes them from the reply. */
export const JudgedRecordSchema = CfbenchRecordSchema.extend({
  response: z.string(),
  infer_model: z.string().min(1),
  judge_response: z.string(),
  judge_score: z.array(z.string()).nullable().optional(),
  judge_parsing: JudgeParsingSchema.nullable().optional(),
  judge_metric: SampleMetricSchema.nullable().optional(),
});
export type JudgedRecord = z.infer<typeof JudgedRecordSchema>;

/** Primary and secondary requirement, as the data spells them. */
export const PRIMARY = "主需";
export const SECONDARY = "次需";
