// Collation: the sequence order, the chat template and EOS, the authors' source/target split, truncation counts,
// and format coercion (groups read as DPO pairs or SFT examples).

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadTokenizer } from "../../src/model/index.ts";
import {
  chatEncoder,
  type Encoder,
  inferMaxLen,
  loadRecords,
  SEQUENCE_ORDER,
  tokenizeRecords,
} from "../../src/train/index.ts";
import { tinyModel, tmp, writeCaseGroups } from "./helpers.ts";

/** A transparent encoder: one token per character code, EOS = 0. */
const charEnc: Encoder = {
  prompt: (t) => [...t].map((c) => c.charCodeAt(0)),
  response: (t) => [...[...t].map((c) => c.charCodeAt(0)), 0],
};

test("groups become (x1,y1), (x1,y2), (x2,y2), (x2,y1) with the TRACE layout, chat template and EOS", async () => {
  const dir = await tmp("collate");
  await tinyModel(join(dir, "model"));
  const path = join(dir, "g.jsonl");
  await writeCaseGroups(path, 2);
  const texts = await loadRecords(path, "iopo");
  assert.equal(texts.length, 2);
  assert.equal(texts[0]!.prompts[0], "Write one sentence about rivers.\n1. Use uppercase letters only.\n");
  assert.equal(SEQUENCE_ORDER.group.length, texts[0]!.pairs.length);
  assert.deepEqual(texts[0]!.pairs, [
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 0],
  ]);
  const tok = await loadTokenizer(join(dir, "model"));
  const eos = tok.specialId("eos")!;
  const { records } = tokenizeRecords(texts, chatEncoder(tok, eos), 512);
  const [s11, s21, s22, s12] = records[0]!.seqs;
  assert.deepEqual(s11!.prompt, s21!.prompt);
  assert.deepEqual(s22!.prompt, s12!.prompt);
  assert.deepEqual(s11!.response, s12!.response);
  assert.deepEqual(s21!.response, s22!.response);
  assert.equal(s11!.response.at(-1), eos);
  assert.equal(
    tok.decode(s11!.prompt),
    "<|im_start|>user\nWrite one sentence about rivers.\n1. Use uppercase letters only.\n<|im_end|>\n<|im_start|>assistant\n",
  );
  assert.equal(tok.decode(s11!.response), "RIVERS ARE GOOD.<|im_end|>");
  // SFT* reads each group as its two preferred examples (x1, y1), (x2, y2).
  const star = await loadRecords(path, "sft-star");
  assert.deepEqual(
    star.map((p) => p.id),
    ["g0#x1", "g0#x2", "g1#x1", "g1#x2"],
  );
  assert.deepEqual(star[1]!.responses, ["rivers are good."]);
  assert.deepEqual(star[0]!.pairs, [[0, 0]]);
  // DPO and SFT on groups are refused, naming the paper's token-matched variants.
  await assert.rejects(loadRecords(path, "dpo"), /trains on pairs, and this file holds IOPO groups[\s\S]*dpo-star/);
  await assert.rejects(loadRecords(path, "sft"), /sft-star/);
});

test("inferMaxLen follows the authors' split of the cutoff", () => {
  assert.deepEqual(inferMaxLen(100, 20, 64), [44, 20]); // short responses keep everything
  assert.deepEqual(inferMaxLen(20, 100, 64), [20, 44]); // short prompts keep everything
  assert.deepEqual(inferMaxLen(100, 100, 64), [32, 32]); // both long: shared in proportion
  assert.deepEqual(inferMaxLen(10, 10, 64), [10, 10]);
});

test("both prompts are cut to one source length and both responses to one target length, and counted", () => {
  const rec = {
    id: "r",
    line: 3,
    prompts: ["a".repeat(40), "b".repeat(30)],
    responses: ["y".repeat(39), "z".repeat(9)],
    pairs: [
      [0, 0],
      [0, 1],
      [1, 1],
      [1, 0],
    ] as const,
  };
  const short = { id: "s", line: 4, prompts: ["p", "pp"], responses: ["q", "qq"], pairs: rec.pairs };
  const { records, report } = tokenizeRecords([rec, short], charEnc, 48);
  // source 40, target 40 (39 + EOS) → cutoff 48 split in proportion: 24 each.
  const [a, b, c, d] = records[0]!.seqs;
  assert.deepEqual(
    [a!.prompt.length, a!.response.length, b!.response.length, c!.prompt.length, d!.response.length],
    [24, 24, 10, 24, 24],
  );
  assert.deepEqual(report, { records: 2, truncated: 1, promptTokensCut: 16 + 6, responseTokensCut: 16, longest: 48 });
  assert.equal(records[1]!.truncated, false);
  assert.throws(
    () => tokenizeRecords([rec], charEnc, 1, "data/groups.jsonl"),
    /data\/groups\.jsonl:3: a sequence has no prompt or no response tokens left.*\n?.*raise --max-len/s,
  );
});
