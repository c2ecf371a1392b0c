import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { initTinyModel, runCli } from "../helpers/cli.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";
import { BIN, sharedData } from "../helpers/paths.ts";

// The first 12 TRACE items; the model answers "ANSWER <id>", the judge scores by a fixed script below.
const N = 12;
const items: { id: string; user: string; n: number; levels2: string[] }[] = readFileSync(
  sharedData("trace/trace_eval.jsonl"),
  "utf8",
)
  .split("\n")
  .slice(0, N)
  .map((l) => JSON.parse(l))
  .map((r) => ({ id: r.id, user: r.messages[1].content, n: r.constraints_num, levels2: r.levels2 }));
const idOfPrompt = new Map(items.map((it) => [it.user, it.id]));

/** Judge script by item index: "full" (all 10), "miss" (first constraint 7), or a bad reply kind. */
const PLAN = [
  "full",
  "miss",
  "full",
  "miss",
  "malformed",
  "full",
  "range",
  "full",
  "miss",
  "length",
  "full",
  "full",
] as const;

const SECRET = "sk-test-judge-4f9a1c2e";
let model: TestServer;
let judge: TestServer;

function judgeReply(prompt: string): string {
  const id = [...idOfPrompt.values()].find(
    (id) => prompt.includes(`ANSWER ${id}\n`) || prompt.endsWith(`ANSWER ${id}`),
  );
  const i = items.findIndex((it) => it.id === id);
  const n = items[i]!.n;
  const plan = PLAN[i]!;
  const reason = "Reasoning: checked each constraint.\n";
  if (plan === "malformed") return `${reason}{"scores": [10, oops]}`;
  if (plan === "range") return `${reason}{"scores": [${Array(n).fill(11).join(", ")}]}`;
  if (plan === "length")
    return `${reason}{"scores": [${Array(n + 1)
      .fill(10)
      .join(", ")}]}`;
  const scores = Array(n).fill(10);
  if (plan === "miss") scores[0] = 7;
  return `${reason}{"scores": [${scores.join(", ")}]}`;
}

before(async () => {
  model = await startOpenAIServer({ reply: (req) => `ANSWER ${idOfPrompt.get(req.prompt) ?? "?"}` });
  judge = await startOpenAIServer({ reply: (req) => judgeReply(req.prompt), apiKey: SECRET });
});
after(async () => {
  await model.close();
  await judge.close();
});

const args = (out: string) => [
  "eval",
  "trace",
  "--data",
  sharedData("trace/trace_eval.jsonl"),
  "--limit",
  String(N),
  "--base-url",
  model.url,
  "--model",
  "m",
  "--judge-base-url",
  judge.url,
  "--judge-model",
  "j",
  "--judge-api-key-env",
  "IOPO_TEST_JUDGE_KEY",
  "--out",
  out,
  "--max-attempts",
  "2",
  "--judge-protocol",
  "per-constraint",
  "--json",
];

