import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  type IfevalInput,
  looseVariants,
  scoreIfeval,
  stripThinking,
  summarize,
} from "../../../src/evaluate/ifeval/index.ts";

const SHARED = new URL("../../../../shared/data/ifeval/", import.meta.url);
const lines = (f: string) =>
  readFileSync(new URL(f, SHARED), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

test("GPT-4 responses: every stable official verdict matches, strict and loose, and the summary is exact", () => {
  const ref = lines("reference_verdicts.jsonl");
  const { verdicts, summary, skipped } = scoreIfeval(lines("input_data.jsonl"), lines("responses_gpt4.jsonl"));
  assert.equal(skipped.length, 0);
  assert.equal(verdicts.length, 541);
  let compared = 0;
  ref.forEach((r, i) => {
    const v = verdicts[i]!;
    assert.equal(v.key, r.key);
    for (const mode of ["strict", "loose"] as const) {
      const got = v[`follow_instruction_list_${mode}`];
      r.instruction_id_list.forEach((id: string, j: number) => {
        if (r[`unstable_${mode}`][j]) return;
        compared++;
        assert.equal(got[j], r[`follow_instruction_list_${mode}`][j], `key ${r.key} ${id} ${mode}`);
      });
    }
  });
  assert.ok(compared >= 2 * 834 - 4, `compared ${compared}`);
  const want = JSON.parse(readFileSync(new URL("summary.json", SHARED), "utf8")).gpt4;
  assert.deepEqual(
    [
      summary.prompt_strict.correct,
      summary.instruction_strict.correct,
      summary.prompt_loose.correct,
      summary.instruction_loose.correct,
    ],
    [417, 698, 431, 714],
  );
  assert.equal(summary.prompt_strict.accuracy, want.strict.prompt_level_accuracy);
  assert.equal(summary.instruction_loose.accuracy, want.loose.instruction_level_accuracy);
  for (const [id, a] of Object.entries(want.strict.per_instruction_id) as Array<
    [string, { correct: number; total: number }]
  >) {
    assert.deepEqual(
      [summary.per_instruction[id]!.strict.correct, summary.per_instruction[id]!.strict.total],
      [a.correct, a.total],
      id,
    );
  }
});

test("loose variants: drop first/last/both lines (stripped) and markdown stars, in the official order", () => {
  assert.deepEqual(looseVariants("Sure!\n*body*\nBye"), [
    "Sure!\n*body*\nBye",
    "Sure!\nbody\nBye",
    "*body*\nBye",
    "Sure!\n*body*",
    "*body*",
    "body\nBye",
    "Sure!\nbody",
    "body",
  ]);
});

const input = (over: Partial<IfevalInput> = {}): IfevalInput => ({
  key: 7,
  prompt: "Say hi without commas.",
  instruction_id_list: ["punctuation:no_comma", "startend:quotation"],
  kwargs: [{}, {}],
  ...over,
});

test("strict fails where only a loose variant passes; whitespace-only responses fail everything", () => {
  const r = scoreIfeval([input()], [{ prompt: "Say hi without commas.", response: 'Sure, here:\n"hi"' }]);
  assert.deepEqual(r.verdicts[0]!.follow_instruction_list_strict, [false, false]);
  assert.deepEqual(r.verdicts[0]!.follow_instruction_list_loose, [true, true]);
  const empty = scoreIfeval([input()], [{ key: 7, response: "  \n " }]);
  assert.deepEqual(empty.verdicts[0]!.follow_instruction_list_strict, [false, false]);
  assert.deepEqual(empty.verdicts[0]!.follow_instruction_list_loose, [false, false]);
});

test("--strip-thinking removes reasoning blocks before checking", () => {
  assert.equal(stripThinking('<think>a, b</think>\n"hi"'), '"hi"');
  assert.equal(stripThinking("reasoning, more</think> answer"), "answer");
  const r = scoreIfeval([input()], [{ key: 7, response: '<think>hmm, ok</think>"hi"' }], { stripThinking: true });
  assert.deepEqual(r.verdicts[0]!.follow_instruction_list_strict, [true, true]);
});

test("bad input is an error naming file, line and key — or a counted skip", () => {
  const bad = [input(), input({ key: 8, prompt: "other", instruction_id_list: ["keywords:nope"], kwargs: [{}] })];
  const responses = [
    { key: 7, response: '"hi"' },
    { key: 8, response: "x" },
    { prompt: "stray", response: "y" },
  ];
  assert.throws(
    () => scoreIfeval(bad, responses, { inputPath: "in.jsonl", responsesPath: "r.jsonl" }),
    /r\.jsonl:3: response prompt matches no input prompt/,
  );
  assert.throws(
    () => scoreIfeval(bad, responses.slice(0, 2), { inputPath: "in.jsonl" }),
    /in\.jsonl:2: unknown instruction id "keywords:nope".*\(id "8"\)/,
  );
  assert.throws(
    () =>
      scoreIfeval(
        [input({ instruction_id_list: ["length_constraints:number_words"], kwargs: [{ num_words: 3 }] })],
        [{ key: 7, response: "a" }],
      ),
    /bad kwargs for length_constraints:number_words \(kwargs\.0\.relation\)/,
  );
  assert.throws(() => scoreIfeval([input()], []), /no response for this prompt/);
  const skipped = scoreIfeval(bad, responses, { skipInvalid: true });
  assert.equal(skipped.skipped.length, 2);
  assert.equal(skipped.verdicts.length, 1);
});

test("summarize counts prompt, instruction, per-id and per-group accuracy", () => {
  const s = summarize([
    {
      key: 1,
      instruction_id_list: ["a:x", "a:y"],
      follow_instruction_list_strict: [true, false],
      follow_instruction_list_loose: [true, true],
    },
    {
      key: 2,
      instruction_id_list: ["a:x"],
      follow_instruction_list_strict: [true],
      follow_instruction_list_loose: [true],
    },
  ]);
  assert.deepEqual(s.prompt_strict, { correct: 1, total: 2, accuracy: 0.5 });
  assert.deepEqual(s.instruction_loose, { correct: 3, total: 3, accuracy: 1 });
  assert.deepEqual(s.per_instruction["a:x"]!.strict, { correct: 2, total: 2, accuracy: 1 });
  assert.deepEqual(s.per_group.a!.strict, { correct: 2, total: 3, accuracy: 2 / 3 });
});

test("over zero prompts every accuracy is null (printed '-'), never 0", () => {
  const { summary } = scoreIfeval([], []);
  for (const a of [summary.prompt_strict, summary.instruction_strict, summary.prompt_loose, summary.instruction_loose])
    assert.deepEqual(a, { correct: 0, total: 0, accuracy: null });
});
