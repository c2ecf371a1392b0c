import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkResponse } from "../../src/checks/rules/index.ts";
import { countWeights } from "../../src/construct/distribution.ts";
import {
  buildOfflineDataset,
  constructGroups,
  constructTrace,
  OfflineRoles,
  QC_STAGES,
  staticProblems,
} from "../../src/construct/index.ts";
import { IopoGroupSchema } from "../../src/schema/index.ts";
import { runCli } from "../helpers/cli.ts";
import { ROOT } from "../helpers/paths.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "iopo-construct-"));
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

async function offlineRun(dir: string, n: number, seed = 5) {
  const f = await constructTrace({ dir, roles: new OfflineRoles({ seed }), seed, n, concurrency: 4 });
  const g = await constructGroups({ dir, roles: new OfflineRoles({ seed }), seed, concurrency: 4 });
  return { f, g };
}

test("count distribution: 1–15 with mean 4.4", () => {
  const w = countWeights();
  assert.equal(w.length, 15);
  const mean = w.reduce((a, p, k) => a + p * (k + 1), 0);
  assert.ok(Math.abs(mean - 4.4) < 1e-6, String(mean));
});

const jsonl = (dir: string, f: string) =>
  read(dir, f)
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test("offline trace + strict groups: the four relations hold by the checkers; SFT* and separate DPO answers", async () => {
  const dir = tmp();
  const { f, g } = await offlineRun(dir, 300);
  assert.equal(f.records_in, 300);
  const examples = jsonl(dir, "instructions.jsonl");
  assert.equal(examples.length, f.records_out.instructions);
  for (const e of examples) assert.equal(checkResponse(e.instruction, e.response).all_ok, true);
  const groups = jsonl(dir, "groups.jsonl").map((l) => IopoGroupSchema.parse(l));
  assert.ok(groups.length > examples.length * 0.8, `${groups.length} groups of ${examples.length}`);
  const ops: Record<string, number> = {};
  for (const gr of groups) {
    const rel = {
      y1_x1: checkResponse(gr.x1, gr.y1).all_ok === true,
      y1_x2: checkResponse(gr.x2, gr.y1).all_ok === true,
      y2_x2: checkResponse(gr.x2, gr.y2).all_ok === true,
      y2_x1: checkResponse(gr.x1, gr.y2).all_ok === true,
    };
    assert.deepEqual(rel, { y1_x1: true, y1_x2: false, y2_x2: true, y2_x1: false }, gr.id);
    assert.deepEqual(gr.relations, rel);
    assert.equal(gr.y2_fails_x1, true);
    assert.equal(gr.x2.description, gr.x1.description);
    assert.equal(gr.x2.input, gr.x1.input);
    ops[gr.op!] = (ops[gr.op!] ?? 0) + 1;
  }
  // ADD keeps all of x1, so y2 ⊨ x2 ⊇ x1: no strict ADD group can exist; DELETE and REVISE share the groups.
  assert.equal(ops.add, undefined, JSON.stringify(ops));
  for (const op of ["delete", "revise"]) assert.ok((ops[op] ?? 0) / groups.length > 0.35, JSON.stringify(ops));
  const funnel = JSON.parse(read(dir, "groups_funnel.json"));
  const rel = funnel.counts.relations;
  assert.ok(rel.add.candidates > 0 && rel.add.all_four === undefined && rel.add.kept === undefined);
  for (const op of ["add", "delete", "revise"]) {
    assert.ok(rel[op].y2_x2 <= rel[op].responded && rel[op].responded <= rel[op].candidates);
    assert.ok((rel[op].kept ?? 0) <= (rel[op].all_four ?? 0));
  }
  assert.deepEqual(funnel.counts.kept_by_op, ops);
  // SFT*: (x1, y1) and (x2, y2) of every group, each following its instruction.
  const star = jsonl(dir, "sft_star.jsonl");
  assert.equal(star.length, 2 * groups.length);
  for (const e of star) assert.equal(checkResponse(e.instruction, e.response).all_ok, true);
  // DPO: the rejected answer is written for x1 on its own, never a group's y2, and fails x1.
  const y2 = new Map(groups.map((gr) => [gr.x1.id, gr.y2]));
  const pairs = jsonl(dir, "dpo_pairs.jsonl");
  assert.ok(pairs.length > examples.length * 0.8 && g.records_in === examples.length);
  for (const p of pairs) {
    assert.equal(checkResponse(p.instruction, p.rejected).all_ok, false);
    assert.notEqual(p.rejected, y2.get(p.instruction.id));
  }
  // Funnel: every stage's in = out + drops; rejects.jsonl lists every drop.
  for (const [fun, rej] of [
    ["funnel.json", "rejects.jsonl"],
    ["groups_funnel.json", "groups_rejects.jsonl"],
  ] as const) {
    const stages = JSON.parse(read(dir, fun)).stages;
    let drops = 0;
    for (const s of Object.values(stages) as { in: number; out: number; dropped: Record<string, number> }[]) {
      const d = Object.values(s.dropped).reduce((a, b) => a + b, 0);
      assert.equal(s.in, s.out + d);
      drops += d;
    }
    assert.equal(jsonl(dir, rej).length, drops, rej);
  }
});

