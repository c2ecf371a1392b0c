import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { DataError } from "../../src/errors.ts";
import { readJsonArrayElements, readJsonl, type Skipped, writeJsonlAtomic } from "../../src/io/index.ts";

const Schema = z.object({ id: z.string(), n: z.number() });

test("readJsonl names file:line, field, expected and got", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-jsonl-"));
  const path = join(dir, "a.jsonl");
  writeFileSync(path, '{"id":"a","n":1}\n\n{"id":"b","n":"two"}\n');
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of readJsonl(path, Schema)) seen.push(r.value.id);
    })(),
    (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.match(
        err.message,
        new RegExp(`${path}:3: wrong type \\(id "b"\\) \\[field n\\]; expected number, got string "two"`),
      );
      return true;
    },
  );
  assert.deepEqual(seen, ["a"]);
});

test("readJsonl with skipInvalid counts and locates skipped lines", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-jsonl-"));
  const path = join(dir, "a.jsonl");
  writeFileSync(path, '{"id":"a","n":1}\n{oops\n{"id":"c"}\n{"id":"d","n":4}\n');
  const skipped: Skipped[] = [];
  const ids: string[] = [];
  for await (const r of readJsonl(path, Schema, { skipInvalid: true, skipped })) ids.push(r.value.id);
  assert.deepEqual(ids, ["a", "d"]);
  assert.deepEqual(
    skipped.map((s) => s.line),
    [2, 3],
  );
  assert.match(skipped[0]!.message, /malformed JSON/);
  assert.match(skipped[1]!.message, /missing field/);
});

test("writeJsonlAtomic leaves no partial file when the source fails", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-jsonl-"));
  const path = join(dir, "out.jsonl");
  writeFileSync(path, "old\n");
  async function* failing() {
    yield { a: 1 };
    throw new Error("boom");
  }
  await assert.rejects(writeJsonlAtomic(path, failing()), /boom/);
  assert.equal(readFileSync(path, "utf8"), "old\n");
  assert.deepEqual(readdirSync(dir), ["out.jsonl"]);
  await writeJsonlAtomic(path, [{ a: 1 }, { b: 2 }]);
  assert.equal(readFileSync(path, "utf8"), '{"a":1}\n{"b":2}\n');
  assert.ok(existsSync(path));
});

test("readJsonArrayElements streams elements with their start lines, strings with brackets included", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-jsonl-"));
  const path = join(dir, "a.json");
  writeFileSync(path, '[\n  {"a": "x]},[\\"y"},\n  [1, [2]],\n  "s"\n]\n');
  const got: { line: number; value: unknown }[] = [];
  for await (const e of readJsonArrayElements(path)) got.push({ line: e.line, value: JSON.parse(e.text) });
  assert.deepEqual(got, [
    { line: 2, value: { a: 'x]},["y' } },
    { line: 3, value: [1, [2]] },
    { line: 4, value: "s" },
  ]);
  writeFileSync(path, "[1, 2");
  await assert.rejects(
    (async () => {
      for await (const _ of readJsonArrayElements(path));
    })(),
    /unterminated JSON array/,
  );
});
