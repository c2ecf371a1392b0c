import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { startOpenAIServer } from "../helpers/openai-server.ts";
import { BIN, sharedData } from "../helpers/paths.ts";

// Issue 17, "never a wrong number": stopped or failed runs are marked partial, zero items score null ("-"),
// all-failed runs exit 1, and compare flags (or with --strict refuses) such runs.

const ifevalArgs = (url: string, out: string, extra: string[] = []) => [
  "eval",
  "ifeval",
  "--input",
  sharedData("ifeval/input_data.jsonl"),
  "--base-url",
  url,
  "--model",
  "m",
  "--max-attempts",
  "1",
  "--out",
  out,
  ...extra,
];

test("eval ifeval with every request failing: exit 1, accuracies null and printed '-', never 0%", async () => {
  const server = await startOpenAIServer({ fault: () => ({ kind: "status", status: 500 }) });
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-partial-ifeval-"));
    const r = await runCli(ifevalArgs(server.url, out, ["--limit", "5"]));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /every record of a benchmark failed/);
    assert.match(r.stderr, /HINT: .*--retry-failed/);
    assert.match(r.stdout, /^PARTIAL RUN: 0 of 5 scored \(5 failed, 0 not finished\)/);
    assert.match(r.stdout, /prompt strict \(S-Acc\) {3}- \(0\/0\)/);
    assert.doesNotMatch(r.stdout, /0\.0%/);
    const s = JSON.parse(readFileSync(join(out, "scores.json"), "utf8"));
    assert.equal(s.prompt_strict.accuracy, null);
    assert.equal(s.complete, false);
    assert.deepEqual(s.counts, { total: 5, done: 0, failed: 5, pending: 0 });
    // compare shows the run as EMPTY with "-", and --strict refuses it.
    const cmp = await runCli(["compare", out]);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.match(cmp.stdout, /\| \S+ \(PARTIAL\) \| - \| - \| - \| - \| - \| - \| - \|/);
    assert.match(cmp.stdout, /IFEval EMPTY 0\/5/);
    const strict = await runCli(["compare", out, "--strict"]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /partial or empty runs.*IFEval EMPTY 0\/5/);
    assert.match(strict.stderr, /HINT:/);
    // --retry-failed asks the failed records again.
    const before = server.count;
    const retry = await runCli(ifevalArgs(server.url, out, ["--limit", "5", "--retry-failed"]));
    assert.equal(retry.code, 1);
    assert.equal(server.count - before, 5);
  } finally {
    await server.close();
  }
});

test("eval trace with every generation failing exits 1; its scores are null", async () => {
  const model = await startOpenAIServer({ fault: () => ({ kind: "status", status: 400 }) });
  const judge = await startOpenAIServer({});
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-partial-trace-"));
    const r = await runCli([
      "eval",
      "trace",
      "--data",
      sharedData("trace/trace_eval.jsonl"),
      "--limit",
      "3",
      "--base-url",
      model.url,
      "--model",
      "m",
      "--judge-base-url",
      judge.url,
      "--judge-model",
      "j",
      "--max-attempts",
      "1",
      "--out",
      out,
      "--json",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.if_s.accuracy, s.if_m.accuracy, s.complete], [null, null, false]);
    assert.deepEqual(s.counts, { total: 3, done: 0, failed: 3, pending: 0 });
    assert.equal(judge.count, 0);
  } finally {
    await model.close();
    await judge.close();
  }
});

test("Ctrl-C during eval ifeval: exit 130, scores.json marked partial, printed PARTIAL, compare flags it", async () => {
  const server = await startOpenAIServer({ reply: () => "ok", fault: () => ({ kind: "slow", ms: 150 }) });
  try {
    const out = mkdtempSync(join(tmpdir(), "iopo-partial-sigint-"));
    const child = spawn(
      process.execPath,
      [BIN, ...ifevalArgs(server.url, out, ["--limit", "40", "--concurrency", "1"])],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    while (server.count < 4) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Resume with: iopo eval ifeval/);
    const s = JSON.parse(readFileSync(join(out, "scores.json"), "utf8"));
    assert.equal(s.complete, false);
    assert.equal(s.counts.total, 40);
    assert.ok(s.counts.done >= 3 && s.counts.done < 40, JSON.stringify(s.counts));
    assert.equal(s.counts.pending, 40 - s.counts.done);
    assert.equal(s.prompt_strict.total, s.counts.done);
    assert.match(
      stdout,
      new RegExp(`^PARTIAL RUN: ${s.counts.done} of 40 scored \\(0 failed, ${40 - s.counts.done} not finished\\)`),
    );
    const cmp = await runCli(["compare", out, "--format", "csv"]);
    assert.equal(cmp.code, 0, cmp.stderr);
    const row = cmp.stdout.trim().split("\n")[1]!;
    assert.match(row, new RegExp(`,run,false,.*IFEval partial ${s.counts.done}/40`));
  } finally {
    await server.close();
  }
});

test("eval ifeval --out naming a file: a usage error naming --out with a HINT, no stack trace, nothing written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-partial-outfile-"));
  const file = join(dir, "scores.txt");
  writeFileSync(file, "keep me");
  const r = await runCli(ifevalArgs("http://127.0.0.1:9/v1", file, ["--limit", "1"]));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /bad option --out: not a directory/);
  assert.match(r.stderr, /HINT: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(readFileSync(file, "utf8"), "keep me");
});
