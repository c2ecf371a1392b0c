// The model configuration: one zod schema for Hugging Face LlamaForCausalLM / Qwen2ForCausalLM `config.json`.
// Llama versus Qwen2 differences (q/k/v/o/mlp bias, tied head, rope θ and scaling, GQA, head_dim, sliding window)
// are flags derived here, not subclasses. Does not read files (hfdir.ts), compute RoPE tables (rope.ts) or build
// the forward graph (llama.ts).

import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { zodToDataError } from "../io/index.ts";
import { type RopeSpec, ropeSpec, ropeTheta } from "./rope.ts";

// ---- types ----

/**
 * `rope_scaling` as transformers reads it (`rope_type`, or the older `type`); the types iopo computes are
 * default, linear, dynamic, llama3 and yarn (rope.ts). Example: Llama-3.2-1B's
 * `{rope_type: "llama3", factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192}`.
 */
export const RopeScalingSchema = z.looseObject({
  rope_type: z.string().optional(), // "llama3" | "linear" | "dynamic" | "yarn" | "default"
  type: z.string().optional(), // the same, older spelling (Qwen2.5's yarn snippet uses it)
  factor: z.number().positive().optional(), // 32 (L 3.2), 4 (Qwen2.5 yarn)
  original_max_position_embeddings: z.number().int().positive().optional(), // 8192 (L 3.2), 32768 (Qwen2.5 yarn)
  low_freq_factor: z.number().positive().optional(), // 1 (llama3)
  high_freq_factor: z.number().positive().optional(), // 4 (llama3)
  attention_factor: z.number().nonnegative().optional(), // yarn: scales cos/sin; default from factor (and mscale)
  beta_fast: z.number().positive().optional(), // yarn: 32
  beta_slow: z.number().positive().optional(), // yarn: 1
  mscale: z.number().optional(), // yarn (DeepSeek-style): 1
  mscale_all_dim: z.number().optional(), // yarn (DeepSeek-style): 1
  truncate: z.boolean().optional(), // yarn: floor/ceil the correction range (default true)
});

/** Token id field: HF writes a number, a list of numbers (Llama-3.1 eos), or null. */
const TokenId = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullable();

/**
 * `config.json` of a Llama-family causal LM. Unknown keys (transformers_version, use_cache, …) are kept and saved
 * back; missing optional keys get the defaults shown. Example values are Qwen2-0.5B (Q) and Llama-3.2-1B (L).
 */
export const ModelConfigSchema = z.looseObject({
  architectures: z.array(z.string()).default(["LlamaForCausalLM"]), // ["Qwen2ForCausalLM"]
  model_type: z.enum(["llama", "qwen2"]), // "qwen2" (Q), "llama" (L)
  vocab_size: z.number().int().positive(), // 151936 (Q), 128256 (L)
  hidden_size: z.number().int().positive(), // 896 (Q), 2048 (L)
  intermediate_size: z.number().int().positive(), // 4864 (Q), 8192 (L)
  num_hidden_layers: z.number().int().positive(), // 24 (Q), 16 (L)
  num_attention_heads: z.number().int().positive(), // 14 (Q), 32 (L)
  num_key_value_heads: z.number().int().positive().optional(), // 2 (Q), 8 (L); absent = num_attention_heads
  head_dim: z.number().int().positive().nullable().optional(), // 64 (L); absent or null = hidden / heads
  max_position_embeddings: z.number().int().positive().default(2048), // 32768 (Q), 131072 (L)
  rms_norm_eps: z.number().positive().default(1e-6), // 1e-6 (Q), 1e-5 (L)
  rope_theta: z.number().positive().default(10000), // 1000000 (Q), 500000 (L)
  rope_scaling: RopeScalingSchema.nullable().optional(), // null (Q); {rope_type: "llama3", …} (L 3.1/3.2)
  // transformers ≥ 5 writes θ and the scaling together: {rope_type: "default", rope_theta: 1000000}
  rope_parameters: RopeScalingSchema.extend({ rope_theta: z.number().positive().optional() }).nullable().optional(),
  partial_rotary_factor: z.literal(1).optional(), // 1: Llama/Qwen2 rotate the whole head
  tie_word_embeddings: z.boolean().default(false), // true (Q 0.5B), true (L 1B), false (Llama-2-7B)
  attention_bias: z.boolean().optional(), // false; Llama only: bias on q/k/v/o; Qwen2 always has q/k/v bias
  mlp_bias: z.boolean().optional(), // false; Llama only: bias on gate/up/down
  use_sliding_window: z.boolean().optional(), // false (Q); Qwen2 only
  sliding_window: z.number().int().positive().nullable().optional(), // 32768 (Q); tokens a query may look back
  max_window_layers: z.number().int().nonnegative().optional(), // 21 (Q); layers ≥ this use the window (default 28)
  hidden_act: z.literal("silu").default("silu"), // "silu"
  initializer_range: z.number().positive().default(0.02), // 0.02: std of the normal init
  bos_token_id: TokenId.optional(), // 151643 (Q), 128000 (L)
  eos_token_id: TokenId.optional(), // 151645 (Q Instruct), [128001, 128008, 128009] (L Instruct)
  pad_token_id: TokenId.optional(), // null (Q), absent (L)
  torch_dtype: z.string().optional(), // "bfloat16"
});

