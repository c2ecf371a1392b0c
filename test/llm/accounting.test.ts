import assert from "node:assert/strict";
import { test } from "node:test";
import { Accounting, formatReport, percentile } from "../../src/llm/index.ts";

test("percentile is nearest-rank", () => {
  const xs = Float64Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 95), 100);
  assert.equal(percentile(xs, 0), 10);
  assert.equal(percentile([], 50), null);
});

test("counts requests, retries, failures by cause, tokens, cost and latency", () => {
  let now = 0;
  const acc = new Accounting(() => now, "m", { m: { prompt: 1, completion: 4 } });
  acc.total = 4;
  acc.recordAttempt(100, "rate_limited");
  acc.recordAttempt(40);
  acc.recordSuccess({ prompt_tokens: 1000, completion_tokens: 500 }, 2, false);
  acc.recordAttempt(60);
  acc.recordSuccess({ prompt_tokens: 1000, completion_tokens: 500 }, 1, false);
  acc.recordSuccess({ prompt_tokens: 9, completion_tokens: 9 }, 3, true);
  acc.recordAttempt(10, "timeout");
  acc.recordFailure("timeout", 1, false);
  now = 2000;
  const r = acc.report();
  assert.equal(r.done, 4);
  assert.equal(r.succeeded, 3);
  assert.equal(r.failed, 1);
  assert.equal(r.cached, 1);
  assert.equal(r.requests, 4);
  assert.equal(r.retries, 1);
  assert.deepEqual(r.failures, { timeout: 1 });
  assert.deepEqual(r.errors, { rate_limited: 1, timeout: 1 });
  assert.equal(r.prompt_tokens, 2000);
  assert.equal(r.completion_tokens, 1000);
  assert.equal(r.cost_usd, (2000 * 1 + 1000 * 4) / 1e6);
  assert.deepEqual(r.latency_ms, { p50: 40, p95: 60, mean: 50 });
  assert.equal(r.rate, 2);
  assert.match(formatReport(r), /4\/4 done, 3 ok, 1 failed \(timeout 1\), 1 from cache/);
  assert.match(formatReport(r), /cost \$0\.0060/);
  assert.equal(new Accounting(() => 0, "unpriced").report().cost_usd, null);
});

test("latency storage grows past its first block", () => {
  const acc = new Accounting(() => 0, "m");
  for (let i = 1; i <= 3000; i++) acc.recordAttempt(i);
  const r = acc.report();
  assert.equal(r.latency_ms.p50, 1500);
  assert.equal(r.latency_ms.p95, 2850);
});
