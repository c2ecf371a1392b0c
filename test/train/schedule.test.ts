import assert from "node:assert/strict";
import { test } from "node:test";
import { learningRate, ScheduleSchema } from "../../src/train/schedule.ts";

test("warm-up is linear to the peak, cosine decays to the floor", () => {
  const s = ScheduleSchema.parse({ lr: 1e-3, total_steps: 110, warmup_steps: 10, min_ratio: 0.1 });
  assert.equal(learningRate(s, 0), 1e-4);
  assert.equal(learningRate(s, 9), 1e-3);
  assert.equal(learningRate(s, 10), 1e-3);
  assert.ok(Math.abs(learningRate(s, 60) - 1e-3 * (0.1 + 0.9 * 0.5)) < 1e-15);
  assert.ok(Math.abs(learningRate(s, 110) - 1e-4) < 1e-15);
  for (let i = 11; i < 110; i++) assert.ok(learningRate(s, i) <= learningRate(s, i - 1));
});

test("linear and constant decay", () => {
  const lin = ScheduleSchema.parse({ lr: 2, total_steps: 4, decay: "linear" });
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => learningRate(lin, i)),
    [2, 1.5, 1, 0.5, 0],
  );
  const c = ScheduleSchema.parse({ lr: 2, total_steps: 4, decay: "constant", warmup_steps: 2 });
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => learningRate(c, i)),
    [1, 2, 2, 2],
  );
});
