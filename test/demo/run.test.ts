// The quick demo through the real CLI: every method and two seeds, artefacts, results.json recomputed from the saved
// generations and training metrics (verdicts re-checked against the responses, tokens, repetition, the paired
// differences), a fair comparison, resume (skip, redo one phase), a refused configuration change, `iopo report`.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { checkResponse } from "../../src/construct/index.ts";
import { GenerationSchema, METHOD_SPECS, METHODS, phasesOf } from "../../src/demo/index.ts";
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
const SEEDS = [3, 4];
const phases = () => phasesOf(json(join(out, "demo_config.json")));

before(async () => {
  const t0 = performance.now();
  first = await runCli(["demo", "--quick", "--out", out, "--seed", "3"]);
  firstSeconds = (performance.now() - t0) / 1000;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("the quick demo runs every method on two seeds within 60 s and prints the tables, intervals and times", () => {
  assert.equal(first.code, 0, first.stderr);
  assert.ok(firstSeconds < 60, `took ${firstSeconds.toFixed(1)} s`);
  assert.match(first.stdout, /seeds 3, 4; mean over seeds/);
  for (const m of METHODS)
    assert.match(first.stdout, new RegExp(`^${METHOD_SPECS[m].label.replace(/[.*]/g, "\\$&")} `, "m"));
  assert.match(first.stdout, /IOPO − DPO\s+if_s\s+[+-][\d.]+ \[[+-][\d.]+, [+-][\d.]+\]/);
  assert.match(first.stdout, /IOPO > DPO > SFT on if_m: (holds|does not hold)/);
  assert.match(first.stdout, /phase times \(summed over seeds\): construct [\d.]+ s/);
  assert.match(first.stdout, /all phases: [\d.]+ s/);
  assert.deepEqual(phases().length, 1 + 2 * (1 + 2 * METHODS.length));
  for (const p of phases()) assert.match(first.stderr, new RegExp(`phase ${p}: [\\d.]+ s`));
  assert.ok(first.stdout.includes(join(out, "report.html")));
});

test("the run directory holds every artefact", () => {
  const cfg = json(join(out, "demo_config.json"));
  assert.equal(cfg.seed, 3);
  assert.equal(cfg.seeds, 2);
  assert.equal(cfg.profile, "quick");
  assert.deepEqual(cfg.methods, [...METHODS]);
  for (const f of ["sft", "groups", "pairs", "eval"]) assert.ok(lines(join(out, "data", `${f}.jsonl`)).length > 0, f);
  for (const s of SEEDS) {
    for (const f of ["config.json", "model.safetensors", "tokenizer.json"])
      assert.ok(existsSync(join(out, `seed-${s}`, "models/init", f)));
    for (const m of METHODS) {
      const steps = m === "sft" ? cfg.sft.steps : cfg.pref.steps;
      assert.ok(existsSync(join(out, `seed-${s}`, "train", m, `checkpoint-${steps}`, "manifest.json")), m);
      assert.equal(lines(join(out, `seed-${s}`, "train", m, "metrics.jsonl")).length, steps, m);
      assert.ok(existsSync(join(out, `seed-${s}`, "generations", `${m}.jsonl`)), m);
    }
  }
  for (const p of phases()) assert.ok(existsSync(join(out, "phases", `${p}.json`)), p);
  assert.ok(readFileSync(join(out, "report.html"), "utf8").startsWith("<!doctype html>"));
});

test("every method after SFT starts from its seed's SFT checkpoint with the same steps, schedule, batch and seed", () => {
  const cfg = json(join(out, "demo_config.json"));
  const others = METHODS.filter((m) => m !== "sft");
  for (const s of SEEDS) {
    const sftCkpt = join(out, `seed-${s}`, "train", "sft", `checkpoint-${cfg.sft.steps}`);
    const tc = others.map((m) => json(join(out, `seed-${s}`, "train", m, "train_config.json")));
    for (const [i, c] of tc.entries()) {
      assert.equal(c.model, sftCkpt);
      assert.equal(c.seed, s);
      assert.equal(c.method, METHOD_SPECS[others[i]!].loss);
      for (const k of ["max_steps", "lr", "warmup", "schedule", "batch", "accum", "seed", "max_len"])
        assert.deepEqual(c[k], tc[0][k], `${others[i]} ${k}`);
    }
    // The β of the DPO family is the configured one; SimPO's and ORPO's are their own.
    assert.equal(tc[others.indexOf("iopo")].beta, cfg.pref.beta);
    assert.equal(tc[others.indexOf("dpo")].beta, cfg.pref.beta);
    assert.equal(tc[others.indexOf("simpo")].beta, cfg.simpo.beta);
    assert.equal(tc[others.indexOf("simpo")].simpo_gamma, cfg.simpo.gamma);
    assert.equal(tc[others.indexOf("orpo")].orpo_lambda, cfg.orpo.lambda);
    // DPO* and w/o input preference are one objective (a − b and c − d): with the same seed, data and reference
    // log-probs their runs are the same number for number (the first of them computes the reference log-probs).
    const same = ["dpo-star", "iopo-no-input"].map((m) =>
      lines(join(out, `seed-${s}`, "train", m, "metrics.jsonl")).map(
        ({ tokens_per_s: _, step_s: __, ...rest }) => rest,
      ),
    );
    assert.deepEqual(same[0], same[1]);
    // The same learning rate at every step.
    const lrs = others.map((m) => lines(join(out, `seed-${s}`, "train", m, "metrics.jsonl")).map((l) => l.lr));
    for (const l of lrs) assert.deepEqual(l, lrs[0]);
  }
  // The init of each seed differs (initialisation is part of the seed).
  assert.notDeepEqual(
    readFileSync(join(out, "seed-3", "models/init/model.safetensors")),
    readFileSync(join(out, "seed-4", "models/init/model.safetensors")),
  );
});

test("every number in results.json is recomputed from the saved generations and metrics", () => {
  const results = json(join(out, "results.json"));
  const evalItems = lines(join(out, "data", "eval.jsonl"));
  assert.equal(results.seed, 3);
  assert.deepEqual(results.seeds, SEEDS);
  assert.equal(results.sizes.sft_examples, lines(join(out, "data", "sft.jsonl")).length);
  assert.equal(results.sizes.iopo_groups, lines(join(out, "data", "groups.jsonl")).length);
  assert.equal(results.sizes.dpo_pairs, lines(join(out, "data", "pairs.jsonl")).length);
  assert.equal(results.sizes.eval_items, evalItems.length);
  assert.deepEqual(results.methods, [...METHODS]);
  const acc = (xs: boolean[]) => ({ correct: xs.filter(Boolean).length, total: xs.length });
  const perSeed: Record<string, Record<number, Record<string, number>>> = {};
  for (const s of SEEDS)
    for (const m of METHODS) {
      const gens = lines(join(out, `seed-${s}`, "generations", `${m}.jsonl`)).map((g) => GenerationSchema.parse(g));
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
        assert.equal(g.seed, s);
      }
      // Independent arithmetic (not the library's): item correct iff all constraints ok.
      const single = gens.filter((g) => g.verdicts.length === 1).map((g) => g.verdicts.every((v) => v.ok));
      const multi = gens.filter((g) => g.verdicts.length > 1).map((g) => g.verdicts.every((v) => v.ok));
      const cons = gens.flatMap((g) => g.verdicts.map((v) => v.ok === true));
      const r = results.runs[s][m];
      const want = { if_s: acc(single), if_m: acc(multi), constraint_level: acc(cons) };
      for (const [k, w] of Object.entries(want)) {
        assert.equal(r.scores[k].correct, w.correct, `${s} ${m} ${k}`);
        assert.equal(r.scores[k].total, w.total, `${s} ${m} ${k}`);
        ((perSeed[k] ??= {})[s] ??= {})[m] = w.correct / w.total;
      }
      assert.equal(r.hit_token_limit, gens.filter((g) => g.finish === "length").length);
      // Repetition: a word 4-gram three or more times, counted here with a plain loop.
      const repeating = gens.filter((g) => {
        const w = g.response.toLowerCase().split(/\s+/).filter(Boolean);
        for (let i = 0; i + 4 <= w.length; i++) {
          let n = 0;
          for (let j = 0; j + 4 <= w.length; j++) if (w.slice(j, j + 4).join(" ") === w.slice(i, i + 4).join(" ")) n++;
          if (n >= 3) return true;
        }
        return false;
      }).length;
      assert.equal(r.repetition.repeating, repeating, `${s} ${m}`);
      // Tokens trained on: the sums of metrics.jsonl, and nonzero.
      const metrics = lines(join(out, `seed-${s}`, "train", m, "metrics.jsonl"));
      const sum = (k: string) => metrics.reduce((a, l) => a + l[k], 0);
      assert.deepEqual(r.tokens, {
        prompt: sum("tokens_prompt"),
        response: sum("tokens_response"),
        steps: metrics.length,
      });
      assert.ok(r.tokens.prompt > 0 && r.tokens.response > 0, `${s} ${m}`);
    }
  // Summary: means over seeds; comparisons: the mean over seeds of the per-seed differences, inside its interval.
  for (const m of METHODS)
    for (const k of ["if_s", "if_m", "constraint_level"]) {
      const mean = SEEDS.reduce((a, s) => a + perSeed[k]![s]![m]!, 0) / SEEDS.length;
      assert.ok(Math.abs(results.summary[m].metrics[k].mean - mean) < 1e-12, `${m} ${k}`);
    }
  assert.equal(results.comparisons.length, 4 * 3);
  for (const c of results.comparisons) {
    const d = SEEDS.map((s) => perSeed[c.metric]![s]![c.a]! - perSeed[c.metric]![s]![c.b]!);
    assert.ok(Math.abs(c.diff - (d[0]! + d[1]!) / 2) < 1e-12, `${c.a}-${c.b} ${c.metric}`);
    for (const [i, x] of d.entries()) assert.ok(Math.abs(c.per_seed[i] - x) < 1e-12);
    assert.ok(c.lo <= c.diff + 1e-12 && c.diff <= c.hi + 1e-12, `${c.lo} ${c.diff} ${c.hi}`);
  }
  // Timings: one per phase, and their sum.
  assert.deepEqual(Object.keys(results.timings), phases());
  const total = Object.values(results.timings as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(results.total_seconds - total) < 1e-9);
});

test("a rerun skips every complete phase; a deleted artefact redoes only its phase", async () => {
  const before = readFileSync(join(out, "results.json"), "utf8");
  const again = await runCli(["demo", "--quick", "--out", out, "--seed", "3"]);
  assert.equal(again.code, 0, again.stderr);
  for (const p of phases()) assert.match(again.stderr, new RegExp(`phase ${p}: complete .* skipped`));
  assert.equal(readFileSync(join(out, "results.json"), "utf8"), before);
  const path = join(out, "seed-4", "generations", "dpo.jsonl");
  const dpo = readFileSync(path, "utf8");
  rmSync(path);
  const redo = await runCli(["demo", "--quick", "--out", out, "--seed", "3"]);
  assert.equal(redo.code, 0, redo.stderr);
  assert.match(redo.stderr, /phase seed4-generate-dpo: [\d.]+ s/);
  assert.match(redo.stderr, /phase seed3-generate-dpo: complete/);
  assert.match(redo.stderr, /phase seed4-generate-iopo: complete/);
  assert.match(redo.stderr, /phase seed4-train-dpo: complete/);
  // Greedy generation from the same checkpoint gives the same file.
  assert.equal(readFileSync(path, "utf8"), dpo);
});

test("another configuration in the same run directory is refused (exit 2)", async () => {
  const r = await runCli(["demo", "--quick", "--out", out, "--seed", "4"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /another configuration/);
  // Only the settings that differ are named, with both values.
  assert.match(r.stderr, /expected seed 4, got seed 3\n/);
  assert.match(r.stderr, /HINT: use another --out/);
});

test("a run directory is extended by more methods or seeds, and a request for less uses what it holds", async () => {
  // A copy of the finished run whose saved configuration claims only SFT and DPO on one seed: the quick demo
  // (every method, two seeds) extends it; every artefact exists already, so every phase is skipped.
  const copy = join(dir, "copy");
  cpSync(out, copy, { recursive: true });
  const cfg = json(join(copy, "demo_config.json"));
  writeFileSync(join(copy, "demo_config.json"), JSON.stringify({ ...cfg, methods: ["sft", "dpo"], seeds: 1 }));
  const ext = await runCli(["demo", "--quick", "--out", copy, "--seed", "3"]);
  assert.equal(ext.code, 0, ext.stderr);
  assert.match(ext.stderr, /extending the run: methods sft, sft-continued, .*simpo; 2 seed\(s\)/);
  assert.deepEqual(json(join(copy, "demo_config.json")), cfg);
  for (const p of phases()) assert.match(ext.stderr, new RegExp(`phase ${p}: complete .* skipped`));
  // One seed asked of a two-seed directory: its saved configuration runs (all complete), nothing is refused.
  const less = await runCli(["demo", "--quick", "--out", copy, "--seed", "3", "--seeds", "1"]);
  assert.equal(less.code, 0, less.stderr);
  assert.match(less.stderr, /holds more .*2 seeds\): using it/);
  assert.deepEqual(json(join(copy, "results.json")), json(join(out, "results.json")));
  rmSync(copy, { recursive: true, force: true });
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
