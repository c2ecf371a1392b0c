// Seeded random initialisation of a fresh model, as Hugging Face `_init_weights` does for Llama/Qwen2:
// Linear and Embedding weights ~ normal(0, initializer_range), biases 0, RMSNorm gains 1, the pad row of the
// embedding 0. Deterministic for a seed on every machine (own PRNG, not Math.random). No file I/O.

import type { ModelConfig } from "./config.ts";
import { allocateParams, type ModelParams, paramTable } from "./params.ts";

// ---- helpers ----

/** xoshiro128** seeded through splitmix32: a small, fast, well-mixed 32-bit generator. */
export function makeRng(seed: number): () => number {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const m = Math.imul(b, 5);
    const r = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0) / 4294967296; // rotl(b·5, 7)·9 in [0, 1)
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return r;
  };
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
