import assert from "node:assert/strict";
import { test } from "node:test";
import { createProgress, progressLine } from "../../src/llm/index.ts";

function sink() {
  const lines: string[] = [];
  const stream = { write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

test("plain mode prints a line per interval with done/total, rate, ETA and failures", () => {
  let now = 0;
  const { lines, stream } = sink();
  const p = createProgress({ total: 100, stream, intervalMs: 1000, now: () => now, label: "gen" });
  now = 500;
  p.update({ done: 5, failed: 0 });
  assert.equal(lines.length, 0, "not before the interval");
  now = 2000;
  p.update({ done: 20, failed: 1 });
  assert.deepEqual(lines, ["gen: 20/100 (20.0%), 10.0/s, ETA 8s, failed 1\n"]);
  p.stop({ done: 100, failed: 1 });
  assert.equal(lines.length, 2);
});

test("progressLine formats long ETAs", () => {
  assert.equal(progressLine("x", 0, 10, 0, 0), "x: 0/10 (0.0%), 0.0/s, ETA ?, failed 0");
  assert.equal(progressLine("x", 1, 10_001, 0, 2), "x: 1/10001 (0.0%), 2.0/s, ETA 1h23m, failed 0");
  assert.equal(progressLine("x", 1, 201, 0, 2), "x: 1/201 (0.5%), 2.0/s, ETA 1m40s, failed 0");
});

test("TTY mode draws a bar", () => {
  const out: string[] = [];
  const stream = {
    write: (s: string) => out.push(s),
    isTTY: true,
    columns: 120,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    on: () => {},
    removeListener: () => {},
  } as unknown as NodeJS.WriteStream;
  const p = createProgress({ total: 10, stream, tty: true });
  p.update({ done: 4, failed: 1 });
  p.stop({ done: 10, failed: 1 });
  const text = out.join("");
  assert.match(text, /10\/10/);
  assert.match(text, /failed 1/);
});
