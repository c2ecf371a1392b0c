import assert from "node:assert/strict";
import { test } from "node:test";
import { INSTRUCTION_IDS, isInstructionId, parseInstruction, REGISTRY } from "../../../src/checks/ifeval/index.ts";

test("the registry has the 25 official instruction ids, each checker keyed by its own kind", () => {
  assert.equal(INSTRUCTION_IDS.length, 25);
  for (const id of INSTRUCTION_IDS) assert.equal(REGISTRY[id].kind, id);
  assert.ok(isInstructionId("startend:quotation"));
  assert.ok(!isInstructionId("keywords:key_sentences"));
});

test("null kwargs (Hugging Face layout) are dropped; unknown or missing kwargs are rejected", () => {
  const hf = { num_highlights: 2, relation: null, num_words: null };
  const ok = parseInstruction("detectable_format:number_highlighted_sections", hf);
  assert.ok(ok.success);
  assert.deepEqual(ok.def, { kind: "detectable_format:number_highlighted_sections", num_highlights: 2 });
  assert.equal(
    parseInstruction("detectable_format:number_highlighted_sections", { num_highlights: 2, x: 1 }).success,
    false,
  );
  const missing = parseInstruction("length_constraints:number_words", { num_words: 10 });
  assert.ok(!missing.success);
  assert.deepEqual(missing.error.issues[0]!.path, ["relation"]);
});
