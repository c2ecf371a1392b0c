import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkResponse } from "../../src/checks/rules/index.ts";
import { SEEDS, VALIDATION_SEEDS } from "../../src/construct/index.ts";
import { ROOT } from "../helpers/paths.ts";

// scripts/demo-pilots.ts at toy size (--smoke): SFT-only pilots scored on the validation split; the held-out set is
// never built; the table's numbers are recomputed from the saved generations; the choice follows the written rule.

const jsonl = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

test("demo pilots: validation-only scoring, numbers recomputed, the rule's choice", { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), "iopo-pilots-"));
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/demo-pilots.ts", "--smoke", "--only", "B,B-invented", "--valid", "10", "--out", out],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /rule \(fixed before running\): the highest validation constraint-level accuracy wins/);
  const report = JSON.parse(readFileSync(join(out, "pilots-B+B-invented.json"), "utf8"));
  assert.equal(report.rows.length, 2);
  const validTexts = new Set(VALIDATION_SEEDS.map((s) => s.text));
  const otherTexts = new Set(SEEDS.map((s) => s.text));
  for (const row of report.rows) {
    const dir = join(out, row.name);
    // No held-out file anywhere: the pilots never build it.
    assert.ok(!existsSync(join(dir, "data", "eval.jsonl")));
    const valid = jsonl(join(dir, "data", "validation.jsonl"));
    assert.equal(valid.length, 10);
    assert.ok(valid.every((x) => validTexts.has(x.description) && !otherTexts.has(x.description)));
    // Every generation answers a validation instruction; the verdicts are the rule checkers' own.
    const gens = jsonl(join(dir, "seed-0", "generations", "sft.jsonl"));
    assert.deepEqual(
      gens.map((g) => g.id),
      valid.map((x) => x.id),
    );
    for (const g of gens)
      assert.deepEqual(
        g.verdicts.map((v: { ok: boolean | null }) => v.ok),
        checkResponse(g.instruction, g.response).constraints.map((c) => c.ok),
      );
    // The table's numbers from the generations, by hand.
    const single = gens.filter((g) => g.instruction.constraints.length === 1);
    const multi = gens.filter((g) => g.instruction.constraints.length > 1);
    assert.deepEqual([row.if_s.k, row.if_s.n], [single.filter((g) => g.all_ok).length, single.length]);
    assert.deepEqual([row.if_m.k, row.if_m.n], [multi.filter((g) => g.all_ok).length, multi.length]);
    const verdicts = gens.flatMap((g) => g.verdicts);
    const level = (100 * verdicts.filter((v: { ok: boolean }) => v.ok).length) / verdicts.length;
    assert.ok(Math.abs(row.constraint_level - level) < 1e-9, `${row.constraint_level} vs ${level}`);
    const inc = row.kinds.include_keywords;
    if (inc)
      assert.equal(
        inc.n,
        valid.flatMap((x) => x.constraints).filter((c) => c.check?.kind === "include_keywords").length,
      );
    assert.ok(row.tokens > 0);
  }
  // The rule: best constraint level; of the rows within 1.0 point of it, the fewest SFT tokens.
  const best = Math.max(...report.rows.map((x: { constraint_level: number }) => x.constraint_level));
  const tied = report.rows.filter((x: { constraint_level: number }) => x.constraint_level >= best - 1);
  const want = tied.reduce((a: { tokens: number }, b: { tokens: number }) => (b.tokens < a.tokens ? b : a));
  assert.equal(report.chosen, want.name);
  // B-invented's training keywords are invented (never a topic noun); B's are the topic's.
  const topicNouns = new Set(SEEDS.flatMap((s) => s.topic.nouns));
  const kw = (name: string) =>
    jsonl(join(out, name, "data", "sft.jsonl")).flatMap((e) =>
      e.instruction.constraints.flatMap((c: { check?: { kind: string; params: { words?: string[] } } }) =>
        c.check?.kind === "include_keywords" ? c.check.params.words! : [],
      ),
    );
  assert.ok(kw("B-invented").every((w: string) => !topicNouns.has(w)));
  assert.ok(kw("B").some((w: string) => topicNouns.has(w)));
  // A rerun reuses every artefact and gives the same table.
  const again = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/demo-pilots.ts", "--smoke", "--only", "B,B-invented", "--valid", "10", "--out", out],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(again.status, 0, again.stderr);
  const second = JSON.parse(readFileSync(join(out, "pilots-B+B-invented.json"), "utf8"));
  assert.deepEqual(
    second.rows.map((x: { constraint_level: number; tokens: number }) => [x.constraint_level, x.tokens]),
    report.rows.map((x: { constraint_level: number; tokens: number }) => [x.constraint_level, x.tokens]),
  );
  // An unknown pilot name is refused.
  const bad = spawnSync(process.execPath, ["--import", "tsx", "scripts/demo-pilots.ts", "--only", "Z", "--out", out], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no pilot named Z/);
});
