import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkResponse } from "../../src/checks/rules/index.ts";
import { countWeights } from "../../src/construct/distribution.ts";
import { buildOfflineDataset, constructGroups, constructTrace, OfflineRoles } from "../../src/construct/index.ts";
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

test("offline trace + groups: every group verifies by the checkers, ops in roughly equal shares", async () => {
  const dir = tmp();
  const { f, g } = await offlineRun(dir, 300);
  assert.equal(f.records_in, 300);
  const examples = read(dir, "instructions.jsonl")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(examples.length, f.records_out.instructions);
  for (const e of examples) assert.equal(checkResponse(e.instruction, e.response).all_ok, true);
  const groups = read(dir, "groups.jsonl")
    .trim()
    .split("\n")
    .map((l) => IopoGroupSchema.parse(JSON.parse(l)));
  assert.ok(groups.length > examples.length * 0.8, `${groups.length} groups of ${examples.length}`);
  const ops: Record<string, number> = {};
  for (const gr of groups) {
    assert.equal(checkResponse(gr.x1, gr.y1).all_ok, true, "y1 ⊨ x1");
    assert.equal(checkResponse(gr.x2, gr.y2).all_ok, true, "y2 ⊨ x2");
    assert.equal(checkResponse(gr.x2, gr.y1).all_ok, false, "y1 ⊭ x2");
    assert.equal(checkResponse(gr.x1, gr.y2).all_ok === false, gr.y2_fails_x1);
    assert.equal(gr.x2.description, gr.x1.description);
    assert.equal(gr.x2.input, gr.x1.input);
    ops[gr.op!] = (ops[gr.op!] ?? 0) + 1;
  }
  for (const op of ["add", "delete", "revise"]) assert.ok((ops[op] ?? 0) / groups.length > 0.25, JSON.stringify(ops));
  const pairs = read(dir, "dpo_pairs.jsonl")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  for (const p of pairs) assert.equal(checkResponse(p.instruction, p.rejected).all_ok, false);
  assert.ok(pairs.length > 0 && g.records_in === examples.length);
  // Funnel: every stage's in = out + drops; rejects.jsonl lists every drop.
  const funnel = JSON.parse(read(dir, "funnel.json"));
  let drops = 0;
  for (const s of Object.values(funnel.stages) as { in: number; out: number; dropped: Record<string, number> }[]) {
    const d = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    assert.equal(s.in, s.out + d);
    drops += d;
  }
  assert.equal(read(dir, "rejects.jsonl").trim().split("\n").filter(Boolean).length, drops);
});

test("offline output is byte-for-byte reproducible for a seed, and differs for another", async () => {
  const [a, b, c] = [tmp(), tmp(), tmp()];
  await offlineRun(a, 120, 11);
  await offlineRun(b, 120, 11);
  await offlineRun(c, 120, 12);
  for (const f of ["instructions.jsonl", "groups.jsonl", "dpo_pairs.jsonl", "funnel.json", "rejects.jsonl"])
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
  assert.equal(d.eval.length, 20);
  assert.ok(d.eval.slice(0, 10).every((x) => x.constraints.length === 1));
  assert.ok(d.eval.slice(10).every((x) => x.constraints.length >= 2));
  const trainDescriptions = new Set(d.sft.map((e) => e.instruction.description));
  assert.ok(d.eval.every((x) => !trainDescriptions.has(x.description)));
});
