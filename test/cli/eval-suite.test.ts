import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";
import { BIN, sharedData } from "../helpers/paths.ts";

// `eval suite` end to end against the test server (one model, one judge for TRACE and CFBench), then `compare`.
const N = 4;
const jsonl = (rel: string) =>
  readFileSync(sharedData(rel), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const traceItems = jsonl("trace/trace_eval.jsonl").slice(0, N);
const ifevalInputs = jsonl("ifeval/input_data.jsonl").slice(0, N);
const cfRecords = jsonl("cfbench/cfbench_data.jsonl").slice(0, N);
const official = new Map(jsonl("ifeval/responses_gpt4.jsonl").map((r) => [r.prompt, r.response]));
const refVerdicts = new Map(jsonl("ifeval/reference_verdicts.jsonl").map((v) => [v.key, v]));
const SECRET = "sk-test-suite-judge-0d3b";

function modelReply(prompt: string): string {
  const t = traceItems.find((it) => it.messages[1].content === prompt);
  if (t) return `TRACE ANSWER ${t.id}`;
  const c = cfRecords.find((r) => r.prompt === prompt);
  if (c) return `CF ANSWER ${c.idx}`;
  return official.get(prompt) ?? "";
}

/** TRACE (authors' format): every constraint 10; CFBench: every item met. */
function judgeReply(prompt: string): string {
  const t = /\[Answer\]\nTRACE ANSWER (\S+)\n/.exec(prompt);
  if (t) {
    const it = traceItems.find((x) => x.id === t[1])!;
    const fine = Object.fromEntries(it.constraints_splits.map((s: string) => [s, 10]));
    return `Fine Grained Score: ${JSON.stringify([fine])}\nConstraints Overall Score: [[10]]`;
  }
  const idx = Number(/\[模型答案\]: CF ANSWER (\d+)/.exec(prompt)![1]);
  return cfRecords[idx].criteria.map((c: string[]) => `${c[0]}\t1`).join("\n\n");
}

async function servers(slow = false): Promise<[TestServer, TestServer]> {
  const model = await startOpenAIServer({ reply: (req) => modelReply(req.prompt) });
  const judge = await startOpenAIServer({
    apiKey: SECRET,
    reply: (req) => judgeReply(req.prompt),
    fault: () => (slow ? { kind: "slow", ms: 150 } : undefined),
  });
  return [model, judge];
}

const args = (model: TestServer, judge: TestServer, out: string, extra: string[] = []) => [
  "eval",
  "suite",
  "--base-url",
  model.url,
  "--model",
  "qwen2-7b-iopo",
  "--judge-base-url",
  judge.url,
  "--judge-model",
  "gpt-4o",
  "--judge-api-key-env",
  "IOPO_TEST_JUDGE_KEY",
  "--trace",
  sharedData("trace/trace_eval.jsonl"),
  "--ifeval",
  sharedData("ifeval/input_data.jsonl"),
  "--cfbench",
  sharedData("cfbench/cfbench_data.jsonl"),
  "--limit",
  String(N),
  "--out",
  out,
  ...extra,
];
const env = { IOPO_TEST_JUDGE_KEY: SECRET };

test("eval suite runs TRACE, IFEval and CFBench with one cache; compare prints Table 3 beside the paper's rows", async () => {
  const [model, judge] = await servers();
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-suite-"));
    const r = await runCli(args(model, judge, out, ["--json"]), { env });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.complete, true);
    const singles = traceItems.filter((it) => it.constraints_num === 1).length;
    assert.deepEqual([s.trace.if_s.correct, s.trace.if_s.total, s.trace.if_m.total], [singles, singles, N - singles]);
    assert.equal(s.trace.judge_protocol, "authors");
    const strict = ifevalInputs.filter((inp) => refVerdicts.get(inp.key).follow_instruction_list_strict.every(Boolean));
    assert.equal(s.ifeval.prompt_strict.correct, strict.length);
    assert.deepEqual(s.cfbench.all, { n: N, CSR: 1, ISR: 1, PSR: 1 });
    // One engine per back end, one cache: N requests per benchmark to the model, N + N to the judge.
    assert.deepEqual([model.count, judge.count], [3 * N, 2 * N]);
    assert.ok(existsSync(join(out, "cache.sqlite")));
    for (const b of ["trace", "ifeval", "cfbench"]) {
      assert.ok(existsSync(join(out, b, "scores.json")), b);
      assert.equal(existsSync(join(out, b, "cache.sqlite")), false, b);
    }
    const suite = JSON.parse(readFileSync(join(out, "suite.json"), "utf8"));
    assert.deepEqual(suite, {
      benchmark: "suite",
      model: "qwen2-7b-iopo",
      judge: "gpt-4o",
      complete: true,
      runs: { trace: "trace", ifeval: "ifeval", cfbench: "cfbench" },
    });
    for (const f of [
      "suite.json",
      "cache.sqlite",
      "trace/scores.json",
      "cfbench/judgements.jsonl",
      "trace/judgments.jsonl",
    ])
      assert.equal(readFileSync(join(out, f)).includes(SECRET), false, f);
    assert.equal((r.stdout + r.stderr).includes(SECRET), false);

    // A rerun asks nothing.
    const again = await runCli(args(model, judge, out, ["--json"]), { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([model.count, judge.count], [3 * N, 2 * N]);

    // compare: Table 3 columns, the run's numbers in %, the paper's Qwen2-7B rows labelled as such.
    const md = await runCli(["compare", out]);
    assert.equal(md.code, 0, md.stderr);
    const mdLines = md.stdout.split("\n");
    assert.equal(mdLines[0], "| model | IF-S | IF-M | S-Acc | L-Acc | CSR | ISR | PSR |");
    const sacc = ((100 * strict.length) / N).toFixed(1);
    const lacc = (100 * s.ifeval.prompt_loose.accuracy).toFixed(1);
    const name = out.split("/").at(-1);
    // The first four TRACE items all have one constraint: IF-M is over zero items, so "-", never 0.
    assert.equal(singles, N);
    assert.equal(mdLines[2], `| ${name} | 100.0 | - | ${sacc} | ${lacc} | 100.0 | 100.0 | 100.0 |`);
    assert.equal(mdLines[3], "| paper: Qwen2-7B SFT | 76.0 | 56.1 | 52.3 | 54.2 | - | - | - |");
    assert.equal(mdLines[5], "| paper: Qwen2-7B IOPO | 82.0 | 68.9 | 59.9 | 63.6 | - | - | - |");
    assert.match(md.stdout, /rows marked "paper:" are the paper's published numbers for reference/);
    assert.match(md.stdout, /trace_judge authors, cfbench_parser fixed/);
    const csv = await runCli(["compare", out, "--format", "csv", "--paper", "Llama3.1-8B"]);
    assert.equal(csv.code, 0, csv.stderr);
    const csvLines = csv.stdout.trim().split("\n");
    assert.equal(csvLines[0], "name,source,complete,IF-S,IF-M,S-Acc,L-Acc,CSR,ISR,PSR,flags");
    assert.equal(csvLines[1], `${name},run,true,100.0,,${sacc},${lacc},100.0,100.0,100.0,`);
    assert.equal(csvLines[4], "paper: Llama3.1-8B IOPO,paper,true,81.5,70.7,78.2,81.0,,,,");
    const json = await runCli(["compare", out, "--format", "json", "--paper", "none"]);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.rows.length, 1);
    assert.equal(parsed.rows[0].metrics.CSR, 100);
    assert.equal(parsed.paper_base, null);
    const bad = await runCli(["compare", out, "--format", "xml"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be md, csv or json/);
  } finally {
    await model.close();
    await judge.close();
  }
});

test("eval suite killed (-9) mid-way resumes from its one cache", async () => {
  const [model, judge] = await servers(true);
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-suite-kill-"));
    const child = spawn(process.execPath, [BIN, ...args(model, judge, out, ["--concurrency", "1"])], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    while (judge.count < 2) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const r = await runCli(args(model, judge, out, ["--json"]), { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).complete, true);
    assert.ok(model.count <= 3 * N, `${model.count} model requests`);
    assert.ok(judge.count <= 2 * N + 1, `${judge.count} judge requests`);
  } finally {
    await model.close();
    await judge.close();
  }
});
