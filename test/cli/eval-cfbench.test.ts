import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";
import { BIN, sharedData } from "../helpers/paths.ts";

// The first 8 CFBench records; the model answers "ANSWER <idx>", the judge follows PLAN per idx.
const N = 8;
const records: { idx: number; prompt: string; criteria: string[][] }[] = readFileSync(
  sharedData("cfbench/cfbench_data.jsonl"),
  "utf8",
)
  .split("\n")
  .slice(0, N)
  .map((l) => JSON.parse(l));
const idxOfPrompt = new Map(records.map((r) => [r.prompt, r.idx]));
const PLAN = ["pass", "last0", "first0", "retry", "never", "garbage", "api500", "pass"] as const;
const SECRET = "sk-test-cfbench-judge-77e1";
const ROUNDS = 3;

const entry = (text: string, score: number) => `${text}\t${score}`;
function judgeReply(prompt: string, attempt: number): string {
  const idx = Number(/\[模型答案\]: ANSWER (\d+)/.exec(prompt)![1]);
  const items = records[idx]!.criteria.map((c) => c[0]!);
  const plan = PLAN[idx]!;
  const all = (scores: number[]) => items.map((t, i) => entry(t, scores[i]!)).join("\n\n");
  if (plan === "pass") return all(items.map(() => 1));
  if (plan === "last0") return all(items.map((_, i) => (i === items.length - 1 ? 0 : 1)));
  if (plan === "first0") return all(items.map((_, i) => (i === 0 ? 0 : 1)));
  // Odd attempts (first round of a run) echo the items with single newlines: not strict; even ones are fine.
  if (plan === "retry") return attempt % 2 === 1 ? items.map((t) => entry(t, 1)).join("\n") : all(items.map(() => 1));
  if (plan === "never") return items.map((t, i) => entry(t, [1, 0, 1, 1, 0][i]!)).join("\n");
  return "无法评估这个回答。";
}

async function servers(
  judgeFault?: (idx: number) => "slow" | undefined,
): Promise<{ model: TestServer; judge: TestServer }> {
  const model = await startOpenAIServer({ reply: (req) => `ANSWER ${idxOfPrompt.get(req.prompt) ?? "?"}` });
  const judge = await startOpenAIServer({
    apiKey: SECRET,
    reply: (req) => judgeReply(req.prompt, req.attempt),
    fault: (req) => {
      const idx = Number(/\[模型答案\]: ANSWER (\d+)/.exec(req.prompt)?.[1]);
      if (PLAN[idx] === "api500") return { kind: "status", status: 500 };
      if (judgeFault?.(idx) === "slow") return { kind: "slow", ms: 200 };
      return undefined;
    },
  });
  return { model, judge };
}

const args = (model: TestServer, judge: TestServer, out: string, extra: string[] = []) => [
  "eval",
  "cfbench",
  "--data",
  sharedData("cfbench/cfbench_data.jsonl"),
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
  "--judge-rounds",
  String(ROUNDS),
  "--max-attempts",
  "2",
  "--out",
  out,
  "--json",
  ...extra,
];
const env = { IOPO_TEST_JUDGE_KEY: SECRET };
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

// By hand from PLAN and each record's priorities (idx 0–4 and 6 are hard, 5 and 7 easy; item 1 is the only primary
// one of idx 0, the first two of idx 1–4):
//   0 pass   CSR 1    ISR 1  PSR 1
//   1 last0  CSR 0.83 ISR 0  PSR 1   (secondary mean 0.75: 0.5 + 0.375 > 0.8)
//   2 first0 CSR 0.75 ISR 0  PSR 0   (a primary item missed)
//   3 retry  CSR 1    ISR 1  PSR 1   (strict in round 2)
//   4 never  fallback after 3 rounds; fixed keeps [1,0,1,1,0]: CSR 0.6 ISR 0 PSR 0; upstream keeps [1,1,1]: 1 1 1
//   5 garbage: fixed -> judge failure; upstream -> nothing read: 0 0 0
//   6 api500 -> judge failure (2 attempts)        7 pass (easy) 1 1 1
const EXPECTED_FIXED = {
  hard: { n: 5, CSR: 0.84, ISR: 0.4, PSR: 0.6 }, // CSR (1+.83+.75+1+.6)/5 = .836
  easy: { n: 1, CSR: 1, ISR: 1, PSR: 1 },
  all: { n: 6, CSR: 0.86, ISR: 0.5, PSR: 0.67 }, // CSR 5.18/6 = .863; PSR 4/6
};
const JUDGE_REQUESTS = 1 + 1 + 1 + 2 + ROUNDS + ROUNDS + 2 + 1;

