import assert from "node:assert/strict";
import { test } from "node:test";
import { ProviderError } from "../../src/errors.ts";
import { fromHttp, LlmError, redact, toHeaderMap } from "../../src/llm/index.ts";

test("fromHttp maps every status family", () => {
  const table: [number, string][] = [
    [400, "bad_request"],
    [401, "auth_error"],
    [403, "auth_error"],
    [404, "bad_request"],
    [408, "timeout"],
    [409, "server_error"],
    [422, "bad_request"],
    [429, "rate_limited"],
    [500, "server_error"],
    [502, "server_error"],
    [503, "server_error"],
  ];
  for (const [status, kind] of table) {
    const err = fromHttp(status, { error: { message: "why" } }, { "x-request-id": "req-1" });
    assert.ok(err instanceof LlmError && err instanceof ProviderError, String(status));
    assert.equal(err.kind, kind, String(status));
    assert.equal(err.status, status);
    assert.equal(err.requestId, "req-1");
    assert.equal(err.message, `HTTP ${status}: why`);
  }
});

test("fromHttp keeps headers lower-cased and reads several body shapes", () => {
  const h = new Headers({ "Retry-After": "2" });
  const err = fromHttp(429, "plain text body", h);
  assert.equal(err.headers["retry-after"], "2");
  assert.equal(err.message, "HTTP 429: plain text body");
  assert.equal(fromHttp(500, { message: "top level" }, {}).message, "HTTP 500: top level");
  assert.equal(fromHttp(500, undefined, undefined).message, "HTTP 500");
  assert.equal(fromHttp(500, "x".repeat(400), {}).message.length, "HTTP 500: ".length + 301);
});

test("secrets are redacted from error text", () => {
  const key = "sk-test-SECRET-123";
  const err = fromHttp(401, { error: { message: `Incorrect API key provided: ${key}.` } }, {}, [key]);
  assert.ok(!err.message.includes(key));
  assert.match(err.message, /\[redacted\]/);
  assert.equal(redact("a k a k", ["k"]), "a [redacted] a [redacted]");
  assert.equal(redact("abc", [""]), "abc");
  assert.deepEqual(toHeaderMap({ A: "1", b: undefined }), { a: "1" });
});
