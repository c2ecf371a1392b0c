import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Aborted,
  AuthError,
  BadRequest,
  ConnectionError,
  InvalidReply,
  nextDelay,
  RateLimited,
  ServerError,
  serverDelay,
  Timeout,
} from "../../src/llm/index.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");

test("nextDelay: a table of cases", () => {
  const rl = new RateLimited("429");
  const cases: [string, number, unknown, Record<string, string> | undefined, number, number | null][] = [
    // name, attempt, error, headers, rand, expected
    ["retry-after seconds", 1, rl, { "retry-after": "3" }, 0.9, 3000],
    ["retry-after-ms wins over retry-after", 1, rl, { "retry-after-ms": "250", "retry-after": "3" }, 0.9, 250],
    ["retry-after as an HTTP date", 1, rl, { "retry-after": new Date(NOW + 5000).toUTCString() }, 0, 5000],
    ["retry-after over 60 s is ignored", 1, rl, { "retry-after": "120" }, 0, 500],
    ["negative retry-after is ignored", 2, rl, { "retry-after": "-1" }, 0, 1000],
    ["garbage retry-after is ignored", 1, rl, { "retry-after": "soon" }, 0, 500],
    ["retry-after 0 means at once", 3, rl, { "retry-after": "0" }, 0, 0],
    ["backoff attempt 1", 1, new ServerError("500"), {}, 0, 500],
    ["backoff attempt 2", 2, new ServerError("500"), {}, 0, 1000],
    ["backoff attempt 4", 4, new ConnectionError("reset"), undefined, 0, 4000],
    ["backoff capped at 8 s", 9, new Timeout("t"), undefined, 0, 8000],
    ["full jitter removes up to 25%", 2, new ServerError("500"), undefined, 1, 750],
    ["half jitter", 4, new ServerError("500"), undefined, 0.5, 3500],
    ["invalid structured reply retried", 1, new InvalidReply("bad"), undefined, 0, 500],
    ["bad request: stop", 1, new BadRequest("400"), undefined, 0, null],
    ["auth error: stop", 1, new AuthError("401"), { "retry-after": "1" }, 0, null],
    ["aborted: stop", 1, new Aborted("stop"), undefined, 0, null],
    ["unknown error: stop", 1, new Error("bug"), undefined, 0, null],
  ];
  for (const [name, attempt, error, headers, rand, expected] of cases)
    assert.equal(nextDelay(attempt, error, headers, rand, NOW), expected, name);
});

test("serverDelay reads only sane values", () => {
  assert.equal(serverDelay({ "retry-after": "60" }, NOW), 60_000);
  assert.equal(serverDelay({ "retry-after": "60.5" }, NOW), undefined);
  assert.equal(serverDelay({ "retry-after-ms": "" }, NOW), undefined);
  assert.equal(serverDelay({}, NOW), undefined);
  assert.equal(serverDelay({ "retry-after": new Date(NOW - 1000).toUTCString() }, NOW), undefined);
});
