// Rotary position embedding of a config: `rope_scaling` resolved and checked (default, linear, dynamic, llama3,
// yarn), the inverse frequencies and attention factor of each type as transformers computes them (in float32
// steps, as its `modeling_rope_utils` does), and the cos/sin tables the forward graph is fed (HF layout: halves
// duplicated, scaled by the attention factor). Does not build graph nodes: the rotation itself is E.rope.

import { ConfigError } from "../errors.ts";
import type { ModelConfig } from "./config.ts";

// ---- types ----

/** A resolved `rope_scaling`, discriminated by kind; every number is the one the computation uses. */
export type RopeSpec =
  | { readonly kind: "default" }
  | { readonly kind: "linear"; readonly factor: number }
  | { readonly kind: "dynamic"; readonly factor: number; readonly maxPosition: number }
  | {
      readonly kind: "llama3";
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMax: number;
    }
  | {
      readonly kind: "yarn";
      readonly factor: number;
      readonly originalMax: number;
      readonly attentionFactor: number;
      readonly betaFast: number;
      readonly betaSlow: number;
      readonly truncate: boolean;
    };

/** Inverse frequencies [D/2] and the factor cos/sin are multiplied by (1 except for yarn). */
export interface RopeFrequencies {
  readonly invFreq: Float32Array;
  readonly attentionFactor: number;
}

// ---- helpers ----

const f32 = Math.fround;
const KINDS = ["default", "linear", "dynamic", "llama3", "yarn"] as const;

/** θ^(2i/D) for i < D/2 in float32, as `base ** (arange(0, D, 2).float() / D)`. */
function posFreqs(base: number, D: number): Float32Array {
  const out = new Float32Array(D / 2);
  for (let i = 0; i < D / 2; i++) out[i] = f32(f32(base) ** f32((2 * i) / D));
  return out;
}

/** 1 / θ^(2i/D) in float32: the plain RoPE inverse frequencies. */
function defaultInvFreq(base: number, D: number): Float32Array {
  return posFreqs(base, D).map((p) => f32(1 / p));
}

/** Llama 3.1: long wavelengths divided by factor, short ones kept, the band between interpolated smoothly. */
function llama3InvFreq(inv: Float32Array, s: Extract<RopeSpec, { kind: "llama3" }>): Float32Array {
  const lowWavelen = s.originalMax / s.lowFreqFactor; // longer than this: fully scaled
  const highWavelen = s.originalMax / s.highFreqFactor; // shorter than this: untouched
  return inv.map((f) => {
    const wavelen = f32(f32(1 / f) * f32(2 * Math.PI)); // 2π / f, as torch's reciprocal-then-multiply
    if (wavelen < f32(highWavelen)) return f;
    if (wavelen > f32(lowWavelen)) return f32(f / f32(s.factor));
    const smooth = f32(
      f32(f32(f32(1 / wavelen) * f32(s.originalMax)) - f32(s.lowFreqFactor)) / f32(s.highFreqFactor - s.lowFreqFactor),
    );
    return f32(f32(f32(f32(1 - smooth) * f) / f32(s.factor)) + f32(smooth * f));
  });
}

