import assert from "node:assert/strict";
import { test } from "node:test";
import { realClock, sleep } from "../../src/llm/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

test("sleep on the fake clock advances virtual time only", async () => {
  const clock = new FakeClock(0);
  const wall = Date.now();
  await sleep(clock, 3_600_000);
  assert.equal(clock.now(), 3_600_000);
  assert.ok(Date.now() - wall < 1000);
});

test("sleep rejects with the signal's reason, before or during the wait", async () => {
  const ac = new AbortController();
  ac.abort(new Error("early"));
  await assert.rejects(sleep(realClock, 10, ac.signal), /early/);
  const late = new AbortController();
  setTimeout(() => late.abort(new Error("late")), 5);
  await assert.rejects(sleep(realClock, 60_000, late.signal), /late/);
  const t = Date.now();
  await sleep(realClock, 20);
  assert.ok(Date.now() - t >= 15);
});

test("cancelled timers never fire", async () => {
  const clock = new FakeClock(0);
  let fired = false;
  const cancel = clock.setTimer(10, () => (fired = true));
  cancel();
  await sleep(clock, 100);
  assert.equal(fired, false);
});
