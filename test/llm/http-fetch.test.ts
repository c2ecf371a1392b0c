import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createHttpFetch } from "../../src/llm/index.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";

let server: TestServer;
before(async () => {
  server = await startOpenAIServer();
});
after(() => server.close());

const fetch = createHttpFetch({ maxSockets: 4 });
const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hey" }] });
const post = (init: RequestInit = {}) =>
  fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-test": "1" },
    body,
    ...init,
  });

test("POST a body and read status, headers and JSON", async () => {
  server.script = {};
  const r = await post();
  assert.equal(r.status, 200);
  assert.equal(r.ok, true);
  assert.equal(r.headers.get("Content-Type"), "application/json");
  const json = (await r.json()) as { choices: { message: { content: string } }[] };
  assert.equal(json.choices[0]!.message.content, "echo: hey");
  const bytes = await fetch(`${server.url}/chat/completions`, { method: "POST", body: new TextEncoder().encode(body) });
  assert.equal(bytes.status, 200);
});

test("error statuses come back as replies, not rejections", async () => {
  server.script = { fault: () => ({ kind: "rate_limit", retryAfter: "3" }) };
  const r = await post();
  assert.equal(r.status, 429);
  assert.equal(r.ok, false);
  assert.equal(r.headers.get("retry-after"), "3");
  const seen: string[] = [];
  r.headers.forEach((_v, k) => {
    seen.push(k);
  });
  assert.ok(seen.includes("retry-after"));
  assert.match(await r.text(), /rate limited/);
});

test("a body cut mid-stream rejects; an abort rejects with an AbortError", async () => {
  server.script = { fault: () => ({ kind: "cut" }) };
  await assert.rejects(post(), /aborted|closed|socket hang up|ECONNRESET/);
  server.script = { fault: () => ({ kind: "hang" }) };
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(post({ signal: ac.signal }), (e: Error) => e.name === "AbortError");
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(post({ signal: pre.signal }), (e: Error) => e.name === "AbortError");
  await assert.rejects(fetch("ftp://127.0.0.1/x"), /unsupported protocol/);
});