export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** The numbers and flags the forward pass and the parameter table need, with the dimension letters of STYLE 8. */
export interface ModelDims {
  readonly V: number; // vocab_size
  readonly C: number; // hidden_size
  readonly L: number; // num_hidden_layers
  readonly H: number; // num_attention_heads
  readonly Hkv: number; // num_key_value_heads
  readonly D: number; // head_dim
  readonly I: number; // intermediate_size
  /** q/k/v projections carry a bias (always for Qwen2; Llama with attention_bias). */
  readonly qkvBias: boolean;
  /** o_proj carries a bias (Llama with attention_bias only). */
  readonly oBias: boolean;
  /** gate/up/down projections carry a bias (Llama with mlp_bias). */
  readonly mlpBias: boolean;
  /** lm_head shares model.embed_tokens.weight. */
  readonly tied: boolean;
  readonly ropeTheta: number;
  /** The resolved rope_scaling (kind "default" without one). */
  readonly rope: RopeSpec;
  /** Sliding-window size when some layer uses one (Qwen2 use_sliding_window), else null. */
  readonly window: number | null;
  readonly eps: number;
}

// ---- helpers ----

/** Qwen2's sliding window as transformers applies it: layers i ≥ max_window_layers (default 28) when enabled. */
function slidingWindow(cfg: ModelConfig): number | null {
  if (cfg.model_type !== "qwen2" || cfg.use_sliding_window !== true) return null;
  if (cfg.sliding_window === null || cfg.sliding_window === undefined) return null;
  return (cfg.max_window_layers ?? 28) < cfg.num_hidden_layers ? cfg.sliding_window : null;
}

// ---- exports ----

/** Validate a parsed `config.json`; `path` names the file in errors. Throws ConfigError for unsupported options. */
export function parseModelConfig(raw: unknown, path = "config.json"): ModelConfig {
  const parsed = ModelConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const e = zodToDataError(parsed.error, raw, { path, hint: "check config.json against a LlamaForCausalLM one" });
    throw new ConfigError(e.message.split("\n")[0]!.replace(`${path}: `, ""), { ...e.fields, path });
  }
  const cfg = parsed.data;
  const H = cfg.num_attention_heads;
  const Hkv = cfg.num_key_value_heads ?? H;
  const fail = (field: string, expected: string, got: string) =>
    new ConfigError("unsupported model configuration", { path, field, expected, got });
  ropeSpec(cfg, path); // throws naming the rope_scaling field it cannot use
  if (H % Hkv !== 0) throw fail("num_key_value_heads", `a divisor of num_attention_heads ${H}`, String(Hkv));
  if ((cfg.head_dim ?? undefined) === undefined && cfg.hidden_size % H !== 0)
    throw fail("hidden_size", `a multiple of num_attention_heads ${H}`, String(cfg.hidden_size));
  if ((cfg.head_dim ?? cfg.hidden_size / H) % 2 !== 0)
    throw fail("head_dim", "an even number (RoPE rotates pairs)", String(cfg.head_dim ?? cfg.hidden_size / H));
  return cfg;
}