test("eval trace: exact IF-S / IF-M / per-dimension numbers; bad judge replies are failures, not scores", async () => {
  const out = mkdtempSync(join(tmpdir(), "iopo-eval-"));
  const r = await runCli(args(out), { env: { IOPO_TEST_JUDGE_KEY: SECRET } });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // By hand from PLAN: judged items are those not malformed/range/length (indices 4, 6, 9 fail).
  const judged = items.map((it, i) => ({ it, plan: PLAN[i] })).filter((x) => x.plan === "full" || x.plan === "miss");
  const single = judged.filter((x) => x.it.n === 1);
  const multi = judged.filter((x) => x.it.n > 1);
  assert.deepEqual(s.judge_failures.ids.sort(), [items[4]!.id, items[6]!.id, items[9]!.id].sort());
  assert.equal(s.judged, 9);
  assert.deepEqual(s.if_s, {
    correct: single.filter((x) => x.plan === "full").length,
    total: single.length,
    accuracy: single.filter((x) => x.plan === "full").length / single.length,
  });
  assert.equal(s.if_m.total, multi.length);
  assert.equal(s.if_m.correct, multi.filter((x) => x.plan === "full").length);
  // Constraint level: every constraint of a judged item is 10 except the first of each "miss" item.
  const constraints = judged.reduce((a, x) => a + x.it.n, 0);
  const misses = judged.filter((x) => x.plan === "miss").length;
  assert.deepEqual([s.constraint_level.correct, s.constraint_level.total], [constraints - misses, constraints]);
  // Per dimension: the first constraint's dimension of each miss item loses one.
  const tone = "Tone and Style";
  const toneTotal = judged.reduce((a, x) => a + x.it.levels2.filter((l) => l === "语气风格约束").length, 0);
  const toneMiss = judged.filter((x) => x.plan === "miss" && x.it.levels2[0] === "语气风格约束").length;
  assert.deepEqual([s.by_dimension[tone].correct, s.by_dimension[tone].total], [toneTotal - toneMiss, toneTotal]);
  // Files: one line per item, in order; the judge retried each bad reply (2 attempts).
  const responses = readFileSync(join(out, "responses.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    responses.map((x) => x.id),
    items.map((x) => x.id),
  );
  const judgments = readFileSync(join(out, "judgments.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(judgments.length, N);
  const failed = judgments.filter((j) => j.error);
  assert.equal(failed.length, 3);
  for (const f of failed) assert.match(f.error.message, /judge reply (malformed|out_of_range|wrong_length)/);
  assert.equal(judge.count, 9 + 3 * 2);
  // The judge's key appears in no file and no output.
  for (const f of readdirSync(out)) assert.equal(readFileSync(join(out, f)).includes(SECRET), false, f);
  assert.equal((r.stdout + r.stderr).includes(SECRET), false);
  // The system prompt and temperature follow the authors' evaluation script.
  assert.equal(model.requests[0]!.body.messages[0]!.content, "You are a helpful assistant.");
  assert.equal(model.requests[0]!.body.temperature, 0.1);
  assert.equal(judge.requests[0]!.body.temperature, 0);

  // A second run is served from the cache: no request at all.
  const [m0, j0] = [model.count, judge.count];
  const again = await runCli(args(out), { env: { IOPO_TEST_JUDGE_KEY: SECRET } });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), s);
  assert.deepEqual([model.count, judge.count], [m0, j0]);
});

test("eval trace: a run killed during judging resumes without re-asking finished items", async () => {
  const out = mkdtempSync(join(tmpdir(), "iopo-eval-kill-"));
  judge.script = { ...judge.script, fault: () => ({ kind: "slow", ms: 250 }) };
  const [m0, j0] = [model.count, judge.count];
  const child = spawn(process.execPath, [BIN, ...args(out), "--concurrency", "1"], {
    env: { ...process.env, IOPO_TEST_JUDGE_KEY: SECRET },
    stdio: "ignore",
  });
  while (judge.count - j0 < 5) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGKILL");
  await new Promise((r) => child.on("close", r));
  const judgedBefore = judge.count - j0;
  assert.equal(model.count - m0, N, "every item was generated once before the kill");
  judge.script = { ...judge.script, fault: undefined };
  const [m1, j1] = [model.count, judge.count];
  const r = await runCli(args(out), { env: { IOPO_TEST_JUDGE_KEY: SECRET } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(model.count - m1, 0, "no generation re-asked");
  const total = 9 + 3 * 2;
  assert.ok(
    judge.count - j1 <= total - judgedBefore + 1,
    `re-asked ${judge.count - j1} of ${total}, ${judgedBefore} were answered before the kill`,
  );
  assert.equal(JSON.parse(r.stdout).judged, 9);
});

test("eval ifeval: generate through the endpoint and score with the checkers; compare side by side", async () => {
  const out = mkdtempSync(join(tmpdir(), "iopo-eval-ifeval-"));
  // The model replies with the official GPT-4 response for each prompt.
  const official = new Map(
    readFileSync(sharedData("ifeval/responses_gpt4.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((r) => [r.prompt, r.response]),
  );
  model.script = { reply: (req) => official.get(req.prompt) ?? "" };
  const r = await runCli([
    "eval",
    "ifeval",
    "--input",
    sharedData("ifeval/input_data.jsonl"),
    "--limit",
    "40",
    "--base-url",
    model.url,
    "--model",
    "gpt4-replay",
    "--out",
    out,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // The same 40 responses scored by `iopo ifeval score` give the same numbers.
  const verdicts = readFileSync(join(out, "verdicts.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const ref = new Map(
    readFileSync(sharedData("ifeval/reference_verdicts.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .map((v) => [v.key, v]),
  );
  let strict = 0;
  for (const v of verdicts) {
    assert.deepEqual(v.follow_instruction_list_strict, ref.get(v.key).follow_instruction_list_strict, `key ${v.key}`);
    if (v.follow_instruction_list_strict.every(Boolean)) strict++;
  }
  assert.equal(s.prompt_strict.correct, strict);
  assert.equal(s.prompt_strict.total, 40);
  assert.equal(s.complete, true);
  assert.deepEqual(s.counts, { total: 40, done: 40, failed: 0, pending: 0 });
  const cmp = await runCli(["compare", out, out, "--json"]);
  assert.equal(cmp.code, 0, cmp.stderr);
  const rows = JSON.parse(cmp.stdout).rows;
  assert.equal(rows[0].metrics["S-Acc"], Math.round(1000 * s.prompt_strict.accuracy) / 10);
  assert.equal(rows[0].metrics["L-Acc"], Math.round(1000 * s.prompt_loose.accuracy) / 10);
  assert.equal(rows[0].complete, true);
});

test("eval ifeval runs a local model directory (the in-process provider) end to end", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-eval-local-"));
  const model = join(dir, "model");
  let r = await initTinyModel(model, sharedData("ifeval/input_data.jsonl"));
  assert.equal(r.code, 0, r.stderr);
  const out = join(dir, "run");
  r = await runCli([
    "eval",
    "ifeval",
    "--input",
    sharedData("ifeval/input_data.jsonl"),
    "--limit",
    "3",
    "--model-dir",
    model,
    "--max-tokens",
    "8",
    "--out",
    out,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.prompt_strict.total, 3);
  assert.equal(s.generation_failures.count, 0);
  const responses = readFileSync(join(out, "responses.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(responses.length, 3);
  for (const x of responses) assert.equal(typeof x.response, "string");
});
