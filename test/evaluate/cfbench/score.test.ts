import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  cfbenchJudgePrompt,
  JudgedRecordSchema,
  parseFallback,
  parseStrict,
  pyRound,
  sampleMetric,
  scoreJudged,
} from "../../../src/evaluate/cfbench/index.ts";
import { sharedData } from "../../helpers/paths.ts";

const records = readFileSync(sharedData("cfbench/reference_judgements.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JudgedRecordSchema.parse(JSON.parse(l)));

test("upstream parser reproduces all 60 shipped judge_score / judge_parsing / judge_metric values", () => {
  assert.equal(records.length, 60);
  const { verdicts } = scoreJudged(records, "upstream");
  for (const [i, r] of records.entries()) {
    const v = verdicts[i]!;
    const at = `${r.infer_model}:${r.idx}`;
    assert.deepEqual(v.judge_score, r.judge_score, at);
    assert.equal(v.judge_parsing, r.judge_parsing, at);
    assert.deepEqual(v.judge_metric, r.judge_metric, at);
  }
});

test("upstream parser reproduces the per-model aggregates of upstream's score sheet", () => {
  const { scores } = scoreJudged(records, "upstream");
  const pick = (m: string, split: "easy" | "hard" | "all") => {
    const s = scores.models[m]![split];
    return [s.CSR, s.ISR, s.PSR];
  };
  assert.deepEqual(pick("moonshot", "easy"), [0.97, 0.8, 1.0]);
  assert.deepEqual(pick("moonshot", "hard"), [0.8, 0.33, 0.53]);
  assert.deepEqual(pick("moonshot", "all"), [0.84, 0.45, 0.65]);
  assert.deepEqual(pick("abab", "all"), [0.89, 0.5, 0.75]);
  assert.deepEqual(pick("gpt35_turbo_1106", "all"), [0.76, 0.25, 0.25]);
  assert.deepEqual(pick("gpt4_0125_preview", "all"), [0.64, 0.0, 0.5]);
  // Only hard items for the other models: easy is empty, never 0.
  assert.deepEqual(scores.models.abab!.easy, { n: 0, CSR: null, ISR: null, PSR: null });
  assert.equal(Object.keys(scores.models).length, 11);
});

test("the fixed parser differs exactly on the samples whose fallback dropped a 0", () => {
  const up = scoreJudged(records, "upstream");
  const fixed = scoreJudged(records, "fixed");
  // By hand: the four fallback-parsed records named in SOURCE.md; every other record is strict and identical.
  const affected = ["abab:1", "deepseek_v2:1", "moonshot:5", "moonshot:10"];
  assert.deepEqual([...fixed.scores.fix_changes.ids].sort(), [...affected].sort());
  assert.deepEqual(up.scores.fix_changes, fixed.scores.fix_changes);
  for (const [i, r] of records.entries()) {
    const key = `${r.infer_model}:${r.idx}`;
    const a = up.verdicts[i]!;
    const b = fixed.verdicts[i]!;
    if (!affected.includes(key)) assert.deepEqual(b, a, key);
    else {
      assert.equal(b.judge_parsing, "0", key);
      assert.ok(b.judge_score!.includes("0"), `${key} keeps its zeros`);
      assert.ok(b.judge_metric!.CSR < 1, key);
      assert.equal(b.judge_metric!.ISR, 0, key);
    }
  }
  // abab idx 1: the judge gave 0 to 3 of 6 items (SOURCE.md) -> CSR 0.5 once the zeros are kept.
  const abab1 = fixed.verdicts[records.findIndex((r) => r.infer_model === "abab" && r.idx === 1)]!;
  assert.equal(abab1.judge_score!.filter((s) => s === "0").length, 3);
  assert.equal(abab1.judge_metric!.CSR, 0.5);
});

test("strict parser: exact echo, tab, 0/1, one entry per item; fallback variants", () => {
  const items = ["第一条", "第二条\n带换行"];
  assert.deepEqual(parseStrict("第一条\t1\n\n第二条\n带换行\t0", items), ["1", "0"]);
  assert.deepEqual(parseStrict("第一条\t 1.0 \n\n第二条\n带换行\t0\n", items), ["1.0", "0"]);
  assert.equal(parseStrict("第一条\t1\n\n第二条 带换行\t0", items), null); // echo differs
  assert.equal(parseStrict("第一条\t1\n\n第二条\n带换行\t2", items), null); // not 0/1
  assert.equal(parseStrict("第一条\t1", items), null); // one entry short
  assert.equal(parseStrict("第一条\t1\t1\n\n第二条\n带换行\t0", items), null); // two tabs
  assert.equal(parseStrict("第一条\tyes\n\n第二条\n带换行\t0", items), null);
  const reply = "a\t1\nb\t0\nc\t1\nnote without tab";
  assert.deepEqual(parseFallback(reply, "upstream"), { parsing: "0", scores: ["1", "1"] });
  assert.deepEqual(parseFallback(reply, "fixed"), { parsing: "0", scores: ["1", "0", "1"] });
  assert.equal(parseFallback("a\t0\nb\t0", "upstream").parsing, "-1");
  assert.deepEqual(parseFallback("a\t0\nb\t0", "fixed"), { parsing: "0", scores: ["0", "0"] });
  assert.equal(parseFallback("a\tyes", "upstream").parsing, "error");
  assert.equal(parseFallback("a\tyes\nb\t1", "fixed").parsing, "0");
});

test("metrics by hand: CSR rounding (Python's), ISR, PSR rules", () => {
  assert.equal(pyRound(0.625, 2), 0.62); // exact tie -> even
  assert.equal(pyRound(0.375, 2), 0.38);
  assert.equal(pyRound(2 / 3, 2), 0.67);
  assert.equal(pyRound(5 / 6, 2), 0.83);
  assert.equal(pyRound(0.125, 2), 0.12);
  assert.equal(pyRound(1, 2), 1);
  const c = (p: string) => ["x", p, "t", "s"] as [string, string, string, string];
  const strict = (s: string[]) => ({ parsing: "1" as const, scores: s });
  // A primary item missed -> PSR 0.
  assert.deepEqual(sampleMetric(strict(["0", "1", "1", "1", "1", "1"]), [c("主需"), ...Array(5).fill(c("次需"))]), {
    CSR: 0.83,
    ISR: 0,
    PSR: 0,
  });
  // Mixed: secondary mean 2/3 -> 0.67 > 0.6 -> PSR 1; secondary mean 0.5 -> 0.
  assert.equal(sampleMetric(strict(["1", "1", "1", "0"]), [c("主需"), c("次需"), c("次需"), c("次需")]).PSR, 1);
  assert.equal(sampleMetric(strict(["1", "1", "0"]), [c("主需"), c("次需"), c("次需")]).PSR, 0);
  // Secondary mean exactly 0.6: 0.5 + 0.3 is not above 0.8 -> 0.
  assert.equal(sampleMetric(strict(["1", "1", "1", "1", "0", "0"]), [c("主需"), ...Array(5).fill(c("次需"))]).PSR, 0);
  // All primary and all met -> 1; no primary -> CSR > 0.8.
  assert.equal(sampleMetric(strict(["1", "1"]), [c("主需"), c("主需")]).PSR, 1);
  assert.equal(sampleMetric(strict(["1", "1", "1", "1", "0"]), Array(5).fill(c("次需"))).PSR, 0); // CSR 0.8
  assert.deepEqual(sampleMetric({ parsing: "-1", scores: ["0"], reason: "" }, [c("主需")]), { CSR: 0, ISR: 0, PSR: 0 });
});

test("judge prompt: slots filled once, items joined by a blank line, examples carry real tabs", () => {
  const p = cfbenchJudgePrompt(
    {
      prompt: "写诗 {{gold}}",
      gold: "",
      criteria: [
        ["A", "主需", "t", "s"],
        ["B", "次需", "t", "s"],
      ],
    },
    "回答",
  );
  assert.ok(p.includes("[用户指令]: 写诗 {{gold}}\n"));
  assert.ok(p.includes("[评估标准]:\nA\n\nB\n[你的评估]: "));
  assert.ok(p.endsWith("[你的评估]: "));
  assert.ok(p.includes("\t1\n"));
  assert.equal(p.includes("<TAB>"), false);
});
