import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatTable3, paperBaseOf, paperRows, readRun } from "../../src/evaluate/index.ts";

test("paper base model from a run's model name", () => {
  assert.equal(paperBaseOf("qwen2-7b-iopo"), "Qwen2-7B");
  assert.equal(paperBaseOf("Qwen2-7B-Instruct"), "Qwen2-7B");
  assert.equal(paperBaseOf("qwen2.5-7b"), undefined);
  assert.equal(paperBaseOf("llama3.1:8b"), "Llama3.1-8B");
  assert.equal(paperBaseOf("Meta-Llama-3.1-8B-Instruct"), "Llama3.1-8B");
  assert.equal(paperBaseOf("gpt-4o"), undefined);
  assert.deepEqual(
    paperRows("Qwen2-7B").map((r) => [r.name, r.source, r.metrics["IF-S"], r.metrics.CSR]),
    [
      ["paper: Qwen2-7B SFT", "paper", 76, null],
      ["paper: Qwen2-7B DPO", "paper", 79, null],
      ["paper: Qwen2-7B IOPO", "paper", 82, null],
    ],
  );
});

test("readRun: an older TRACE run without a completeness marker is flagged; a bad benchmark name is a data error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-compare-"));
  const old = join(dir, "old");
  mkdirSync(old);
  const ratio = (c: number, t: number) => ({ correct: c, total: t, accuracy: t ? c / t : null });
  writeFileSync(join(old, "scores.json"), JSON.stringify({ benchmark: "trace", if_s: ratio(3, 4), if_m: ratio(0, 0) }));
  const row = await readRun(old);
  assert.deepEqual(row.metrics, {
    "IF-S": 75,
    "IF-M": null,
    "S-Acc": null,
    "L-Acc": null,
    CSR: null,
    ISR: null,
    PSR: null,
  });
  assert.equal(row.complete, false);
  assert.deepEqual(row.flags, ["TRACE has no completeness marker (older run)"]);
  const md = formatTable3([row], "md");
  assert.match(md, /\| old \(PARTIAL\) \| 75\.0 \| - \| - \| - \| - \| - \| - \|/);
  const bad = join(dir, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "scores.json"), JSON.stringify({ benchmark: "mmlu" }));
  await assert.rejects(readRun(bad), /unknown benchmark.*expected "trace", "ifeval", "cfbench"/);
  await assert.rejects(readRun(join(dir, "missing")), /no scores\.json in the run directory[\s\S]*HINT:/);
});

test("formatTable3 csv quotes names with commas; empty cells for missing values", () => {
  const row = {
    name: 'run, "a"',
    source: "run" as const,
    metrics: { "IF-S": 50, "IF-M": null, "S-Acc": null, "L-Acc": null, CSR: 84, ISR: 45, PSR: 65 },
    complete: true,
    flags: [],
    protocol: {},
  };
  assert.equal(formatTable3([row], "csv").split("\n")[1], '"run, ""a""",run,true,50.0,,,,84.0,45.0,65.0,');
});
