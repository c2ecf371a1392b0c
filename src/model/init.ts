// Seeded random initialisation of a fresh model, as Hugging Face `_init_weights` does for Llama/Qwen2:
// Linear and Embedding weights ~ normal(0, initializer_range), biases 0, RMSNorm gains 1, the pad row of the
// embedding 0. Deterministic for a seed on every machine (own PRNG, not Math.random). No file I/O.

import type { ModelConfig } from "./config.ts";
import { allocateParams, type ModelParams, paramTable } from "./params.ts";
import { Rng } from "./rng.ts";

// ---- helpers ----

/** A uniform [0, 1) generator for a seed (the same stream as `Rng.fromSeed(seed)`). */
export function makeRng(seed: number): () => number {
  const rng = Rng.fromSeed(seed);
  return () => rng.next();
}

/** Standard normal samples by Box–Muller from a uniform generator (uses both outputs of each pair). */
function normalSampler(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - uniform(); // (0, 1]: log is finite
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

// ---- exports ----

/** A freshly initialised model for `cfg`: tensors filled in table order from one seeded stream. */
export function initParams(cfg: ModelConfig, seed: number): ModelParams {
  const params = allocateParams(paramTable(cfg));
  const normal = normalSampler(makeRng(seed));
  const std = cfg.initializer_range;
  params.table.forEach((row, i) => {
    const t = params.tensors[i]!;
    if (row.init === "ones") t.fill(1);
    else if (row.init === "normal") for (let j = 0; j < t.length; j++) t[j] = std * normal();
  });
  // HF builds the embedding with padding_idx = pad_token_id and zeroes that row.
  const pad = typeof cfg.pad_token_id === "number" ? cfg.pad_token_id : null;
  if (pad !== null && pad < cfg.vocab_size)
    params.tensors[0]!.fill(0, pad * cfg.hidden_size, (pad + 1) * cfg.hidden_size);
  return params;
}
