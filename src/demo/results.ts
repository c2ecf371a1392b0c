// Generation records (one per held-out instruction and model, with the rule checkers' per-constraint verdicts) and
// the results computed from them with the TRACE metric arithmetic (a verdict ok → 10, not ok → 0). Pure: no I/O,
// so a test can recompute results.json from the saved generation files with the same functions.

import { z } from "zod";
import { type TraceScores, traceScores } from "../evaluate/trace/index.ts";
import { InstructionSchema } from "../schema/index.ts";
import { type DemoConfig, MODELS, type ModelName } from "./config.ts";

// ---- types ----

export const VerdictSchema = z.object({
  text: z.string(),
  type: z.string().optional(),
  /** null: no rule checker for this constraint (the item is then left out of the scores, as a judge failure). */
  ok: z.boolean().nullable(),
  /** The checker's issues in words, when it failed (e.g. "missing_keyword: expected panels"). */
  why: z.string().optional(),
});

export const GenerationSchema = z.object({
  id: z.string().min(1),
  model: z.string().min(1),
  instruction: InstructionSchema,
  response: z.string(),
  finish: z.enum(["stop", "length"]),
  completion_tokens: z.number().int().nonnegative(),
  verdicts: z.array(VerdictSchema),
  all_ok: z.boolean(),
});
export type Generation = z.infer<typeof GenerationSchema>;

export interface ModelResult {
  /** Generations scored (items). */
  items: number;
  /** Generations that ended at the token limit instead of the end-of-sequence token. */
  hit_token_limit: number;
  scores: TraceScores;
}

export interface Results {
  format: "iopo-demo-results";
  version: 1;
  seed: number;
  profile: string;
  sizes: {
    sft_examples: number;
    iopo_groups: number;
    dpo_pairs: number;
    eval_items: number;
    eval_single: number;
    eval_multi: number;
    parameters: number;
    vocab_size: number;
  };
  training: { sft_steps: number; pref_steps: number; pref_lr: number; sft_lr: number; beta: number };
  models: Record<string, ModelResult>;
  /** Seconds per phase, in run order (a skipped phase keeps the time it took when it ran). */
  timings: Record<string, number>;
}

// ---- exports ----

/** Rule verdicts → TRACE-style scores: 10 when satisfied, 0 when not; null (unscorable item) when any has no rule. */
export function scoresOf(g: Pick<Generation, "verdicts">): number[] | null {
  if (g.verdicts.some((v) => v.ok === null)) return null;
  return g.verdicts.map((v) => (v.ok ? 10 : 0));
}

/** The TRACE scores of one model's generations. */
export function modelResult(gens: readonly Generation[]): ModelResult {
  return {
    items: gens.length,
    hit_token_limit: gens.filter((g) => g.finish === "length").length,
    scores: traceScores(gens.map((g) => ({ instruction: g.instruction, scores: scoresOf(g) }))),
  };
}

/** results.json from the generations of every model plus the run's sizes and timings. */
export function computeResults(
  config: DemoConfig,
  sizes: Results["sizes"],
  generations: Readonly<Record<string, readonly Generation[]>>,
  timings: Record<string, number>,
): Results {
  const models: Record<string, ModelResult> = {};
  for (const m of MODELS) if (generations[m]) models[m] = modelResult(generations[m]);
  return {
    format: "iopo-demo-results",
    version: 1,
    seed: config.seed,
    profile: config.profile,
    sizes,
    training: {
      sft_steps: config.sft.steps,
      sft_lr: config.sft.lr,
      pref_steps: config.pref.steps,
      pref_lr: config.pref.lr,
      beta: config.pref.beta,
    },
    models,
    timings,
  };
}

// ---- printing ----

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "   -" : (100 * x).toFixed(1).padStart(5);

/** The terminal table: one column per model; IF-S, IF-M, constraint level, then per count and dimension. */
export function formatResults(r: Results): string {
  const names = MODELS.filter((m) => r.models[m]) as ModelName[];
  const col = (s: string) => s.padStart(14);
  const rows: string[] = [`${"".padEnd(34)}${names.map(col).join("")}`];
  const line = (label: string, get: (s: TraceScores) => { accuracy: number | null; total: number } | undefined) =>
    rows.push(
      `${label.padEnd(34)}${names
        .map((m) => {
          const v = get(r.models[m]!.scores);
          return col(v ? `${pct(v.accuracy)}% (${v.total})` : "-");
        })
        .join("")}`,
    );
  line("IF-S (single constraint)", (s) => s.if_s);
  line("IF-M (multi, all satisfied)", (s) => s.if_m);
  line("constraint level", (s) => s.constraint_level);
  const first = r.models[names[0]!]!.scores;
  rows.push("by constraint count (item accuracy)");
  for (const k of Object.keys(first.by_count)) line(`  ${k}`, (s) => s.by_count[k]);
  rows.push("by dimension (constraint level)");
  const dims = Object.entries(first.by_dimension).sort((a, b) => b[1].total - a[1].total);
  for (const [k] of dims) line(`  ${k}`, (s) => s.by_dimension[k]);
  return rows.join("\n");
}
