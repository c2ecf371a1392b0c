// A new small model from text: a byte-level BPE tokenizer trained on the text (with <|endoftext|>, <|im_start|>,
// <|im_end|> and a ChatML chat template), a Llama or Qwen2 config sized by the options, seeded random weights.
// Returns a ModelDir that hfdir.saveModelDir writes; does no file I/O itself.

import { ConfigError } from "../errors.ts";
import { byteLevelBpeTokenizerJson, trainByteLevelBpe } from "./bpe.ts";
import { type NewConfigOptions, newModelConfig } from "./config.ts";
import type { ModelDir } from "./hfdir.ts";
import { initParams } from "./init.ts";
import { CHATML_TEMPLATE } from "./tokenizer.ts";

// ---- types ----

/** The config options of a new model (vocabSize: the tokenizer size including the 3 special tokens), and a seed. */
export interface CreateModelOptions
  extends Pick<
    NewConfigOptions,
    "arch" | "vocabSize" | "hidden" | "layers" | "heads" | "kvHeads" | "intermediate" | "maxPosition"
  > {
  readonly seed: number;
}

/** The special tokens of a created model, in id order after the learned vocabulary. */
export const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

// ---- exports ----

/** Train the tokenizer on `texts` and build the model directory contents. */
export function createModel(texts: Iterable<string>, o: CreateModelOptions): ModelDir {
  for (const [field, v] of Object.entries(o))
    if (typeof v === "number" && !(Number.isInteger(v) && v >= 0))
      throw new ConfigError(`--${field} must be a non-negative integer`, { field, got: String(v) });
  if (o.heads % o.kvHeads !== 0 || o.hidden % o.heads !== 0 || (o.hidden / o.heads) % 2 !== 0)
    throw new ConfigError("incompatible model sizes", {
      expected: "hidden divisible by heads with an even head size, and heads divisible by kv-heads",
      got: `hidden ${o.hidden}, heads ${o.heads}, kv-heads ${o.kvHeads}`,
    });
  const bpe = trainByteLevelBpe(texts, { vocabSize: o.vocabSize, specialTokens: SPECIAL_TOKENS });
  const id = (t: (typeof SPECIAL_TOKENS)[number]) => bpe.added.find((a) => a.content === t)!.id;
  const [eot, imEnd] = [id("<|endoftext|>"), id("<|im_end|>")];
  const vocabSize = bpe.added[bpe.added.length - 1]!.id + 1;
  const config = newModelConfig({
    arch: o.arch,
    vocabSize,
    hidden: o.hidden,
    layers: o.layers,
    heads: o.heads,
    kvHeads: o.kvHeads,
    intermediate: o.intermediate,
    maxPosition: o.maxPosition,
    bosTokenId: eot,
    eosTokenId: imEnd,
    padTokenId: eot,
  });
  const addedTokensDecoder = Object.fromEntries(
    bpe.added.map((t) => [
      String(t.id),
      { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
    ]),
  );
  const tokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: config.max_position_embeddings,
    pad_token: "<|endoftext|>",
    split_special_tokens: false,
    tokenizer_class: "PreTrainedTokenizerFast",
    unk_token: null,
  };
  return {
    config,
    params: initParams(config, o.seed),
    files: {
      "tokenizer.json": byteLevelBpeTokenizerJson(bpe, bpe.added),
      "tokenizer_config.json": tokenizerConfig,
      "special_tokens_map.json": {
        additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
        eos_token: "<|im_end|>",
        pad_token: "<|endoftext|>",
      },
      "generation_config.json": { bos_token_id: eot, eos_token_id: [imEnd, eot], pad_token_id: eot },
    },
  };
}
