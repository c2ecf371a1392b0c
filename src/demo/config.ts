// The demo's configuration: data sizes, model size, training steps, seeds, methods and generation limits, as one zod
// schema with two profiles (full: `npm start`, ≤ 10 min on 2 cores; quick: tests, ≤ 60 s). Saved as
// demo_config.json in the run directory; a rerun with another configuration is refused so artefacts never mix.
// Hyper-parameters follow a rule fixed before any held-out evaluation; the SFT stage and the training world were
// chosen by SFT-only pilots on a validation split (scripts/demo-pilots.ts; docs/demo.md, "How the settings were fixed").

import { z } from "zod";
import { KEYWORD_POOLS } from "../construct/index.ts";

// ---- exports ----

export const PROFILES = ["full", "quick"] as const;
export type Profile = (typeof PROFILES)[number];

/** The methods `npm start` compares, in table order (the paper's Table 3 rows that the miniature can run). */
export const BASE_METHODS = ["sft", "sft-continued", "sft-star", "dpo", "dpo-star", "iopo"] as const;
/** Added by `--full` (and always run by `--quick`): IOPO's own variants and the reference-free baselines. */
export const EXTRA_METHODS = ["iopo-star", "iopo-no-input", "iopo-no-output", "orpo", "simpo"] as const;
export const METHODS = [...BASE_METHODS, ...EXTRA_METHODS] as const;
export type MethodName = (typeof METHODS)[number];
/** @deprecated alias kept for library users: a compared model is named by its method. */
export const MODELS = METHODS;
export type ModelName = MethodName;

/** How each method trains: its loss in src/train/losses.ts and the data file it reads. */
export const METHOD_SPECS: Readonly<
  Record<MethodName, { loss: string; data: "sft" | "pairs" | "groups"; ref: boolean; label: string; what: string }>
> = {
  sft: {
    loss: "sft",
    data: "sft",
    ref: false,
    label: "SFT",
    what: "SFT from the starting model (the starting point of every other row)",
  },
  "sft-continued": {
    loss: "sft",
    data: "sft",
    ref: false,
    label: "SFT-continued",
    what: "more SFT steps on the SFT set",
  },
  "sft-star": {
    loss: "sft-star",
    data: "groups",
    ref: false,
    label: "SFT*",
    what: "SFT on (x1, y1) and (x2, y2) of each group",
  },
  dpo: { loss: "dpo", data: "pairs", ref: true, label: "DPO", what: "DPO on (x, y_w, y_l), y_l written separately" },
  "dpo-star": { loss: "dpo-star", data: "groups", ref: true, label: "DPO*", what: "DPO on each group as two pairs" },
  iopo: { loss: "iopo", data: "groups", ref: true, label: "IOPO", what: "IOPO on (x1, y1, x2, y2)" },
  "iopo-star": {
    loss: "iopo-star",
    data: "groups",
    ref: true,
    label: "IOPO*",
    what: "Π1 only (Appendix E): 2a − b − d",
  },
  "iopo-no-input": { loss: "iopo-no-input", data: "groups", ref: true, label: "w/o input pref.", what: "a−b and c−d" },
  "iopo-no-output": {
    loss: "iopo-no-output",
    data: "groups",
    ref: true,
    label: "w/o output pref.",
    what: "a−d and c−b",
  },
  orpo: { loss: "orpo", data: "pairs", ref: false, label: "ORPO", what: "NLL + λ·log-odds ratio, reference-free" },
  simpo: {
    loss: "simpo",
    data: "pairs",
    ref: false,
    label: "SimPO",
    what: "length-normalised rewards, margin γ, reference-free",
  },
};

export const DemoConfigSchema = z.strictObject({
  profile: z.enum(PROFILES),
  seed: z
    .number()
    .int()
    .nonnegative()
    .describe("Seed of construction; run k uses seed + k for data order (and a new model's initialisation)."),
  /** Runs with different data order, and a new model's initialisation (the data and the held-out set are shared). */
  seeds: z.number().int().positive(),
  methods: z.array(z.enum(METHODS)).min(1),
  /** Construction: seeds attempted for the training sets (kept records are fewer). */
  n: z.number().int().positive(),
  /** Held-out evaluation instructions (half single-, half multi-constraint), from topics training never sees. */
  eval_n: z.number().int().positive(),
  /** Records whose longest prompt + response exceeds this many characters are left out of training. */
  max_chars: z.number().int().positive(),
  /**
   * The training data's offline world (the held-out set is always built by the default world): where keyword
   * constraints take their words, and whether the responder quotes required keywords (src/construct/offline).
   * Absent in configurations saved before it existed, which were built with the defaults.
   */
  world: z
    .strictObject({
      keywords: z.enum(KEYWORD_POOLS),
      /** Multiplies how often the keyword forms are drawn in training data. */
      keyword_weight: z.number().positive(),
      quote_keywords: z.boolean(),
    })
    .default({ keywords: "topic", keyword_weight: 1, quote_keywords: false }),
  /**
   * The starting model of every seed: "shipped" copies the instruction-tuned base in assets/demo-base/ (written once
   * by scripts/demo-base.ts, the demo's model shape); "new" creates a model with random weights and a tokenizer trained
   * on the training texts (configurations saved before the base existed).
   */
  base: z.enum(["new", "shipped"]).default("new"),
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
  /** Shared by every method after SFT: same steps, schedule, peak LR, batch (records) and seed. */
  pref: z.strictObject({
    steps: z.number().int().positive(),
    lr: z.number().positive(),
    batch: z.number().int().positive(),
    warmup: z.number().min(0),
    /** β of DPO, DPO*, IOPO and its variants (the papers' 0.1). */
    beta: z.number().positive(),
  }),
  /** SimPO's β and γ, ORPO's λ: their papers' defaults (src/train/config.ts), not tuned here. */
  simpo: z.strictObject({ beta: z.number().positive(), gamma: z.number().min(0) }),
  orpo: z.strictObject({ lambda: z.number().positive() }),
  /** Token limit of every training sequence (prompt + response + EOS). */
  max_len: z.number().int().positive(),
  /** New-token limit of each generation (greedy). */
  max_tokens: z.number().int().positive(),
  /** Held-out prompts generated together (results equal one at a time; 1 is the fastest on 2 cores). */
  gen_batch: z.number().int().positive(),
  /** Paired bootstrap: resamples and the resampler's seed. */
  bootstrap: z.strictObject({ resamples: z.number().int().positive(), seed: z.number().int().nonnegative() }),
  /** Example generations per model shown in the report. */
  examples: z.number().int().nonnegative(),
  threads: z.number().int().nonnegative(),
});
export type DemoConfig = z.infer<typeof DemoConfigSchema>;

