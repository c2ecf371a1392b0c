// Up-front vocabulary checks: a tokenizer with ids past vocab_size and token ids outside [0, vocab_size) are refused
// with the file, line and field named and a HINT; ids that fit pass.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, DataError } from "../../src/errors.ts";
import { checkTokenIds, checkTokenizerFitsModel, type ModelConfig } from "../../src/model/index.ts";

test("checkTokenizerFitsModel refuses a tokenizer larger than the embedding table", () => {
  // Only vocab_size is read.
  const cfg = { vocab_size: 300 } as ModelConfig;
  checkTokenizerFitsModel({ vocabSize: 300 }, cfg, "m");
  checkTokenizerFitsModel({ vocabSize: 12 }, cfg, "m");
  assert.throws(
    () => checkTokenizerFitsModel({ vocabSize: 401 }, cfg, "models/x"),
    (e: unknown) =>
      e instanceof ConfigError &&
      /^models\/x\/tokenizer\.json: the tokenizer has more ids than the model has embedding rows; expected ids below vocab_size 300 \(config\.json\), got 401 ids \(largest 400\)\nHINT: /.test(
        e.message,
      ),
  );
});

test("checkTokenIds names file:line and the field of the first id out of range", () => {
  checkTokenIds([0, 5, 299], 300, { path: "t.jsonl", line: 1, field: "x1" });
  for (const [ids, at, got] of [
    [[1, 300], "y2.1", "300"],
    [[-1], "y2.0", "-1"],
    [[2, 1.5], "y2.1", "1.5"],
  ] as const)
    assert.throws(
      () => checkTokenIds(ids, 300, { path: "t.jsonl", line: 7, field: "y2" }),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.startsWith(`t.jsonl:7: token id out of range [field ${at}]; expected an integer in [0, 299]`) &&
        e.message.includes(`got ${got}\nHINT: `),
    );
});
