import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";
import { BIN, sharedData } from "../helpers/paths.ts";

// Six single-constraint and six multi-constraint TRACE items, written to a subset file.
const all = readFileSync(sharedData("trace/trace_eval.jsonl"), "utf8").trim().split("\n");
const picked = [
  ...all.filter((l) => JSON.parse(l).constraints_num === 1).slice(0, 6),
  ...all.filter((l) => JSON.parse(l).constraints_num > 1).slice(0, 6),
];
const items: { id: string; user: string; n: number; splits: string[]; constraints: string }[] = picked
  .map((l) => JSON.parse(l))
  .map((r) => ({
    id: r.id,
    user: r.messages[1].content,
    n: r.constraints_num,
    splits: r.constraints_splits,
    constraints: r.constraints,
  }));
const dir = mkdtempSync(join(tmpdir(), "iopo-trace-authors-"));
const DATA = join(dir, "subset.jsonl");
writeFileSync(DATA, `${picked.join("\n")}\n`);
const idOfPrompt = new Map(items.map((it) => [it.user, it.id]));

// The judge's behaviour per item (same order as `items`).
const PLAN = [
  "full",
  "miss",
  "overall9",
  "no-overall",
  "fine-on-retry",
  "never-fine",
  "full",
  "miss",
  "overall9",
  "wrong-count",
  "full",
  "no-overall",
] as const;
const SECRET = "sk-test-trace-authors-51c0";

function reply(prompt: string, attempt: number): string {
  const id = /\[Answer\]\nANSWER (\S+)\n\[Judgement\]/.exec(prompt)![1]!;
  const i = items.findIndex((it) => it.id === id);
  const it = items[i]!;
  const plan = PLAN[i]!;
  const scores = it.splits.map(() => 10);
  if (plan === "miss") scores[0] = 6;
  const fine = (s: number[], texts = it.splits) =>
    `Fine Grained Score: ${JSON.stringify([Object.fromEntries(texts.map((t, k) => [t, s[k]]))])}`;
  const expl = it.splits.map((t, k) => `${k + 1}. ${t}: 解释。得分：${scores[k]}`).join("\n");
  if (plan === "never-fine" || (plan === "fine-on-retry" && attempt === 1))
    return `${expl}\nConstraints Overall Score: [[10]]`;
  if (plan === "wrong-count")
    return `${expl}\n${fine([...scores, 10], [...it.splits, "extra"])}\nConstraints Overall Score: [[10]]`;
  if (plan === "no-overall") return `${expl}\n${fine(scores)}`;
  const overall = plan === "miss" ? 7 : plan === "overall9" ? 9 : 10;
  return `${expl}\n${fine(scores)}\nConstraints Overall Score: [[${overall}]]`;
}

async function servers(slow = false): Promise<[TestServer, TestServer]> {
  const model = await startOpenAIServer({ reply: (req) => `ANSWER ${idOfPrompt.get(req.prompt) ?? "?"}` });
  const judge = await startOpenAIServer({
    apiKey: SECRET,
    reply: (req) => reply(req.prompt, req.attempt),
    fault: () => (slow ? { kind: "slow", ms: 200 } : undefined),
  });
  return [model, judge];
}

const args = (model: TestServer, judge: TestServer, out: string, extra: string[] = []) => [
  "eval",
  "trace",
  "--data",
  DATA,
  "--base-url",
  model.url,
  "--model",
  "m",
  "--judge-base-url",
  judge.url,
  "--judge-model",
  "gpt-4o",
  "--judge-api-key-env",
  "IOPO_TEST_JUDGE_KEY",
  "--max-attempts",
  "2",
  "--out",
  out,
  "--json",
  ...extra,
];
const env = { IOPO_TEST_JUDGE_KEY: SECRET };
// Judge requests: one each, two for fine-on-retry, never-fine and wrong-count (2 attempts).
const JUDGE_REQUESTS = 12 + 3;