export interface ProfileOptions {
  /** Add the ablations, IOPO*, ORPO and SimPO (quick always runs every method). */
  readonly full?: boolean;
  /** Runs (seeds seed … seed + seeds − 1); default 3 (quick: 2). */
  readonly seeds?: number;
}

/**
 * The profiles. Model size and step counts were fixed for time on a 2-core machine; the data length, SFT steps and
 * training world by SFT-only pilots scored on the validation split (docs/demo.md), never on the held-out set.
 */
export function demoConfig(profile: Profile, seed: number, o: ProfileOptions = {}): DemoConfig {
  const common = {
    profile,
    seed,
    simpo: { beta: 2, gamma: 1 },
    orpo: { lambda: 0.1 },
    bootstrap: { resamples: 2000, seed: 0 },
    threads: 0,
  };
  if (profile === "quick")
    return DemoConfigSchema.parse({
      ...common,
      seeds: o.seeds ?? 2,
      methods: [...METHODS],
      n: 60,
      eval_n: 8,
      max_chars: 700,
      world: { keywords: "topic", keyword_weight: 1, quote_keywords: false },
      model: { arch: "llama", vocab_size: 512, hidden: 32, layers: 1, heads: 2, kv_heads: 2, intermediate: 64 },
      sft: { steps: 6, lr: 3e-3, batch: 4, warmup: 0.1 },
      pref: { steps: 2, lr: 1e-3, batch: 2, warmup: 0.1, beta: 0.1 },
      max_len: 512,
      max_tokens: 16,
      gen_batch: 1,
      bootstrap: { resamples: 200, seed: 0 },
      examples: 2,
    });
  return DemoConfigSchema.parse({
    ...common,
    seeds: o.seeds ?? 3,
    methods: o.full ? [...METHODS] : [...BASE_METHODS],
    n: 4800,
    eval_n: 300,
    // Short records only (≈ 1,450 SFT examples kept of ≈ 4,650): responses a 0.8M-parameter model learns to write
    // whole within the budget, and shorter sequences to train on and generate (docs/demo.md, "Power").
    max_chars: 500,
    // The default world (keyword constraints name the topic's nouns): the SFT-only pilots on the validation split
    // chose it with 1,800 SFT steps over invented keywords (scripts/demo-pilots.ts; docs/demo.md).
    world: { keywords: "topic", keyword_weight: 1, quote_keywords: false },
    // Every seed starts from the shipped base (assets/demo-base/: this model shape after 24,000 SFT steps on 22,809
    // examples of the training topics, scripts/demo-base.ts), as the paper starts from instruction-tuned models; the
    // validation pilots chose it (base-600) over every new-model row.
    base: "shipped",
    model: { arch: "llama", vocab_size: 1536, hidden: 128, layers: 2, heads: 4, kv_heads: 4, intermediate: 384 },
    // 600 steps from the base: the validation pilots' choice (base-600 over base-1800, which overfits the 1,461
    // examples).
    sft: { steps: 600, lr: 3e-3, batch: 8, warmup: 0.05 },
    // 150 × 4 records ≈ half an epoch of the ≈ 1,100 groups or pairs; LR and β as in the earlier demo and the papers.
    pref: { steps: 150, lr: 2e-4, batch: 4, warmup: 0.1, beta: 0.1 },
    max_len: 512,
    max_tokens: 128,
    // One prompt at a time: on 2 cores batching costs more than it saves here (300 held-out prompts, SFT model, CPU
    // seconds: batch 1 8.6, 4 16.0, 8 21.0, 16 28.4, 64 38.9; identical outputs).
    gen_batch: 1,
    examples: 3,
  });
}
