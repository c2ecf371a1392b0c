// --resume checks the run's identity: the pure comparison (a table of cases), then through runTraining on a tiny
// model: a changed lr, method or data content is refused naming the fields; a moved data file with the same bytes
// and a changed stop_at/threads are not; --force-resume goes ahead and is recorded in run_inputs.json; a torn last
// metrics line (a kill mid-append) is cut before the resumed run appends.

import assert from "node:assert/strict";
import { appendFile, copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { runTraining } from "../../src/train/index.ts";
import { formatDifferences, type RunInputs, resumeDifferences } from "../../src/train/resume.ts";
import { caseGroups, config, quietLogger, tinyModel, tmp, writeCaseGroups } from "./helpers.ts";

const inputs = (config: Record<string, unknown>, hashes: Partial<RunInputs> = {}): RunInputs => ({
  config,
  forced_resumes: [],
  ...hashes,
});

test("resumeDifferences: a table of what changes a run and what does not", () => {
  const base = { method: "iopo", lr: 5e-6, data: "a.jsonl", model: "m", batch: 1, stop_at: 0, threads: 0 };
  const cases: [string, RunInputs, RunInputs, string[]][] = [
    ["identical", inputs(base), inputs(base), []],
    ["lr", inputs(base), inputs({ ...base, lr: 1e-3 }), ["lr"]],
    ["method and batch", inputs(base), inputs({ ...base, method: "dpo", batch: 2 }), ["batch", "method"]],
    [
      "stop_at, threads, resume, out, save_every, ref_cache",
      inputs(base),
      inputs({ ...base, stop_at: 9, threads: 2, resume: true, out: "x", save_every: 3, ref_cache: "/c" }),
      [],
    ],
    [
      "data moved, same bytes",
      inputs(base, { data_sha256: "h1" }),
      inputs({ ...base, data: "b.jsonl" }, { data_sha256: "h1" }),
      [],
    ],
    ["data same path, new bytes", inputs(base, { data_sha256: "h1" }), inputs(base, { data_sha256: "h2" }), ["data"]],
    ["model weights changed", inputs(base, { model_sha256: "w1" }), inputs(base, { model_sha256: "w2" }), ["model"]],
    [
      "no saved hash: compared by path",
      inputs(base),
      inputs({ ...base, data: "b.jsonl" }, { data_sha256: "h1" }),
      ["data"],
    ],
    ["a key set now, unset before", inputs(base), inputs({ ...base, ref: "r" }), ["ref"]],
  ];
  for (const [name, saved, now, fields] of cases)
    assert.deepEqual(
      resumeDifferences(saved, now).map((d) => d.field),
      fields,
      name,
    );
  assert.equal(
    formatDifferences(resumeDifferences(inputs(base), inputs({ ...base, lr: 1e-3, ref: "r" }))),
    "--lr 0.000005 (saved) → 0.001 (now); --ref (unset) (saved) → r (now)",
  );
});

test("runTraining --resume: refused with the fields named, forced and recorded, torn metrics line cut", async () => {
  const dir = await tmp("resume");
  await tinyModel(join(dir, "model"));
  const data = join(dir, "groups.jsonl");
  await writeCaseGroups(data, 4);
  const out = join(dir, "run");
  const base = {
    method: "iopo" as const,
    model: join(dir, "model"),
    data,
    out,
    lr: 1e-3,
    max_steps: 3,
    batch: 2,
    accum: 1,
    ref_cache: join(dir, "cache"),
  };
  await runTraining(config({ ...base, stop_at: 1 }), quietLogger());
  const inputsPath = join(out, "run_inputs.json");
  const saved = JSON.parse(await readFile(inputsPath, "utf8"));
  assert.match(saved.data_sha256, /^[0-9a-f]{64}$/);
  assert.match(saved.model_sha256, /^[0-9a-f]{64}$/);

  const refused = async (c: Parameters<typeof config>[0], fields: RegExp) =>
    assert.rejects(runTraining(config(c), quietLogger()), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, /--resume with settings that change the run/);
      assert.match(e.message, fields);
      assert.match(e.message, /HINT: .*--force-resume/);
      return true;
    });
  await refused({ ...base, resume: true, lr: 5e-4 }, /--lr 0\.001 \(saved\) → 0\.0005 \(now\)/);
  await refused({ ...base, resume: true, method: "dpo" }, /--method iopo \(saved\) → dpo \(now\)/);
  await refused({ ...base, resume: true, batch: 1, accum: 2 }, /got 2 different: accum, batch/);
  // The same path with other bytes is other data.
  const moved = join(dir, "moved.jsonl");
  await copyFile(data, moved);
  await appendFile(data, `${JSON.stringify(caseGroups(5)[4])}\n`);
  await refused({ ...base, resume: true }, /--data .*sha256/);
  // A refused resume leaves the saved identity as it was.
  assert.deepEqual(JSON.parse(await readFile(inputsPath, "utf8")), saved);

  // The original bytes under another name, another stop_at and thread count: the same run. A kill mid-append
  // left half a metrics line; the resume cuts it and appends whole lines.
  await appendFile(join(out, "metrics.jsonl"), '{"step":2,"loss":0.6');
  const log = quietLogger();
  await runTraining(config({ ...base, data: moved, resume: true, stop_at: 2, threads: 1 }), log);
  assert.ok(
    log.lines.some((l) => /metrics\.jsonl: cut a torn last line \(20 bytes\)/.test(l)),
    log.lines.join("\n"),
  );
  const steps = (await readFile(join(out, "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(steps, [1, 2]);

  // --force-resume goes ahead and says what differed, in the run directory.
  await runTraining(config({ ...base, data: moved, resume: true, lr: 5e-4 }), quietLogger(), { forceResume: true });
  const after = JSON.parse(await readFile(inputsPath, "utf8"));
  assert.equal(after.forced_resumes.length, 1);
  assert.deepEqual(after.forced_resumes[0].differences, [{ field: "lr", saved: 1e-3, now: 5e-4 }]);
  assert.equal(after.config.lr, 5e-4);
  assert.equal(JSON.parse(await readFile(join(out, "train_config.json"), "utf8")).lr, 5e-4);
});
