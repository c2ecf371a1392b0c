import assert from "node:assert/strict";
import { test } from "node:test";
import { judgePrompt, parseJudgeReply } from "../../../src/evaluate/trace/index.ts";

const instruction = {
  id: "7",
  description: "写一首诗",
  constraints: [{ text: "1. 不超过四行；" }, { text: "2. 提到月亮。" }],
  input: null,
  lang: "zh",
};

test("the judge prompt lists every constraint and the response, in the instruction's language", () => {
  const p = judgePrompt(instruction, "月亮{{count}}高挂");
  assert.match(p, /指令遵循评审员/);
  assert.match(p, /\[1\] 1\. 不超过四行；\n\[2\] 2\. 提到月亮。/);
  assert.match(p, /共 2 条/);
  assert.match(p, /月亮\{\{count\}\}高挂/, "placeholders inside the response are left alone");
  assert.match(judgePrompt({ ...instruction, lang: "en" }, "x"), /strict, impartial judge/);
});

test("parseJudgeReply takes the last scores object after the reasoning", () => {
  const reply = 'Constraint 1: fine. An example: {"scores": [1]}.\nConstraint 2: missing.\n{"scores": [10, 6]}';
  assert.deepEqual(parseJudgeReply(reply, 2), { ok: true, scores: [10, 6] });
  assert.deepEqual(parseJudgeReply('```json\n{ "scores" : [10,10] }\n```', 2), { ok: true, scores: [10, 10] });
});

test("parseJudgeReply rejects malformed, out-of-range and wrong-length replies with a reason", () => {
  assert.equal(parseJudgeReply("All good, 10/10.", 1).ok, false);
  const cases: [string, number, string][] = [
    ["no json here", 1, "no_json"],
    ['{"scores": [10, ]}', 1, "malformed"],
    ['{"scores": ["10"]}', 1, "malformed"],
    ['{"scores": [10, 11]}', 2, "out_of_range"],
    ['{"scores": [-1]}', 1, "out_of_range"],
    ['{"scores": [10]}', 2, "wrong_length"],
  ];
  for (const [reply, n, reason] of cases) {
    const r = parseJudgeReply(reply, n);
    assert.equal(r.ok, false, reply);
    if (!r.ok) assert.equal(r.reason, reason, reply);
  }
});