test("eval trace, authors' protocol (default): Eq. 3 over the fine-grained line, overall-score variant, failures", async () => {
  const [model, judge] = await servers();
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-trace-authors-run-"));
    const r = await runCli(args(model, judge, out), { env });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.judge_protocol, "authors");
    // By hand: single items 0–5: correct = full, overall9, no-overall, fine-on-retry (4 of 5 judged; never-fine fails).
    assert.deepEqual(s.if_s, { correct: 4, total: 5, accuracy: 4 / 5 });
    // Multi items 6–11: full, overall9, full, no-overall correct; miss wrong; wrong-count fails -> 4 of 5.
    assert.deepEqual(s.if_m, { correct: 4, total: 5, accuracy: 4 / 5 });
    assert.deepEqual(s.judge_failures.ids.sort(), [items[5]!.id, items[9]!.id].sort());
    // Overall-score variant: correct when [[10]]; no-overall items (3, 11) are left out.
    // Single judged with overall: full 10, miss 7, overall9 9, fine-on-retry 10 -> 2 of 4.
    // Multi judged with overall: full 10, miss 7, overall9 9, full 10 -> 2 of 4.
    const v = s.overall_score_variant;
    assert.deepEqual([v.if_s.correct, v.if_s.total, v.if_m.correct, v.if_m.total, v.missing], [2, 4, 2, 4, 2]);
    assert.equal(v.mean, (10 + 7 + 9 + 10 + 10 + 7 + 9 + 10) / 8);
    assert.equal(s.complete, false);
    assert.deepEqual(s.counts, { total: 12, done: 10, failed: 2, pending: 0 });
    assert.equal(judge.count, JUDGE_REQUESTS);
    // The protocol's messages: system message, temperature 0, the constraints string as it stands, the answer.
    const first = judge.requests.find((q) => q.prompt.includes(`ANSWER ${items[6]!.id}\n`))!;
    assert.deepEqual(first.body.messages[0], { role: "system", content: "You are a helpful assistant." });
    assert.ok(first.prompt.includes(`[Constraints]\n${items[6]!.constraints}\n[Answer]`));
    assert.match(first.prompt, /Fine Grained Score:/);
    assert.equal(first.body.temperature, 0);
    const saved = JSON.parse(readFileSync(join(out, "scores.json"), "utf8"));
    assert.equal(saved.judge_protocol, "authors");
    assert.equal(saved.complete, false);
    const judgments = readFileSync(join(out, "judgments.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.match(judgments.find((j) => j.id === items[5]!.id).error.message, /no_fine_grained/);
    assert.equal(judgments.find((j) => j.id === items[3]!.id).overall, null);
    for (const f of readdirSync(out)) assert.equal(readFileSync(join(out, f)).includes(SECRET), false, f);
    assert.equal((r.stdout + r.stderr).includes(SECRET), false);
    // Printed as text: the partial notice and the protocol.
    const text = await runCli(
      args(model, judge, out).filter((a) => a !== "--json"),
      { env },
    );
    assert.match(text.stdout, /^PARTIAL RUN: 10 of 12 scored \(2 failed, 0 not finished\)/);
    assert.match(text.stdout, /authors judge/);
    assert.match(text.stdout, /overall-score variant/);
  } finally {
    await model.close();
    await judge.close();
  }
});

test("eval trace, authors' protocol: killed (-9) while judging, the rerun asks only the rest", async () => {
  const [model, judge] = await servers(true);
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-trace-authors-kill-"));
    const child = spawn(process.execPath, [BIN, ...args(model, judge, out, ["--concurrency", "1"])], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    while (judge.count < 4) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const r = await runCli(args(model, judge, out), { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(model.count, 12, "no generation asked again");
    assert.ok(judge.count <= JUDGE_REQUESTS + 1, `${judge.count} judge requests in all`);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.if_s.correct, s.if_s.total, s.if_m.correct, s.if_m.total], [4, 5, 4, 5]);
  } finally {
    await model.close();
    await judge.close();
  }
});
