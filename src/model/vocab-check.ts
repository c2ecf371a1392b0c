// Up-front checks that token ids fit a model's embedding table: a tokenizer larger than the model's vocabulary,
// or an id outside [0, vocab_size), would otherwise die deep inside a Gather with an ONNX Runtime stack trace.
// Pure checks that throw; they read nothing.

import { ConfigError, DataError } from "../errors.ts";
import type { ModelConfig } from "./config.ts";

/** Refuse a tokenizer whose ids reach past the model's embedding rows (`vocab_size`). */
export function checkTokenizerFitsModel(tok: { readonly vocabSize: number }, cfg: ModelConfig, dir: string): void {
  if (tok.vocabSize <= cfg.vocab_size) return;
  throw new ConfigError("the tokenizer has more ids than the model has embedding rows", {
    path: `${dir}/tokenizer.json`,
    expected: `ids below vocab_size ${cfg.vocab_size} (config.json)`,
    got: `${tok.vocabSize} ids (largest ${tok.vocabSize - 1})`,
    hint: "use the tokenizer the model was trained with, or a model whose config.json vocab_size covers it",
  });
}

/** Refuse token ids outside [0, vocab_size): names the file, line and field (e.g. `y2.5`). */
export function checkTokenIds(
  ids: readonly number[],
  vocabSize: number,
  where: { readonly path: string; readonly line?: number; readonly field: string },
): void {
  for (const [i, id] of ids.entries()) {
    if (Number.isInteger(id) && id >= 0 && id < vocabSize) continue;
    throw new DataError("token id out of range", {
      path: where.path,
      line: where.line,
      field: `${where.field}.${i}`,
      expected: `an integer in [0, ${vocabSize - 1}] (the model's vocab_size is ${vocabSize})`,
      got: String(id),
      hint: "tokenize with the model's own tokenizer; ids must be below config.json's vocab_size",
    });
  }
}
