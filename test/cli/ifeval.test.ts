import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const BIN = new URL("../../bin/iopo.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "ifeval-cli-"));
const input = join(dir, "in.jsonl");
const rows = [
  { key: 1, prompt: "p1", instruction_id_list: ["punctuation:no_comma"], kwargs: [{}] },
  { key: 2, prompt: "p2", instruction_id_list: ["startend:quotation", "punctuation:no_comma"], kwargs: [{}, {}] },
];
writeFileSync(input, rows.map((r) => JSON.stringify(r)).join("\n"));

async function iopo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("ifeval score writes verdict lines in input order and prints JSON accuracies", async () => {
  const responses = join(dir, "r.jsonl");
  writeFileSync(
    responses,
    [
      { key: 2, response: '"a, b"' },
      { prompt: "p1", response: "a b" },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n"),
  );
  const out = join(dir, "v.jsonl");
  const r = await iopo(["ifeval", "score", "--input", input, "--responses", responses, "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  for (const k of ["prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose", "per_instruction"])
    assert.ok(k in json, k);
  assert.deepEqual(json.prompt_strict, { correct: 1, total: 2, accuracy: 0.5 });
  const verdicts = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(verdicts, [
    {
      key: 1,
      instruction_id_list: ["punctuation:no_comma"],
      follow_instruction_list_strict: [true],
      follow_instruction_list_loose: [true],
    },
    {
      key: 2,
      instruction_id_list: ["startend:quotation", "punctuation:no_comma"],
      follow_instruction_list_strict: [true, false],
      follow_instruction_list_loose: [true, false],
    },
  ]);
});

test("a bad response line fails with file:line; --skip-invalid counts it instead", async () => {
  const responses = join(dir, "bad.jsonl");
  writeFileSync(
    responses,
    `${JSON.stringify({ prompt: "p1", response: "a" })}\n{not json}\n${JSON.stringify({ key: 2, response: '"x"' })}\n`,
  );
  const r = await iopo(["ifeval", "score", "--input", input, "--responses", responses]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.jsonl:2: malformed JSON/);
  const s = await iopo(["ifeval", "score", "--input", input, "--responses", responses, "--skip-invalid", "--json"]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).skipped, 1);
  assert.match(s.stderr, /skipped 1 item/);
});

test("the readable report lists the four accuracies and per-id lines", async () => {
  const responses = join(dir, "ok.jsonl");
  writeFileSync(
    responses,
    [
      { key: 1, response: "a" },
      { key: 2, response: '"b"' },
    ]
      .map((r) => JSON.stringify(r))
      .join("\n"),
  );
  const r = await iopo(["ifeval", "score", "--input", input, "--responses", responses]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /prompt-level strict\s+100\.00%\s+\(2\/2\)/);
  assert.match(r.stdout, /startend:quotation/);
});

test("ifeval score refuses a directory as --out and a missing --responses before scoring; no stack trace", async () => {
  const responses = join(dir, "r2.jsonl");
  writeFileSync(responses, `${JSON.stringify({ key: 1, response: "a b" })}\n`);
  const r = await iopo(["ifeval", "score", "--input", input, "--responses", responses, "--out", dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--out is a directory[\s\S]*HINT/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const m = await iopo(["ifeval", "score", "--input", input, "--responses", join(dir, "absent.jsonl")]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /--responses[\s\S]*HINT/);
});
