import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { scoreIfevalFiles } from "../../../src/evaluate/ifeval/index.ts";

const dir = mkdtempSync(join(tmpdir(), "ifeval-load-"));
const input = join(dir, "in.jsonl");
writeFileSync(
  input,
  [
    JSON.stringify({ key: 1, prompt: "p1", instruction_id_list: ["punctuation:no_comma"], kwargs: [{}] }),
    JSON.stringify({ key: 2, prompt: "p2", instruction_id_list: ["punctuation:no_comma"], kwargs: [] }),
  ].join("\n"),
);

test("a malformed input line names file:line and field", async () => {
  const responses = join(dir, "r.jsonl");
  writeFileSync(responses, `${JSON.stringify({ prompt: "p1", response: "a b" })}\n`);
  await assert.rejects(scoreIfevalFiles(input, responses), /in\.jsonl:2: .*kwargs/);
});

test("with skipInvalid, bad lines and unanswered prompts are skipped and counted", async () => {
  const responses = join(dir, "r2.jsonl");
  writeFileSync(responses, `${JSON.stringify({ prompt: "p1", response: "a b" })}\n{"response": 3}\n`);
  const r = await scoreIfevalFiles(input, responses, { skipInvalid: true });
  assert.equal(r.verdicts.length, 1);
  assert.deepEqual(
    r.skipped.map((s) => [s.path === input ? "in" : "r2", s.line]),
    [
      ["in", 2],
      ["r2", 2],
    ],
  );
});
