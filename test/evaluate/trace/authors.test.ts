import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AUTHORS_SYSTEM,
  authorsJudgeMessages,
  parseAuthorsReply,
  traceScores,
} from "../../../src/evaluate/trace/index.ts";

const item = {
  id: "3",
  description: "写一首关于秋天的诗",
  constraints: [{ text: "1. 不超过四行" }, { text: "2. 提到落叶" }],
  input: null,
  lang: "zh",
};

test("authors' judge messages: system message, query, constraints as they stand, the answer", () => {
  const [system, user] = authorsJudgeMessages(item, "秋风 {{query}}");
  assert.deepEqual(system, { role: "system", content: AUTHORS_SYSTEM });
  assert.ok(
    user!.content.includes(
      "[Query]\n写一首关于秋天的诗\n[Constraints]\n1. 不超过四行\n2. 提到落叶\n[Answer]\n秋风 {{query}}\n[Judgement]",
    ),
  );
  assert.match(user!.content, /Fine Grained Score:/);
  assert.match(user!.content, /Constraints Overall Score: \[\[/);
  const withInput = authorsJudgeMessages({ ...item, input: "素材" }, "x")[1]!.content;
  assert.ok(withInput.includes("[Query]\n写一首关于秋天的诗\n# Inputs:\n素材\n[Constraints]"));
});

test("authors' reply parser: the fine-grained line decides; the overall line is read when present", () => {
  const fine = 'Fine Grained Score: [{"1. 不超过四行": 10, "2. 提到落叶": 6}]';
  assert.deepEqual(parseAuthorsReply(`说明……\n${fine}\nConstraints Overall Score: [[8]]`, 2), {
    ok: true,
    scores: [10, 6],
    overall: 8,
  });
  assert.deepEqual(parseAuthorsReply(`${fine}\n`, 2), { ok: true, scores: [10, 6], overall: null });
  // Several objects in the list are read in order.
  assert.deepEqual(parseAuthorsReply('Fine Grained Score: [{"a": 10}, {"b": 10}]', 2), {
    ok: true,
    scores: [10, 10],
    overall: null,
  });
  const bad = (reply: string) => {
    const r = parseAuthorsReply(reply, 2);
    return r.ok ? "ok" : r.reason;
  };
  assert.equal(bad("Constraints Overall Score: [[10]]"), "no_fine_grained");
  assert.equal(bad("Fine Grained Score: [{'a': 10}]\n"), "malformed");
  assert.equal(bad('Fine Grained Score: [{"a": "10", "b": 10}]'), "malformed");
  assert.equal(bad('Fine Grained Score: [{"a": 10}]'), "wrong_length");
  assert.equal(bad('Fine Grained Score: [{"a": 10, "b": 12}]'), "out_of_range");
});

test("metrics: Eq. 3 over fine-grained scores; the overall-score variant beside it", () => {
  const one = { ...item, constraints: [{ text: "1. x" }] };
  const s = traceScores([
    { instruction: one, scores: [10], overall: 9 },
    { instruction: item, scores: [10, 10], overall: 10 },
    { instruction: item, scores: [10, 7], overall: null },
  ]);
  assert.deepEqual([s.if_s.correct, s.if_s.total, s.if_m.correct, s.if_m.total], [1, 1, 1, 2]);
  const v = s.overall_score_variant!;
  assert.deepEqual(
    [v.if_s.correct, v.if_s.total, v.if_m.correct, v.if_m.total, v.missing, v.mean],
    [0, 1, 1, 1, 1, 9.5],
  );
  assert.equal(traceScores([{ instruction: one, scores: [10] }]).overall_score_variant, undefined);
});
