// The random Qwen2-shaped configs of the memory probe (memory-probe.ts), its test and `npm run bench:memory`:
// no BOS, EOS id 0, no pad token, tied embeddings.

import { type ModelConfig, newModelConfig } from "../../src/model/index.ts";

export const probeShape = (
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  intermediate: number,
  vocabSize: number,
): ModelConfig =>
  newModelConfig({
    arch: "qwen2",
    vocabSize,
    hidden,
    layers,
    heads,
    kvHeads,
    intermediate,
    bosTokenId: null,
    eosTokenId: 0,
    padTokenId: null,
  });