test("offline quality stages: each injected fault is repaired or dropped with its own reason", async () => {
  const dir = tmp();
  const f = await constructTrace({
    dir,
    roles: new OfflineRoles({ seed: 3, faultRate: 0.5 }),
    seed: 3,
    n: 300,
    concurrency: 4,
  });
  const st = f.stages;
  assert.ok(st.completeness!.fixed > 5, "vague constraints removed");
  assert.ok((st.completeness!.dropped.incomplete ?? 0) > 5, "missing inputs dropped");
  assert.ok(st.redundancy!.fixed > 5, "repeats removed");
  assert.ok(st.contradiction!.fixed > 5, "contradictions repaired");
  const rejects = jsonl(dir, "rejects.jsonl");
  const incomplete = rejects.filter((r) => r.code === "incomplete");
  assert.ok(incomplete.every((r) => r.stage === "completeness" && /input/.test(r.reason)));
  // What passed holds no vague constraint, no repeat and no contradiction.
  for (const e of jsonl(dir, "instructions.jsonl")) {
    for (const aspect of QC_STAGES) assert.deepEqual(staticProblems(aspect, e.instruction), [], aspect);
    assert.ok(e.instruction.constraints.every((c: { check?: unknown }) => c.check));
  }
});

test("loose groups keep today's rule: ADD groups appear, and y2 may still follow x1", async () => {
  const dir = tmp();
  await constructTrace({ dir, roles: new OfflineRoles({ seed: 5 }), seed: 5, n: 200, concurrency: 4 });
  await constructGroups({ dir, roles: new OfflineRoles({ seed: 5 }), seed: 5, mode: "loose" });
  const groups = jsonl(dir, "groups.jsonl").map((l) => IopoGroupSchema.parse(l));
  const ops: Record<string, number> = {};
  for (const gr of groups) {
    assert.equal(checkResponse(gr.x2, gr.y2).all_ok, true);
    assert.equal(checkResponse(gr.x2, gr.y1).all_ok, false);
    assert.equal(checkResponse(gr.x1, gr.y2).all_ok === true, gr.relations!.y2_x1);
    ops[gr.op!] = (ops[gr.op!] ?? 0) + 1;
  }
  for (const op of ["add", "delete", "revise"]) assert.ok((ops[op] ?? 0) / groups.length > 0.25, JSON.stringify(ops));
  assert.ok(groups.some((gr) => gr.op === "add" && gr.relations!.y2_x1));
});

test("offline output is byte-for-byte reproducible for a seed, and differs for another", async () => {
  const [a, b, c] = [tmp(), tmp(), tmp()];
  await offlineRun(a, 120, 11);
  await offlineRun(b, 120, 11);
  await offlineRun(c, 120, 12);
  for (const f of [
    "instructions.jsonl",
    "groups.jsonl",
    "sft_star.jsonl",
    "dpo_pairs.jsonl",
    "funnel.json",
    "groups_funnel.json",
    "rejects.jsonl",
    "groups_rejects.jsonl",
  ])
    assert.equal(read(a, f), read(b, f), f);
  assert.notEqual(read(a, "instructions.jsonl"), read(c, "instructions.jsonl"));
});