/** YaRN: interpolation (÷ factor) for low frequencies, extrapolation for high ones, a linear ramp between. */
function yarnInvFreq(base: number, D: number, s: Extract<RopeSpec, { kind: "yarn" }>): Float32Array {
  // The dimension whose wavelength turns `rotations` times over the original context.
  const corrDim = (rotations: number) =>
    (D * Math.log(s.originalMax / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = corrDim(s.betaFast);
  let high = corrDim(s.betaSlow);
  if (s.truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
  [low, high] = [Math.max(low, 0), Math.min(high, D - 1)];
  if (low === high) high += 0.001; // avoid 0/0, as transformers does
  const pos = posFreqs(base, D);
  return pos.map((p, i) => {
    const ramp = f32(Math.min(1, Math.max(0, f32(f32(i - f32(low)) / f32(high - low)))));
    const extrapolation = f32(1 - ramp); // weight of the unscaled frequency
    const inter = f32(1 / f32(f32(s.factor) * p));
    const extra = f32(1 / p);
    return f32(f32(inter * f32(1 - extrapolation)) + f32(extra * extrapolation));
  });
}

/** YaRN's attention factor: given, or from mscale/mscale_all_dim, or 0.1·ln(factor) + 1. */
function yarnAttentionFactor(r: NonNullable<ModelConfig["rope_scaling"]>, factor: number): number {
  if (r.attention_factor !== undefined) return r.attention_factor;
  const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  if (r.mscale && r.mscale_all_dim) return mscale(factor, r.mscale) / mscale(factor, r.mscale_all_dim);
  return mscale(factor);
}

// ---- exports ----

/**
 * Resolve `rope_scaling` (null → default). Follows transformers ≥ 4.56 (after its YaRN fix #40320): a given
 * yarn `factor` is used as is; without one it is max_position_embeddings / original_max_position_embeddings.
 * Throws ConfigError naming the `rope_scaling.<key>` that is missing or of a type iopo does not compute.
 */
export function ropeSpec(cfg: ModelConfig, path = "config.json"): RopeSpec {
  const r = cfg.rope_scaling ?? cfg.rope_parameters;
  if (r === null || r === undefined) return { kind: "default" };
  const kind = r.rope_type ?? r.type ?? "default";
  const fail = (key: string, expected: string, got: unknown) =>
    new ConfigError("unsupported rope_scaling", {
      path,
      field: `${cfg.rope_scaling ? "rope_scaling" : "rope_parameters"}.${key}`,
      expected,
      got: JSON.stringify(got) ?? "nothing",
      hint: "iopo computes rope_scaling types default, linear, dynamic, llama3 and yarn as transformers does",
    });
  const need = (key: "factor" | "low_freq_factor" | "high_freq_factor" | "original_max_position_embeddings") => {
    const v = r[key];
    if (v === undefined) throw fail(key, `a number (required for rope_type "${kind}")`, v);
    return v;
  };
  switch (kind as (typeof KINDS)[number]) {
    case "default":
      return { kind: "default" };
    case "linear":
      return { kind: "linear", factor: need("factor") };
    case "dynamic":
      return { kind: "dynamic", factor: need("factor"), maxPosition: cfg.max_position_embeddings };
    case "llama3": {
      const spec = {
        kind: "llama3",
        factor: need("factor"),
        lowFreqFactor: need("low_freq_factor"),
        highFreqFactor: need("high_freq_factor"),
        originalMax: need("original_max_position_embeddings"),
      } as const;
      if (spec.highFreqFactor <= spec.lowFreqFactor)
        throw fail("high_freq_factor", `more than low_freq_factor ${spec.lowFreqFactor}`, spec.highFreqFactor);
      return spec;
    }
    case "yarn": {
      const originalMax = r.original_max_position_embeddings ?? cfg.max_position_embeddings;
      const factor = r.factor ?? cfg.max_position_embeddings / originalMax;
      return {
        kind: "yarn",
        factor,
        originalMax,
        attentionFactor: yarnAttentionFactor(r, factor),
        betaFast: r.beta_fast || 32,
        betaSlow: r.beta_slow || 1,
        truncate: r.truncate ?? true,
      };
    }
    default:
      throw fail(r.rope_type !== undefined ? "rope_type" : "type", KINDS.join(", "), kind);
  }
}

/** θ: `rope_parameters.rope_theta` (transformers ≥ 5) or `rope_theta`. */
export function ropeTheta(cfg: ModelConfig): number {
  return cfg.rope_parameters?.rope_theta ?? cfg.rope_theta;
}

/**
 * The inverse frequencies [D/2] for a forward over positions 0..seqLen-1 (`seqLen` matters only for dynamic
 * NTK, which rescales θ once the sequence is longer than max_position_embeddings, as a fresh transformers model
 * does on a forward of that length).
 */
export function ropeFrequencies(cfg: ModelConfig, seqLen: number): RopeFrequencies {
  const spec = ropeSpec(cfg);
  const D = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
  const base = ropeTheta(cfg);
  switch (spec.kind) {
    case "default":
      return { invFreq: defaultInvFreq(base, D), attentionFactor: 1 };
    case "linear":
      return { invFreq: defaultInvFreq(base, D).map((f) => f32(f / f32(spec.factor))), attentionFactor: 1 };
    case "dynamic": {
      const len = Math.max(seqLen, spec.maxPosition);
      const scaled = base * ((spec.factor * len) / spec.maxPosition - (spec.factor - 1)) ** (D / (D - 2));
      return { invFreq: defaultInvFreq(scaled, D), attentionFactor: 1 };
    }
    case "llama3":
      return { invFreq: llama3InvFreq(defaultInvFreq(base, D), spec), attentionFactor: 1 };
    case "yarn":
      return { invFreq: yarnInvFreq(base, D, spec), attentionFactor: spec.attentionFactor };
  }
}

/**
 * cos/sin tables [T, D] for positions 0..T-1 (HF layout: emb = cat(freqs, freqs), angle = f32(invFreq · t),
 * cos and sin × attention factor, all float32). `seqLen` (default T) is the forward's length for dynamic NTK.
 */
export function ropeTables(cfg: ModelConfig, T: number, seqLen = T): { cos: Float32Array; sin: Float32Array } {
  const { invFreq, attentionFactor } = ropeFrequencies(cfg, seqLen);
  const half = invFreq.length;
  const D = 2 * half;
  const a = f32(attentionFactor);
  const cos = new Float32Array(T * D);
  const sin = new Float32Array(T * D);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      const angle = f32(invFreq[i]! * t);
      cos[t * D + i] = cos[t * D + i + half] = f32(f32(Math.cos(angle)) * a);
      sin[t * D + i] = sin[t * D + i + half] = f32(f32(Math.sin(angle)) * a);
    }
  return { cos, sin };
}