test("eval cfbench: exact CSR / ISR / PSR, re-asked rounds, fallback and failures counted, judge key nowhere", async () => {
  const { model, judge } = await servers();
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-cfbench-"));
    const r = await runCli(args(model, judge, out), { env });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.hard, EXPECTED_FIXED.hard);
    assert.deepEqual(s.easy, EXPECTED_FIXED.easy);
    assert.deepEqual(s.all, EXPECTED_FIXED.all);
    assert.equal(s.parser, "fixed");
    assert.deepEqual(s.parsing, { strict: 5, fallback: 1, none: 0 });
    assert.deepEqual(s.judge_failures, { count: 2, ids: [5, 6] });
    assert.equal(s.complete, false);
    assert.deepEqual(s.counts, { total: 8, done: 6, failed: 2, pending: 0 });
    assert.deepEqual(s.fix_changes, { count: 2, ids: ["m:4", "m:5"] });
    assert.match(r.stderr, /partial run/);
    assert.equal(model.count, N);
    assert.equal(judge.count, JUDGE_REQUESTS);
    assert.equal(judge.requests[0]!.body.temperature, 0.01);
    const p = judge.requests.find((q) => q.prompt.includes("ANSWER 0"))!.prompt;
    assert.ok(p.endsWith(`[评估标准]:\n${records[0]!.criteria.map((c) => c[0]).join("\n\n")}\n[你的评估]: `));
    // Files: judgements.jsonl holds every record with a reply, in idx order, with its rounds.
    const judged = lines(join(out, "judgements.jsonl"));
    assert.deepEqual(
      judged.map((j) => [j.idx, j.judge_rounds, j.judge_parsing]),
      [
        [0, 1, "1"],
        [1, 1, "1"],
        [2, 1, "1"],
        [3, 2, "1"],
        [4, ROUNDS, "0"],
        [5, ROUNDS, null],
        [7, 1, "1"],
      ],
    );
    assert.deepEqual(judged[4].judge_score, ["1", "0", "1", "1", "0"]);
    assert.deepEqual(
      lines(join(out, "failures.jsonl")).map((f) => [f.idx, f.phase, f.error.cause]),
      [[6, "judge", "server_error"]],
    );
    for (const f of readdirSync(out)) assert.equal(readFileSync(join(out, f)).includes(SECRET), false, f);
    assert.equal((r.stdout + r.stderr).includes(SECRET), false);

    // `cfbench score` re-scores the run's own judgements: the same numbers; --upstream-parser the published way.
    const again = await runCli(["cfbench", "score", "--judgements", join(out, "judgements.jsonl"), "--json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).models.m.all, EXPECTED_FIXED.all);
    const up = await runCli([
      "cfbench",
      "score",
      "--judgements",
      join(out, "judgements.jsonl"),
      "--upstream-parser",
      "--json",
    ]);
    assert.equal(up.code, 0, up.stderr);
    // Upstream over 0,1,2,3,4,5,7: CSR (1+.83+.75+1+1+0+1)/7 = .797, ISR 4/7, PSR 5/7.
    assert.deepEqual(JSON.parse(up.stdout).models.m.all, { n: 7, CSR: 0.8, ISR: 0.57, PSR: 0.71 });

    // A rerun is served from the cache (rounds included): no request at all, same scores.
    const [m0, j0] = [model.count, judge.count];
    const rerun = await runCli(args(model, judge, out), { env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(JSON.parse(rerun.stdout), s);
    assert.deepEqual([model.count, judge.count], [m0, j0]);
  } finally {
    await model.close();
    await judge.close();
  }
});

test("eval cfbench: killed (-9) while judging, the rerun asks only what was not answered", async () => {
  const { model, judge } = await servers(() => "slow");
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-cfbench-kill-"));
    const child = spawn(process.execPath, [BIN, ...args(model, judge, out, ["--concurrency", "1"])], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    while (judge.count < 4) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const before = judge.count;
    assert.equal(model.count, N);
    const r = await runCli(args(model, judge, out), { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(model.count, N, "no generation asked again");
    assert.ok(judge.count <= JUDGE_REQUESTS + 1, `${judge.count} judge requests in all, ${before} before the kill`);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.hard, s.easy, s.all], [EXPECTED_FIXED.hard, EXPECTED_FIXED.easy, EXPECTED_FIXED.all]);
  } finally {
    await model.close();
    await judge.close();
  }
});

test("eval cfbench: every request failing exits 1 with no score, never 0%", async () => {
  const model = await startOpenAIServer({ fault: () => ({ kind: "status", status: 500 }) });
  const judge = await startOpenAIServer({ apiKey: SECRET });
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-cfbench-fail-"));
    const r = await runCli(args(model, judge, out), { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /every record of a benchmark failed/);
    const s = JSON.parse(readFileSync(join(out, "scores.json"), "utf8"));
    assert.deepEqual(s.all, { n: 0, CSR: null, ISR: null, PSR: null });
    assert.equal(s.complete, false);
    assert.deepEqual(s.counts, { total: 8, done: 0, failed: 8, pending: 0 });
    assert.equal(judge.count, 0);
  } finally {
    await model.close();
    await judge.close();
  }
});
