// The demo's configuration: data sizes, model size, training steps and generation limits, as one zod schema with
// two profiles (full: `npm start`, ≤ 10 min on 2 cores; quick: tests, ≤ 60 s). Saved as demo_config.json in the run
// directory; a rerun with another configuration is refused so artefacts never mix.

import { z } from "zod";

// ---- exports ----

export const PROFILES = ["full", "quick"] as const;
export type Profile = (typeof PROFILES)[number];

/** The four models compared, in table order. */
export const MODELS = ["sft", "sft-continued", "dpo", "iopo"] as const;
export type ModelName = (typeof MODELS)[number];

export const DemoConfigSchema = z.strictObject({
  profile: z.enum(PROFILES),
  seed: z.number().int().nonnegative().describe("Seed of construction, model initialisation and data order."),
  /** Construction: seeds attempted for the training sets (kept records are fewer). */
  n: z.number().int().positive(),
  /** Held-out evaluation instructions (half single-, half multi-constraint). */
  eval_n: z.number().int().positive(),
  /** Records whose longest prompt + response exceeds this many characters are left out of training. */
  max_chars: z.number().int().positive(),
  model: z.strictObject({
    arch: z.enum(["llama", "qwen2"]),
    vocab_size: z.number().int().min(259),
    hidden: z.number().int().positive(),
    layers: z.number().int().positive(),
    heads: z.number().int().positive(),
    kv_heads: z.number().int().positive(),
    intermediate: z.number().int().positive(),
  }),
  sft: z.strictObject({
    steps: z.number().int().positive(),
    lr: z.number().positive(),
    batch: z.number().int().positive(),
    warmup: z.number().min(0),
  }),
  /** Shared by DPO, IOPO and SFT-continued: same steps, schedule, batch and seed (the fair comparison). */
  pref: z.strictObject({
    steps: z.number().int().positive(),
    lr: z.number().positive(),
    batch: z.number().int().positive(),
    warmup: z.number().min(0),
    beta: z.number().positive(),
  }),
  /** Token limit of every training sequence (prompt + response + EOS). */
  max_len: z.number().int().positive(),
  /** New-token limit of each generation (greedy). */
  max_tokens: z.number().int().positive(),
  /** Example generations per model shown in the report. */
  examples: z.number().int().nonnegative(),
  threads: z.number().int().nonnegative(),
});
export type DemoConfig = z.infer<typeof DemoConfigSchema>;

/**
 * The profiles. Sizes were chosen by measurement on a 2-core machine (docs/demo.md), not by the outcome of the
 * comparison: the SFT phase gets most of the budget so that the starting point can follow some constraints at all.
 */
export function demoConfig(profile: Profile, seed: number): DemoConfig {
  if (profile === "quick")
    return DemoConfigSchema.parse({
      profile,
      seed,
      n: 60,
      eval_n: 8,
      max_chars: 700,
      model: { arch: "llama", vocab_size: 512, hidden: 32, layers: 1, heads: 2, kv_heads: 2, intermediate: 64 },
      sft: { steps: 8, lr: 3e-3, batch: 4, warmup: 0.1 },
      pref: { steps: 3, lr: 1e-3, batch: 2, warmup: 0.1, beta: 0.1 },
      max_len: 512,
      max_tokens: 24,
      examples: 2,
      threads: 0,
    });
  return DemoConfigSchema.parse({
    profile,
    seed,
    n: 2400,
    eval_n: 100,
    max_chars: 1100,
    model: { arch: "llama", vocab_size: 1536, hidden: 128, layers: 2, heads: 4, kv_heads: 4, intermediate: 384 },
    sft: { steps: 800, lr: 3e-3, batch: 8, warmup: 0.05 },
    // 300 × 4 records: the preference runs see about 60% of an epoch of their ≈ 2,000 records (100 steps saw 20%).
    pref: { steps: 300, lr: 2e-4, batch: 4, warmup: 0.1, beta: 0.1 },
    max_len: 512,
    max_tokens: 160,
    examples: 3,
    threads: 0,
  });
}