test("kill -9 mid-run, then resume, equals an uninterrupted run", async () => {
  const [full, cut] = [tmp(), tmp()];
  const args = (dir: string) => [
    "construct",
    "trace",
    "--run",
    dir,
    "--offline",
    "--seed",
    "4",
    "--n",
    "3000",
    "--json",
  ];
  assert.equal((await runCli(args(full))).code, 0);
  // Start, wait for the first committed chunk, then SIGKILL.
  const child = spawn(process.execPath, [join(ROOT, "bin/iopo.js"), ...args(cut)], { stdio: "ignore" });
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      try {
        const st = JSON.parse(readFileSync(join(cut, "trace.state.json"), "utf8"));
        if (st.next >= 256) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        }
      } catch {
        // not written yet
      }
    }, 20);
  });
  await new Promise((r) => child.on("close", r));
  const resumed = await runCli(args(cut));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(read(cut, "instructions.jsonl"), read(full, "instructions.jsonl"));
  assert.equal(read(cut, "funnel.json"), read(full, "funnel.json"));
  const ids = read(cut, "instructions.jsonl")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).id);
  assert.equal(new Set(ids).size, ids.length);
});

test("a resume with other flags is refused as a usage error", async () => {
  const dir = tmp();
  assert.equal((await runCli(["construct", "trace", "--run", dir, "--offline", "--n", "10"])).code, 0);
  const again = await runCli(["construct", "trace", "--run", dir, "--offline", "--n", "11"]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /different configuration/);
  const groups = (mode: string) =>
    runCli(["construct", "groups", "--run", dir, "--offline", "--groups", mode, "--json"]);
  const loose = await groups("loose");
  assert.equal(loose.code, 0, loose.stderr);
  const f = JSON.parse(loose.stdout);
  assert.ok(f.counts.relations && f.records_out.sft_star === 2 * f.records_out.groups);
  assert.equal((await groups("strict")).code, 2, "a resume in another mode is refused");
  const bogus = await groups("bogus");
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /groups/);
});

test("iopo check prints per-constraint verdicts as JSON", async () => {
  const dir = tmp();
  const x = {
    id: "x",
    description: "Describe bees.",
    constraints: [
      {
        text: "1. Use at most 5 words.",
        type: "Numerical",
        check: { kind: "word_count", params: { relation: "at_most", n: 5 } },
      },
      { text: "2. Be cheerful.", type: "Emotion" },
      {
        text: '3. Include the keyword "hive".',
        type: "Inclusion",
        check: { kind: "include_keywords", params: { words: ["hive"] } },
      },
    ],
    input: null,
  };
  writeFileSync(join(dir, "x.json"), JSON.stringify(x));
  writeFileSync(join(dir, "y.txt"), "Bees love their hive.");
  const r = await runCli(["check", "--instruction", join(dir, "x.json"), "--response", join(dir, "y.txt"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.constraints.map((c: { ok: boolean | null }) => c.ok),
    [true, null, true],
  );
  assert.equal(out.all_ok, null);
  assert.equal(out.constraints[1].note, "no rule checker for this constraint");
  writeFileSync(join(dir, "y.txt"), "Bees are busy little creatures.");
  const bad = await runCli(["check", "--instruction", join(dir, "x.json"), "--response", join(dir, "y.txt")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /✗/);
});

test("library: an in-process dataset with a held-out eval set", async () => {
  const d = await buildOfflineDataset({ seed: 2, n: 60, evalN: 20 });
  assert.ok(d.sft.length > 50 && d.groups.length > 40 && d.pairs.length > 40);
  assert.equal(d.sftStar.length, 2 * d.groups.length);
  assert.equal(d.eval.length, 20);
  assert.ok(d.eval.slice(0, 10).every((x) => x.constraints.length === 1));
  assert.ok(d.eval.slice(10).every((x) => x.constraints.length >= 2));
  const trainDescriptions = new Set(d.sft.map((e) => e.instruction.description));
  assert.ok(d.eval.every((x) => !trainDescriptions.has(x.description)));
});
