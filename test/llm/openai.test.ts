import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type LlmError, OpenAIProvider, parseBaseUrl, redactUrl } from "../../src/llm/index.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";

let server: TestServer;
before(async () => {
  server = await startOpenAIServer();
});
after(() => server.close());

const user = (content: string) => [{ role: "user" as const, content }];

async function failure(provider: OpenAIProvider, prompt: string, signal?: AbortSignal): Promise<LlmError> {
  try {
    await provider.chat(user(prompt), signal ? { signal } : {});
  } catch (err) {
    return err as LlmError;
  }
  assert.fail(`expected ${prompt} to fail`);
}

test("a plain reply: text, usage, finish; sampling options reach the server", async () => {
  server.script = {};
  server.reset();
  const p = new OpenAIProvider({ baseURL: server.url, model: "tiny" });
  const r = await p.chat([{ role: "system", content: "be brief" }, ...user("two words")], {
    temperature: 0.3,
    max_tokens: 7,
    seed: 1,
  });
  assert.deepEqual(r, { text: "echo: two words", usage: { prompt_tokens: 4, completion_tokens: 3 }, finish: "stop" });
  assert.equal(server.count, 1);
  const body = server.requests[0]!.body;
  assert.equal(body.model, "tiny");
  assert.equal(body.temperature, 0.3);
  assert.equal(body.max_tokens, 7);
  assert.equal(body.messages.length, 2);
});

test("each scripted fault maps to its error family", async () => {
  server.script = {
    fault: (r) => {
      switch (r.prompt) {
        case "429":
          return { kind: "rate_limit", retryAfter: "2" };
        case "500":
          return { kind: "status", status: 500 };
        case "400":
          return { kind: "status", status: 400, body: { error: { message: "bad field" } } };
        case "malformed":
          return { kind: "malformed" };
        case "cut":
          return { kind: "cut" };
        case "hang":
          return { kind: "hang" };
        case "length":
          return { kind: "ok", text: "trunc", finish: "length" };
        default:
          return undefined;
      }
    },
  };
  const p = new OpenAIProvider({ baseURL: server.url, model: "tiny" });
  const rl = await failure(p, "429");
  assert.equal(rl.kind, "rate_limited");
  assert.equal(rl.status, 429);
  assert.equal(rl.headers["retry-after"], "2");
  assert.equal((await failure(p, "500")).kind, "server_error");
  const bad = await failure(p, "400");
  assert.equal(bad.kind, "bad_request");
  assert.equal(bad.message, "HTTP 400: bad field");
  assert.equal((await failure(p, "malformed")).kind, "server_error");
  assert.equal((await failure(p, "cut")).kind, "connection_error");
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 50);
  assert.equal((await failure(p, "hang", abort.signal)).kind, "aborted");
  assert.equal((await p.chat(user("length"), {})).finish, "length");

  const closed = new OpenAIProvider({ baseURL: "http://127.0.0.1:9/v1", model: "tiny" });
  assert.equal((await failure(closed, "x")).kind, "connection_error");
});

test("a 200 that is not a chat completion is a server error", async () => {
  server.script = { fault: () => ({ kind: "status", status: 200, body: { hello: "world" } }) };
  const p = new OpenAIProvider({ baseURL: server.url, model: "tiny" });
  const err = await failure(p, "x");
  assert.equal(err.kind, "server_error");
  assert.match(err.message, /malformed reply: chat completion field choices: .*; got nothing/);

  // An empty choices array says what is wrong with it (it read "got object").
  server.script = { fault: () => ({ kind: "status", status: 200, body: { choices: [], usage: null } }) };
  const empty = await failure(p, "y");
  assert.equal(empty.kind, "server_error");
  assert.match(empty.message, /field choices: .*>=1 items; got 0 item\(s\)/);
});

test("the API key comes from the named variable, is sent as a bearer token and never shows in errors", async () => {
  const key = "sk-iopo-test-9f8e7d6c5b4a";
  server.script = { apiKey: key };
  server.reset();
  const env = { MY_KEY: key };
  const p = new OpenAIProvider({ baseURL: server.url, model: "tiny", apiKeyEnv: "MY_KEY", env });
  assert.equal((await p.chat(user("hi"), {})).text, "echo: hi");
  assert.equal(server.requests[0]!.authorization, `Bearer ${key}`);

  server.script = { apiKey: "another", fault: () => undefined };
  const denied = await failure(p, "hi");
  assert.equal(denied.kind, "auth_error");
  assert.ok(!denied.message.includes(key) && !String(denied.stack).includes(key));

  server.script = { fault: () => ({ kind: "status", status: 401, body: { error: { message: `bad key ${key}` } } }) };
  const echoed = await failure(p, "hi");
  assert.ok(!echoed.message.includes(key), echoed.message);
  assert.match(echoed.message, /\[redacted\]/);

  assert.throws(
    () => new OpenAIProvider({ baseURL: server.url, model: "tiny", apiKeyEnv: "NOT_SET_ANYWHERE", env: {} }),
    /environment variable NOT_SET_ANYWHERE is not set/,
  );
  assert.throws(() => new OpenAIProvider({ baseURL: "not a url", model: "tiny" }), /--base-url: not a URL/);
  assert.throws(
    () => new OpenAIProvider({ baseURL: "ftp://x/v1", model: "tiny" }),
    /--base-url: unsupported URL scheme ftp:/,
  );
});

test("credentials in the base URL: stripped from the URL, sent as Basic auth, redacted from errors", async () => {
  const p = new OpenAIProvider({ baseURL: server.url.replace("http://", "http://ann:s3cret-pw@"), model: "tiny" });
  assert.equal(p.baseURL, server.url);
  server.script = {
    fault: (r) => ({
      kind: "status",
      status: 400,
      body: { error: { message: `bad: ${r.authorization} ann:s3cret-pw` } },
    }),
  };
  server.reset();
  const err = await p.chat(user("x"), {}).catch((e: Error) => e);
  assert.equal(server.requests[0]!.authorization, `Basic ${Buffer.from("ann:s3cret-pw").toString("base64")}`);
  assert.ok(err instanceof Error && !err.message.includes("s3cret-pw"), String(err));
  assert.ok(!err.message.includes(Buffer.from("ann:s3cret-pw").toString("base64")), err.message);
  assert.match(err.message, /\[redacted\]/);
  assert.equal(redactUrl("http://ann:s3cret-pw@h:1/v1"), "http://***@h:1/v1");
  assert.equal(redactUrl("http://h:1/v1"), "http://h:1/v1");
  assert.deepEqual(parseBaseUrl("https://h/v1/").url, "https://h/v1/");
});

test("structured output sends a json_schema response_format", async () => {
  server.script = { reply: () => '{"ok":true}' };
  server.reset();
  const p = new OpenAIProvider({ baseURL: server.url, model: "tiny" });
  const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
  assert.equal((await p.chat(user("json"), { json_schema: schema })).text, '{"ok":true}');
  assert.deepEqual(server.requests[0]!.body.response_format, {
    type: "json_schema",
    json_schema: { name: "reply", schema, strict: true },
  });
});
