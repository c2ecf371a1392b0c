import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { sharedData } from "../helpers/paths.ts";

test("iopo stats on trace_eval.jsonl --json reports the official facts", async () => {
  const r = await runCli(["stats", sharedData("trace/trace_eval.jsonl"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.items, 1042);
  assert.equal(s.constraints, 5087);
  assert.equal(s.by_count["1"], 200);
  assert.equal(
    s.by_count["1"] +
      Object.entries(s.by_count)
        .filter(([k]) => k !== "1")
        .reduce((a, [, v]) => a + (v as number), 0),
    1042,
  );
  assert.equal(Math.round(s.with_input_share * 1000) / 10, 24.3);
  assert.equal(s.by_dimension.unknown, 2);
  assert.deepEqual(s.unknown_labels, { 输入格式约束: 1, "·": 1 });
  assert.equal(s.by_dimension.Inclusion, 999);
  assert.equal(
    s.by_category.Content +
      s.by_category.Situation +
      s.by_category.Style +
      s.by_category.Format +
      s.by_category.Example +
      2,
    5087,
  );
  assert.deepEqual(s.languages, { zh: 1038, en: 4 });
  for (const key of [
    "items",
    "constraints",
    "mean_constraints",
    "by_count",
    "by_dimension",
    "by_category",
    "with_input",
  ]) {
    assert.ok(key in s, key);
  }
});

test("iopo stats prints a table on a terminal-style run", async () => {
  const r = await runCli(["stats", sharedData("trace/trace_eval.jsonl")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /constraints\s+5087/);
  assert.match(r.stdout, /Inclusion \(Content\)\s+999/);
});

test("iopo convert round-trips the official IOPO record; bad input exits 1 naming file:line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-cli-"));
  const groups = join(dir, "groups.jsonl");
  const back = join(dir, "trace.json");
  let r = await runCli([
    "convert",
    sharedData("trace/iopo_train_example.json"),
    "--from",
    "llamafactory",
    "--to",
    "groups",
    "--out",
    groups,
  ]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(["convert", groups, "--from", "groups", "--to", "llamafactory", "--out", back]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(readFileSync(back, "utf8")),
    JSON.parse(readFileSync(sharedData("trace/iopo_train_example.json"), "utf8")),
  );

  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, `${readFileSync(groups, "utf8")}{"id": "g2", "x1": 5}\n`);
  const out = join(dir, "out.jsonl");
  r = await runCli(["convert", bad, "--from", "groups", "--to", "groups", "--out", out]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`${bad}:2: wrong type \\(id "g2"\\) \\[field x1\\]; expected object, got number 5`),
  );
  assert.match(r.stderr, /HINT: .*--skip-invalid/);
  assert.equal(existsSync(out), false, "no output file after an error");

  r = await runCli(["convert", bad, "--from", "groups", "--to", "groups", "--out", out, "--skip-invalid"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipped 1 invalid line\(s\) .*\(lines 2\)/);
  assert.equal(readFileSync(out, "utf8").trim().split("\n").length, 1);

  r = await runCli(["convert", groups, "--to", "yaml", "--out", out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown format "yaml"/);
});
