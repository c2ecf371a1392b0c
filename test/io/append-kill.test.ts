// Append-only files after kill -9: a real writer process (test/helpers/append-writer.ts, the reference log-prob
// cache) is killed with SIGKILL in the middle of an append; reopening cuts the torn last line, the resumed cache
// holds only whole records, and appending again leaves a file every line of which parses. Plus repairJsonlTail's
// edge cases on hand-made files.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { JsonlAppender, repairJsonlTail, writeJsonlAtomic } from "../../src/io/index.ts";
import { RefCache } from "../../src/train/index.ts";
import { CHUNK, LINE_BYTES, REF_HASH, roundSeqs } from "../helpers/append-writer.ts";
import { ROOT } from "../helpers/paths.ts";

const size = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

/** Start the writer and SIGKILL it as soon as the file's size shows a torn line; returns the size after death. */
function killMidAppend(dir: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/append-writer.ts", dir], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    let killed = false;
    // Idle while the writer starts (no busy loop on a shared machine), then watch the size as fast as we can.
    const poll = () => {
      if (killed) return;
      const n = size(file);
      if (n > 0 && n % LINE_BYTES !== 0) {
        killed = true;
        child.kill("SIGKILL");
      } else if (n === 0) setTimeout(poll, 10);
      else setImmediate(poll);
    };
    poll();
    child.on("exit", (code, signal) => {
      killed = true;
      if (signal !== "SIGKILL") reject(new Error(`writer exited ${code} without being killed: ${stderr}`));
      else resolve(size(file));
    });
  });
}

test("a writer killed mid-append (SIGKILL): the torn line is cut on reopen and the resumed cache is whole", async () => {
  let dir = "";
  let torn = 0;
  const file = () => join(dir, `${REF_HASH.slice(0, 32)}.jsonl`);
  // The kill lands on a torn line almost always; a kill between two appends is retried (a new directory).
  for (let attempt = 0; attempt < 8 && torn === 0; attempt++) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), "iopo-kill-"));
    const after = await killMidAppend(dir, file());
    torn = after % LINE_BYTES;
  }
  try {
    assert.ok(torn > 0, "the writer was never caught mid-append");
    const before = size(file());
    const whole = Math.floor(before / LINE_BYTES);

    // Resume: the torn bytes are cut, every whole line is kept.
    const cache = await RefCache.open(dir, REF_HASH);
    assert.equal(cache.repaired, torn);
    assert.equal(size(file()), whole * LINE_BYTES);
    assert.equal(cache.size, whole);

    // Scoring the first rounds again computes only what was not on disk, and the values are the writer's.
    const rounds = Math.ceil(whole / CHUNK) + 1;
    const seqs = Array.from({ length: rounds }, (_, r) => roundSeqs(r)).flat();
    let scored = 0;
    const { values, stats } = await cache.fill(seqs, async (batch) => {
      scored += batch.length;
      return new Float32Array(batch.length).fill(-1.25);
    });
    assert.equal(stats.cached, whole);
    assert.equal(stats.computed, seqs.length - whole);
    assert.equal(scored, seqs.length - whole);
    assert.ok(values.every((v) => v === -1.25));

    // A second resume reads every line (no line glued onto a torn one) and has nothing to cut.
    const text = readFileSync(file(), "utf8");
    const lines = text.split("\n").filter(Boolean);
    assert.equal(lines.length, seqs.length);
    for (const l of lines) assert.deepEqual(Object.keys(JSON.parse(l)), ["k", "lp"]);
    const again = await RefCache.open(dir, REF_HASH);
    assert.equal(again.repaired, 0);
    assert.equal(again.size, seqs.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("repairJsonlTail: missing, empty, whole, torn, a single torn line, and a torn line longer than its read block", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-tail-"));
  try {
    const p = join(dir, "a.jsonl");
    assert.equal(await repairJsonlTail(p), 0);
    writeFileSync(p, "");
    assert.equal(await repairJsonlTail(p), 0);
    writeFileSync(p, '{"a":1}\n{"a":2}\n');
    assert.equal(await repairJsonlTail(p), 0);
    assert.equal(readFileSync(p, "utf8"), '{"a":1}\n{"a":2}\n');
    writeFileSync(p, '{"a":1}\n{"a":2}\n{"a":');
    assert.equal(await repairJsonlTail(p), 5);
    assert.equal(readFileSync(p, "utf8"), '{"a":1}\n{"a":2}\n');
    writeFileSync(p, '{"a":');
    assert.equal(await repairJsonlTail(p), 5);
    assert.equal(readFileSync(p, "utf8"), "");
    const long = `{"t":"${"x".repeat(200_000)}`;
    writeFileSync(p, `{"a":1}\n${long}`);
    assert.equal(await repairJsonlTail(p), long.length);
    assert.equal(readFileSync(p, "utf8"), '{"a":1}\n');

    // The appender repairs on open, then appends whole lines after the last good one.
    writeFileSync(p, '{"a":1}\n{"a":');
    const out = await JsonlAppender.open(p);
    assert.equal(out.repaired, 5);
    await out.append([{ a: 2 }, { a: 3 }]);
    assert.equal(readFileSync(p, "utf8"), '{"a":1}\n{"a":2}\n{"a":3}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an atomic writer removes the temp files of killed writers, not those of live ones", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-stale-"));
  try {
    const out = join(dir, "o.jsonl");
    // A writer killed with SIGKILL leaves its temp sibling (named by its pid) behind.
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const pid = child.pid!;
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    writeFileSync(join(dir, `o.jsonl.tmp-${pid}-1`), '{"half":');
    writeFileSync(join(dir, `o.jsonl.tmp-${process.pid}-2`), "mine, in use");
    writeFileSync(join(dir, "other.jsonl.tmp-1-3"), "another file's");
    assert.equal(await writeJsonlAtomic(out, [{ a: 1 }]), 1);
    assert.deepEqual(readdirSync(dir).sort(), ["o.jsonl", `o.jsonl.tmp-${process.pid}-2`, "other.jsonl.tmp-1-3"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
