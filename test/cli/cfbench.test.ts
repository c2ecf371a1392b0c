import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { sharedData } from "../helpers/paths.ts";

const REF = sharedData("cfbench/reference_judgements.jsonl");
const ref = readFileSync(REF, "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l));
const lines = (p: string) =>
  readFileSync(p, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

test("cfbench score --upstream-parser reproduces upstream's 60 verdicts and its score sheet", async () => {
  const out = mkdtempSync(join(tmpdir(), "iopo-cfbench-score-"));
  const r = await runCli(["cfbench", "score", "--judgements", REF, "--upstream-parser", "--json", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const samples = lines(join(out, "samples.jsonl"));
  assert.equal(samples.length, 60);
  samples.forEach((s, i) => {
    const at = `${ref[i].infer_model}:${ref[i].idx}`;
    assert.deepEqual([s.infer_model, s.idx], [ref[i].infer_model, ref[i].idx]);
    assert.deepEqual(s.judge_score, ref[i].judge_score, at);
    assert.equal(s.judge_parsing, ref[i].judge_parsing, at);
    assert.deepEqual(s.judge_metric, ref[i].judge_metric, at);
  });
  const { models, parser, fix_changes } = JSON.parse(r.stdout);
  assert.equal(parser, "upstream");
  const m = (name: string, split: string) => [
    models[name][split].CSR,
    models[name][split].ISR,
    models[name][split].PSR,
  ];
  // The values SOURCE.md quotes from upstream's output/scores.xlsx.
  assert.deepEqual(m("moonshot", "easy"), [0.97, 0.8, 1.0]);
  assert.deepEqual(m("moonshot", "hard"), [0.8, 0.33, 0.53]);
  assert.deepEqual(m("moonshot", "all"), [0.84, 0.45, 0.65]);
  assert.deepEqual(m("abab", "all"), [0.89, 0.5, 0.75]);
  assert.deepEqual(m("gpt35_turbo_1106", "all"), [0.76, 0.25, 0.25]);
  assert.deepEqual(m("gpt4_0125_preview", "all"), [0.64, 0.0, 0.5]);
  assert.deepEqual(fix_changes, { count: 4, ids: ["abab:1", "deepseek_v2:1", "moonshot:5", "moonshot:10"] });
  assert.equal(JSON.parse(readFileSync(join(out, "scores.json"), "utf8")).parser, "upstream");
});

test("cfbench score (fixed parser, the default) differs exactly on the four fallback-parsed records", async () => {
  const out = mkdtempSync(join(tmpdir(), "iopo-cfbench-fixed-"));
  const r = await runCli(["cfbench", "score", "--judgements", REF, "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const samples = lines(join(out, "samples.jsonl"));
  const changed = samples
    .map((s, i) => ({ s, r: ref[i] }))
    .filter(
      ({ s, r }) => JSON.stringify([s.judge_score, s.judge_metric]) !== JSON.stringify([r.judge_score, r.judge_metric]),
    )
    .map(({ r }) => `${r.infer_model}:${r.idx}`);
  assert.deepEqual(changed, ["abab:1", "deepseek_v2:1", "moonshot:5", "moonshot:10"]);
  assert.match(r.stdout, /^CFBench \(fixed fallback parser\)/);
  assert.match(
    r.stdout,
    /fallback fix: 4 sample\(s\) scored differently .*: abab:1, deepseek_v2:1, moonshot:5, moonshot:10/,
  );
  // Text shows percentages and "-" for the empty easy split.
  assert.match(r.stdout, /abab — 4 sample\(s\)\n.*\n {2}easy {11}0 {6}- {6}- {6}-\n/);
  const b = await runCli(["cfbench", "score", "--judgements", REF, "--breakdowns"]);
  assert.match(b.stdout, /items met by constraint type \(strictly parsed replies\)/);
  assert.match(b.stdout, /主需/);
});

test("cfbench score: a bad line is a data error naming file:line and the field, with a HINT", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-cfbench-bad-"));
  const bad = join(dir, "bad.jsonl");
  const { judge_response: _, ...noReply } = ref[0];
  writeFileSync(bad, `${JSON.stringify(ref[1])}\n${JSON.stringify(noReply)}\n`);
  const r = await runCli(["cfbench", "score", "--judgements", bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[/.]/g, "\\$&")}:2: .*judge_response`));
  assert.match(r.stderr, /HINT: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});
