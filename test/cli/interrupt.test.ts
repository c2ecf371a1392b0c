// Ctrl-C (SIGINT) through the real CLI for the long commands that had none: `train`, `construct` and `demo` stop
// with exit 130, say what state is kept and print the command that resumes (train adds --resume); running that
// command finishes the job from the kept state.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BIN } from "../helpers/paths.ts";
import { caseGroups, tinyModel } from "../train/helpers.ts";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "iopo-int-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

function start(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, IOPO_CACHE: join(dir, "cache") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exit = new Promise<Exit>((resolve) => child.on("close", (code) => resolve({ code, stderr, stdout })));
  return { child, exit };
}

async function waitFor(cond: () => boolean, what: string, ms = 240_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The argv of the printed "Resume with: iopo …" line (no quoting needed in these tests). */
function resumeArgs(stderr: string): string[] {
  const m = /^Resume with: iopo (.+)$/m.exec(stderr);
  assert.ok(m, `no resume line in:\n${stderr}`);
  return m[1]!.split(" ");
}

test("train: SIGINT after a checkpoint exits 130 and prints the command with --resume, which finishes the run", async () => {
  await tinyModel(join(dir, "model"));
  writeFileSync(
    join(dir, "groups.jsonl"),
    caseGroups(4)
      .map((g) => `${JSON.stringify(g)}\n`)
      .join(""),
  );
  const out = join(dir, "run");
  const args = ["train", "--method", "iopo", "--model", join(dir, "model"), "--data", join(dir, "groups.jsonl")];
  const run = start([...args, "--out", out, "--max-steps", "400", "--save-every", "1", "--batch", "2", "--accum", "1"]);
  await waitFor(() => existsSync(join(out, "checkpoint-2", "manifest.json")), "checkpoint-2");
  run.child.kill("SIGINT");
  const stopped = await run.exit;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /iopo train: SIGINT: stopped; the checkpoints in .* are kept/);
  const again = resumeArgs(stopped.stderr);
  assert.ok(again.includes("--resume"), again.join(" "));
  // Resume for a few steps only (the schedule stays 400 steps; --stop-at is not part of the run's identity).
  const resumed = await start([...again, "--stop-at", "4"]).exit;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed from .*checkpoint-\d+ at step \d+/);
  assert.ok(existsSync(join(out, "checkpoint-4", "manifest.json")));
});

test("construct trace: SIGINT exits 130 with the resume command; rerunning it completes", async () => {
  const run = join(dir, "construct");
  const args = ["construct", "trace", "--offline", "--run", run, "--n", "4000", "--concurrency", "2"];
  const first = start(args);
  await waitFor(() => existsSync(join(run, "trace.state.json")), "the first chunk");
  first.child.kill("SIGINT");
  const stopped = await first.exit;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /iopo construct: SIGINT: stopped; finished chunks are kept/);
  assert.deepEqual(resumeArgs(stopped.stderr), args);
  assert.equal(existsSync(join(run, "instructions.jsonl")), false, "no final output from a stopped run");
  const done = await start(args).exit;
  assert.equal(done.code, 0, done.stderr);
  assert.ok(existsSync(join(run, "instructions.jsonl")));
});

test("demo: SIGINT exits 130, keeps finished phases and prints the resume command", async () => {
  const out = join(dir, "demo");
  const run = start(["demo", "--quick", "--out", out]);
  await waitFor(() => existsSync(join(out, "phases")) && readdirSync(join(out, "phases")).length > 0, "a phase");
  run.child.kill("SIGINT");
  const stopped = await run.exit;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /iopo demo: SIGINT: stopped; finished phases in .* are kept/);
  assert.deepEqual(resumeArgs(stopped.stderr), ["demo", "--quick", "--out", out]);
  assert.ok(readdirSync(join(out, "phases")).length > 0, "the finished phase's marker is kept");
});
