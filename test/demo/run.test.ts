// The quick demo through the real CLI: artefacts, results.json recomputed from the saved generations (and the saved
// verdicts re-checked against the responses), a fair comparison, resume (skip, redo one phase), a refused
// configuration change, and `iopo report`.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { checkResponse } from "../../src/construct/index.ts";
import { GenerationSchema, MODELS, PHASES } from "../../src/demo/index.ts";
import { runCli } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "iopo-demo-"));
const out = join(dir, "run");
let first: Awaited<ReturnType<typeof runCli>>;
let firstSeconds = 0;

const lines = (p: string) =>
  readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));

before(async () => {
  const t0 = performance.now();
  first = await runCli(["demo", "--quick", "--out", out, "--seed", "3"]);
  firstSeconds = (performance.now() - t0) / 1000;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("the quick demo finishes within 60 s and prints the table, phase times and the report path", () => {
  assert.equal(first.code, 0, first.stderr);
  assert.ok(firstSeconds < 60, `took ${firstSeconds.toFixed(1)} s`);
  assert.match(first.stdout, /IF-S \(single constraint\)/);
  assert.match(first.stdout, /IF-M \(multi, all satisfied\)/);
  assert.match(first.stdout, /phase times: construct [\d.]+ s/);
  for (const p of PHASES) assert.match(first.stderr, new RegExp(`phase ${p}: [\\d.]+ s`));
  assert.ok(first.stdout.includes(join(out, "report.html")));
});

test("the run directory holds every artefact", () => {
  const cfg = json(join(out, "demo_config.json"));
  assert.equal(cfg.seed, 3);
  assert.equal(cfg.profile, "quick");
  for (const f of ["sft", "groups", "pairs", "eval"]) assert.ok(lines(join(out, "data", `${f}.jsonl`)).length > 0, f);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json"])
    assert.ok(existsSync(join(out, "models/init", f)));
  for (const m of MODELS) {
    const steps = m === "sft" ? cfg.sft.steps : cfg.pref.steps;
    assert.ok(existsSync(join(out, "train", m, `checkpoint-${steps}`, "manifest.json")), m);
    assert.equal(lines(join(out, "train", m, "metrics.jsonl")).length, steps, m);
    assert.ok(existsSync(join(out, "generations", `${m}.jsonl`)), m);
  }
  for (const p of PHASES) assert.ok(existsSync(join(out, "phases", `${p}.json`)), p);
  assert.ok(readFileSync(join(out, "report.html"), "utf8").startsWith("<!doctype html>"));
});

test("DPO, IOPO and SFT-continued start from the SFT checkpoint with the same steps, schedule, batch and seed", () => {
  const cfg = json(join(out, "demo_config.json"));
  const sftCkpt = join(out, "train", "sft", `checkpoint-${cfg.sft.steps}`);
  const tc = ["sft-continued", "dpo", "iopo"].map((m) => json(join(out, "train", m, "train_config.json")));
  for (const c of tc) {
    assert.equal(c.model, sftCkpt);
    for (const k of ["max_steps", "lr", "warmup", "schedule", "batch", "accum", "seed", "max_len"])
      assert.deepEqual(c[k], tc[0][k], k);
  }
  assert.deepEqual(
    tc.map((c) => c.method),
    ["sft", "dpo", "iopo"],
  );
  // The same learning rate at every step.
  const lrs = ["sft-continued", "dpo", "iopo"].map((m) =>
    lines(join(out, "train", m, "metrics.jsonl")).map((l) => l.lr),
  );
  assert.deepEqual(lrs[1], lrs[0]);
  assert.deepEqual(lrs[2], lrs[0]);
});

test("every number in results.json is recomputed from the saved generations", () => {
  const results = json(join(out, "results.json"));
  const evalItems = lines(join(out, "data", "eval.jsonl"));
  assert.equal(results.seed, 3);
  assert.equal(results.sizes.sft_examples, lines(join(out, "data", "sft.jsonl")).length);
  assert.equal(results.sizes.iopo_groups, lines(join(out, "data", "groups.jsonl")).length);
  assert.equal(results.sizes.dpo_pairs, lines(join(out, "data", "pairs.jsonl")).length);
  assert.equal(results.sizes.eval_items, evalItems.length);
  assert.deepEqual(Object.keys(results.models), [...MODELS]);
  for (const m of MODELS) {
    const gens = lines(join(out, "generations", `${m}.jsonl`)).map((g) => GenerationSchema.parse(g));
    assert.deepEqual(
      gens.map((g) => g.id),
      evalItems.map((e) => e.id),
    );
    // The saved verdicts are the rule checkers' verdicts on the saved responses.
    for (const g of gens) {
      const v = checkResponse(g.instruction, g.response);
      assert.deepEqual(
        g.verdicts.map((x) => x.ok),
        v.constraints.map((x) => x.ok),
        g.id,
      );
      assert.equal(g.all_ok, v.all_ok === true);
    }
    // Independent arithmetic (not the library's): item correct iff all constraints ok.
    const acc = (xs: boolean[]) => ({ correct: xs.filter(Boolean).length, total: xs.length });
    const single = gens.filter((g) => g.verdicts.length === 1).map((g) => g.verdicts.every((v) => v.ok));
    const multi = gens.filter((g) => g.verdicts.length > 1).map((g) => g.verdicts.every((v) => v.ok));
    const cons = gens.flatMap((g) => g.verdicts.map((v) => v.ok === true));
    const s = results.models[m].scores;
    for (const [got, want] of [
      [s.if_s, acc(single)],
      [s.if_m, acc(multi)],
      [s.constraint_level, acc(cons)],
    ] as const) {
      assert.equal(got.correct, want.correct, m);
      assert.equal(got.total, want.total, m);
      assert.equal(got.accuracy, want.total ? want.correct / want.total : null, m);
    }
    const byDim: Record<string, boolean[]> = {};
    const byCount: Record<string, boolean[]> = {};
    for (const g of gens) {
      (byCount[g.verdicts.length] ??= []).push(g.verdicts.every((v) => v.ok));
      for (const v of g.verdicts) (byDim[v.type ?? "untyped"] ??= []).push(v.ok === true);
    }
    assert.deepEqual(Object.keys(s.by_dimension).sort(), Object.keys(byDim).sort());
    for (const [k, xs] of Object.entries(byDim)) assert.equal(s.by_dimension[k].correct, acc(xs).correct, `${m} ${k}`);
    assert.deepEqual(Object.keys(s.by_count).sort(), Object.keys(byCount).sort());
    for (const [k, xs] of Object.entries(byCount)) assert.equal(s.by_count[k].total, xs.length, `${m} ${k}`);
    assert.equal(results.models[m].hit_token_limit, gens.filter((g) => g.finish === "length").length);
  }
});

test("a rerun skips every complete phase; a deleted artefact redoes only its phase", async () => {
  const before = readFileSync(join(out, "results.json"), "utf8");
  const again = await runCli(["demo", "--quick", "--out", out, "--seed", "3"]);
  assert.equal(again.code, 0, again.stderr);
  for (const p of PHASES) assert.match(again.stderr, new RegExp(`phase ${p}: complete .* skipped`));
  assert.equal(readFileSync(join(out, "results.json"), "utf8"), before);
  const dpo = readFileSync(join(out, "generations", "dpo.jsonl"), "utf8");
  rmSync(join(out, "generations", "dpo.jsonl"));
  const redo = await runCli(["demo", "--quick", "--out", out, "--seed", "3"]);
  assert.equal(redo.code, 0, redo.stderr);
  assert.match(redo.stderr, /phase generate-dpo: [\d.]+ s/);
  assert.match(redo.stderr, /phase generate-iopo: complete/);
  assert.match(redo.stderr, /phase train-dpo: complete/);
  // Greedy generation from the same checkpoint gives the same file.
  assert.equal(readFileSync(join(out, "generations", "dpo.jsonl"), "utf8"), dpo);
});

test("another configuration in the same run directory is refused (exit 2)", async () => {
  const r = await runCli(["demo", "--quick", "--out", out, "--seed", "4"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /another configuration/);
  assert.match(r.stderr, /HINT: use another --out/);
});

test("iopo report rebuilds results.json and report.html from the artefacts", async () => {
  const results = json(join(out, "results.json"));
  rmSync(join(out, "report.html"));
  rmSync(join(out, "results.json"));
  const r = await runCli(["report", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(join(out, "results.json")), results);
  assert.ok(existsSync(join(out, "report.html")));
  const bad = await runCli(["report", dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a demo run directory/);
});
