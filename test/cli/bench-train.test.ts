// `iopo bench train` through the real CLI on a tiny GQA model: exits 0, prints the documented JSON keys with
// sane values; bad shapes are a usage error (exit 2).

import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.ts";

const TINY = [
  "--vocab",
  "64",
  "--hidden",
  "16",
  "--layers",
  "1",
  "--heads",
  "2",
  "--kv-heads",
  "1",
  "--intermediate",
  "24",
];

/** `iopo bench train --json` on the tiny model: one group of 4 + 3 tokens, no warm-up, `steps` timed steps. */
const benchTiny = (steps: number, ...extra: string[]) =>
  runCli([
    "bench",
    "train",
    ...TINY,
    ...["--prompt", "4", "--response", "3", "--groups", "1", "--steps", String(steps), "--warmup", "0", "--json"],
    ...extra,
  ]);

test("bench train --json on a tiny model", async () => {
  const r = await benchTiny(2);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const key of [
    "step_ms_median",
    "tokens_per_s",
    "adamw_ms_median",
    "matmul_gflop_per_step",
    "achieved_gflops",
    "matmul_peak_gflops",
    "profile_ms_by_op",
  ])
    assert.ok(key in out, `missing ${key}`);
  assert.equal(out.tokens_per_step, 4 * 7);
  assert.equal(out.step_ms.length, 2);
  assert.ok(out.step_ms_median > 0 && out.tokens_per_s > 0);
  assert.ok(out.profile_ms_by_op.MatMul > 0 || out.profile_ms_by_op.FusedMatMul > 0);
});

test("bench train --split-attention: auto leaves short rows on one mask, on splits them, a bad mode is a usage error", async () => {
  const run = (...extra: string[]) => benchTiny(1, "--no-profile", ...extra);
  const auto = await run();
  assert.equal(auto.code, 0, auto.stderr);
  assert.deepEqual([JSON.parse(auto.stdout).shared_prefix, JSON.parse(auto.stdout).split_attention], [true, false]);
  const on = await run("--split-attention", "on");
  assert.equal(on.code, 0, on.stderr);
  assert.equal(JSON.parse(on.stdout).split_attention, true);
  assert.equal((await run("--split-attention", "maybe")).code, 2);
});

test("bench train rejects a hidden size the heads do not divide", async () => {
  const r = await runCli(["bench", "train", "--hidden", "10", "--heads", "4", "--steps", "1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad model shape/);
});