/** The dimensions and flags of a config (Qwen2 ⇒ q/k/v bias; Llama ⇒ bias only with attention_bias). */
export function modelDims(cfg: ModelConfig): ModelDims {
  const H = cfg.num_attention_heads;
  const qwen2 = cfg.model_type === "qwen2";
  return {
    V: cfg.vocab_size,
    C: cfg.hidden_size,
    L: cfg.num_hidden_layers,
    H,
    Hkv: cfg.num_key_value_heads ?? H,
    D: cfg.head_dim ?? cfg.hidden_size / H,
    I: cfg.intermediate_size,
    qkvBias: qwen2 || cfg.attention_bias === true,
    oBias: !qwen2 && cfg.attention_bias === true,
    mlpBias: !qwen2 && cfg.mlp_bias === true,
    tied: cfg.tie_word_embeddings,
    ropeTheta: ropeTheta(cfg),
    rope: ropeSpec(cfg),
    window: slidingWindow(cfg),
    eps: cfg.rms_norm_eps,
  };
}

/**
 * Refuse a run whose longest sequence (`maxLen` tokens, prompt + response) would reach past a Qwen2 sliding
 * window: iopo computes full causal attention, which equals sliding-window attention exactly when every query
 * sees at most `sliding_window` tokens. `what` names where maxLen comes from, e.g. "--max-len".
 */
export function checkSequenceLength(cfg: ModelConfig, maxLen: number, what = "the longest sequence"): void {
  const window = slidingWindow(cfg);
  if (window === null || maxLen <= window) return;
  throw new ConfigError("sliding-window attention is not supported beyond the window", {
    field: "use_sliding_window",
    expected: `sequences of at most sliding_window = ${window} tokens (layers ≥ max_window_layers = ${cfg.max_window_layers ?? 28} use the window)`,
    got: `${what}: ${maxLen} tokens`,
    hint: `use --max-len ${window} or less, or set "use_sliding_window": false in config.json if the model was trained with full attention`,
  });
}

/** Options for a new config (init-model); anything not given takes the value shown. */
export interface NewConfigOptions {
  readonly arch: "llama" | "qwen2";
  readonly vocabSize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly intermediate: number;
  readonly maxPosition?: number; // 2048
  readonly ropeTheta?: number; // 1e6 for qwen2, 5e5 for llama
  readonly tieEmbeddings?: boolean; // true for qwen2, false for llama
  readonly bosTokenId: number | null;
  readonly eosTokenId: number;
  readonly padTokenId: number | null;
}

/** A complete config.json object, as transformers writes it, for a new model. */
export function newModelConfig(o: NewConfigOptions): ModelConfig {
  const qwen2 = o.arch === "qwen2";
  const raw = {
    architectures: [qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
    model_type: o.arch,
    vocab_size: o.vocabSize,
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    max_position_embeddings: o.maxPosition ?? 2048,
    rms_norm_eps: 1e-6,
    rope_theta: o.ropeTheta ?? (qwen2 ? 1e6 : 5e5),
    rope_scaling: null,
    tie_word_embeddings: o.tieEmbeddings ?? qwen2,
    ...(qwen2 ? { use_sliding_window: false, sliding_window: null } : { attention_bias: false, mlp_bias: false }),
    attention_dropout: 0,
    hidden_act: "silu",
    initializer_range: 0.02,
    bos_token_id: o.bosTokenId,
    eos_token_id: o.eosTokenId,
    pad_token_id: o.padTokenId,
    torch_dtype: "float32",
    use_cache: true,
  };
  return parseModelConfig(raw, "<new config>");
}
