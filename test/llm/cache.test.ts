import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cacheKey, canonicalJson, ResponseCache } from "../../src/llm/index.ts";

const base = {
  kind: "openai",
  model: "m",
  messages: [{ role: "user" as const, content: "hi" }],
  options: { temperature: 0, max_tokens: 5 },
};

test("canonical JSON sorts keys and drops undefined", () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: "x" }] }), '{"a":[1,{"c":"x"}],"b":1}');
  assert.equal(canonicalJson("s"), '"s"');
});

test("the cache key covers kind, model, messages and sampling options, nothing else", () => {
  const k = cacheKey(base);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(cacheKey({ ...base, options: { max_tokens: 5, temperature: 0 } }), k, "option order");
  assert.equal(cacheKey({ ...base, options: { ...base.options, seed: undefined } }), k, "undefined option");
  assert.notEqual(cacheKey({ ...base, kind: "gguf" }), k);
  assert.notEqual(cacheKey({ ...base, model: "m2" }), k);
  assert.notEqual(cacheKey({ ...base, options: { temperature: 0.1, max_tokens: 5 } }), k);
  assert.notEqual(cacheKey({ ...base, messages: [{ role: "system", content: "hi" }] }), k);
  assert.notEqual(cacheKey({ ...base, options: { ...base.options, json_schema: { type: "object" } } }), k);
});

test("results persist across reopen only once flushed; failures are kept separately", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-cache-"));
  try {
    const path = join(dir, "c.sqlite");
    const cache = ResponseCache.open(path, { flushMs: 5 });
    const result = {
      text: "t",
      usage: { prompt_tokens: 1, completion_tokens: 2 },
      finish: "stop" as const,
      attempts: 2,
    };
    const put = cache.put("k1", result);
    const other = ResponseCache.open(path);
    assert.equal(other.get("k1"), undefined, "not visible before commit");
    await put;
    assert.deepEqual(other.get("k1"), result, "visible to another connection once the put resolved");
    await cache.putFailure("k2", { cause: "timeout", message: "slow", attempts: 5 });
    assert.deepEqual(other.lookup("k2"), { failure: { cause: "timeout", message: "slow", attempts: 5 } });
    assert.equal(other.lookup("k3"), undefined);
    await cache.put("k2", result);
    assert.deepEqual(other.lookup("k2"), { result }, "a success replaces the failure");
    assert.equal(other.getFailure("k2"), undefined);
    await cache.putFailure("k4", { cause: "bad_request", message: "no", attempts: 1 });
    assert.equal(cache.clearFailures(), 1);
    assert.equal(cache.size(), 2);
    cache.close();
    other.close();
    const reopened = ResponseCache.open(path);
    assert.equal(reopened.size(), 2);
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a batch commits as soon as it is full", () => {
  const cache = ResponseCache.open(":memory:", { batchSize: 2, flushMs: 60_000 });
  const r = { text: "t", usage: { prompt_tokens: 1, completion_tokens: 1 }, finish: "stop" as const, attempts: 1 };
  void cache.put("a", r);
  assert.equal(cache.size(), 0);
  void cache.put("b", r);
  assert.equal(cache.size(), 2);
  cache.close();
});

test("an unusable cache path is a clear error", () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-cache-"));
  try {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    assert.throws(() => ResponseCache.open(join(file, "sub", "c.sqlite")), /cannot open the response cache/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
