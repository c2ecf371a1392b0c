import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "../helpers/cli.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));

for (const name of ["qwen2-tiny", "llama-tiny"]) {
  test(`iopo logps --grad matches the PyTorch golden values for ${name}`, async () => {
    const dir = `${FIXTURES}${name}/`;
    const expected = JSON.parse(readFileSync(`${dir}expected.json`, "utf8"));
    const tol = expected.tolerances;
    const want = expected.policy_vs_reference;
    const r = await runCli([
      "logps",
      "--model",
      `${dir}policy`,
      "--ref",
      `${dir}reference`,
      "--tokens",
      `${dir}tokens.jsonl`,
      "--beta",
      String(expected.beta),
      "--grad",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const worst: Record<string, number> = { lp: 0, loss: 0, grad: 0 };
    assert.equal(got.groups.length, want.groups.length);
    want.groups.forEach(
      (
        g: { lp: Record<string, number>; ref_lp: Record<string, number>; iopo_loss: number; dpo_loss: number },
        i: number,
      ) => {
        for (const k of ["y1|x1", "y2|x1", "y2|x2", "y1|x2"]) {
          worst.lp = Math.max(
            worst.lp!,
            rel(got.groups[i].lp[k], g.lp[k]!),
            rel(got.groups[i].ref_lp[k], g.ref_lp[k]!),
          );
        }
        worst.loss = Math.max(
          worst.loss!,
          Math.abs(got.groups[i].iopo_loss - g.iopo_loss),
          Math.abs(got.groups[i].dpo_loss - g.dpo_loss),
        );
      },
    );
    worst.loss = Math.max(worst.loss!, Math.abs(got.mean_iopo_loss - want.mean_iopo_loss));
    for (const [key, norm] of Object.entries(want.grad_norms as Record<string, number>)) {
      assert.ok(key in got.grad_norms, `missing gradient for ${key}`);
      worst.grad = Math.max(worst.grad!, rel(got.grad_norms[key], norm));
    }
    assert.equal(Object.keys(got.grad_norms).length, Object.keys(want.grad_norms).length);
    console.log(
      `${name}: max rel lp ${worst.lp!.toExponential(2)}, max abs loss ${worst.loss!.toExponential(2)}, max rel grad norm ${worst.grad!.toExponential(2)}`,
    );
    assert.ok(worst.lp! <= tol.lp_rel, `log-probs off by ${worst.lp}`);
    assert.ok(worst.loss! <= tol.loss_abs, `losses off by ${worst.loss}`);
    assert.ok(worst.grad! <= tol.grad_norm_rel, `gradient norms off by ${worst.grad}`);
    assert.ok(rel(got.grad_norm, want.grad_norm) <= tol.grad_norm_rel);
  });
}

test("iopo logps without --ref uses the policy as reference: every loss is ln 2", async () => {
  const dir = `${FIXTURES}llama-tiny/`;
  const r = await runCli(["logps", "--model", `${dir}reference`, "--tokens", `${dir}tokens.jsonl`, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  for (const g of got.groups) {
    assert.ok(Math.abs(g.iopo_loss - Math.LN2) < 1e-12 && Math.abs(g.dpo_loss - Math.LN2) < 1e-12);
    // Every method that trains on groups, from the one loss table.
    assert.deepEqual(Object.keys(g.losses).sort(), [
      "dpo-star",
      "iopo",
      "iopo-no-input",
      "iopo-no-output",
      "iopo-star",
    ]);
    for (const v of Object.values(g.losses) as number[]) assert.ok(Math.abs(v - Math.LN2) < 1e-12);
  }
  assert.equal(got.grad_norms, undefined);
});

test("iopo logps --grad: the shared-prefix step and --no-shared-prefix give the same gradient norms", async () => {
  const dir = `${FIXTURES}qwen2-tiny/`;
  const args = ["logps", "--model", `${dir}policy`, "--ref", `${dir}reference`, "--tokens", `${dir}tokens.jsonl`];
  const packed = JSON.parse((await runCli([...args, "--grad", "--json"])).stdout);
  const r = await runCli([...args, "--grad", "--no-shared-prefix", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const flat = JSON.parse(r.stdout);
  for (const [key, norm] of Object.entries(flat.grad_norms as Record<string, number>))
    assert.ok(Math.abs(packed.grad_norms[key] - norm) <= 1e-5 * Math.max(norm, 1e-6), key);
  // The losses of the groups differ between policy and reference (the check above is not trivial).
  assert.ok(Math.abs(flat.mean_iopo_loss - Math.LN2) > 1e-3);
});

test("iopo logps refuses a token id outside the vocabulary and a missing model, naming file, line and field", async () => {
  const dir = `${FIXTURES}qwen2-tiny/`;
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const tmpdir = await mkdtemp(`${(await import("node:os")).tmpdir()}/iopo-logps-`);
  const bad = `${tmpdir}/bad.jsonl`;
  await writeFile(
    bad,
    `${JSON.stringify({ x1: [1, 2], y1: [3], x2: [4], y2: [5] })}\n${JSON.stringify({ x1: [1], y1: [99999], x2: [4], y2: [5] })}\n`,
  );
  const r = await runCli(["logps", "--model", `${dir}policy`, "--tokens", bad, "--json"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /bad\.jsonl:2: token id out of range \[field y1\.0\]/);
  assert.match(r.stderr, /got 99999/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const m = await runCli(["logps", "--model", `${tmpdir}/absent`, "--tokens", bad]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /--model[\s\S]*HINT/);
});
