import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  type GenerateOutput,
  loadGenerateInput,
  OpenAIProvider,
  RequestEngine,
  ResponseCache,
  runGenerateJob,
} from "../../src/llm/index.ts";
import { type Fault, type SeenRequest, startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";

let server: TestServer;
let dir: string;
before(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), "iopo-generate-"));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Fault plan by prompt number: transient faults heal after the listed attempts; permanent ones never do. */
function plan(r: SeenRequest): Fault | undefined {
  const i = Number(r.prompt.split(" ")[1]);
  if (i === 3 && r.attempt === 1) return { kind: "rate_limit", retryAfter: "1" };
  if (i % 10 === 1 && r.attempt === 1) return { kind: "rate_limit", retryAfterMs: "40" };
  if (i % 10 === 2 && r.attempt <= 2) return { kind: "status", status: 500 };
  if (i % 10 === 4 && r.attempt === 1) return { kind: "malformed" };
  if (i % 10 === 5 && r.attempt === 1) return { kind: "cut" };
  if (i % 10 === 6 && r.attempt === 1) return { kind: "hang" };
  if (i % 10 === 7) return { kind: "slow", ms: 30 };
  if (i === 8) return { kind: "status", status: 400, body: { error: { message: "prompt too long" } } };
  if (i === 18) return { kind: "status", status: 503 };
  if (i === 28) return { kind: "hang" };
  return undefined;
}

function writeInput(name: string, n: number): string {
  const path = join(dir, name);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify(
      i % 2 ? { id: `r${i}`, prompt: `prompt ${i}` } : { id: i, messages: [{ role: "user", content: `prompt ${i}` }] },
    ),
  );
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

function readOut(path: string): GenerateOutput[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as GenerateOutput);
}

test("a faulty server: every id once, in order; failures carry their cause; a rerun sends nothing", async () => {
  server.script = { fault: plan };
  server.reset();
  const n = 40;
  const inPath = writeInput("in.jsonl", n);
  const outPath = join(dir, "out.jsonl");
  const cachePath = join(dir, "cache.sqlite");
  const run = async () => {
    const cache = ResponseCache.open(cachePath);
    const engine = new RequestEngine({
      endpoints: [new OpenAIProvider({ baseURL: server.url, model: "tiny" })],
      concurrency: 6,
      timeoutMs: 800,
      maxAttempts: 3,
      cache,
      random: () => 0.99, // shortest backoff: 0.5 s·(1−0.25·0.99)
    });
    try {
      return await runGenerateJob({
        inPath,
        outPath,
        engine,
        cache,
        options: { temperature: 0 },
        statsPath: join(dir, "stats.json"),
      });
    } finally {
      cache.close();
    }
  };
  const first = await run();
  assert.equal(first.stopped, false);
  assert.equal(first.written, n);
  const out = readOut(outPath);
  assert.deepEqual(
    out.map((o) => o.id),
    Array.from({ length: n }, (_, i) => (i % 2 ? `r${i}` : i)),
  );
  const byId = new Map(out.map((o) => [String(o.id), o]));
  const failedCause = (id: string) => {
    const o = byId.get(id)!;
    return "error" in o ? o.error.cause : "ok";
  };
  assert.equal(failedCause("8"), "bad_request");
  assert.equal(failedCause("18"), "server_error");
  assert.equal(failedCause("28"), "timeout");
  const okCount = out.filter((o) => "text" in o).length;
  assert.equal(okCount, n - 3, JSON.stringify(out.filter((o) => "error" in o)));
  for (const o of out)
    if ("text" in o) assert.equal(o.text, `echo: prompt ${typeof o.id === "number" ? o.id : o.id.slice(1)}`);
  const r2 = byId.get("2")!;
  assert.ok("attempts" in r2 && r2.attempts === 3, "500 twice then ok");
  const e8 = byId.get("8")!;
  assert.ok(
    "error" in e8 && e8.error.attempts === 1 && e8.error.status === 400 && /prompt too long/.test(e8.error.message),
  );

  // Retry-After: 1 second for prompt 3, 40 ms for prompts 11, 21, 31.
  const times = (p: string) => server.requests.filter((r) => r.prompt === p).map((r) => r.at);
  const t3 = times("prompt 3");
  assert.ok(t3[1]! - t3[0]! >= 990, `prompt 3 retried after ${t3[1]! - t3[0]!} ms, Retry-After was 1 s`);
  for (const p of ["prompt 11", "prompt 21", "prompt 31"]) {
    const t = times(p);
    assert.ok(t[1]! - t[0]! >= 39, `${p} retried after ${t[1]! - t[0]!} ms`);
  }
  const stats = JSON.parse(readFileSync(join(dir, "stats.json"), "utf8"));
  assert.equal(stats.failed, 3);
  assert.equal(stats.failures.timeout, 1);
  assert.ok(stats.errors.rate_limited >= 4);
  assert.equal(stats.requests, server.count);

  server.reset();
  const second = await run();
  assert.equal(server.count, 0, "the rerun is served from the cache");
  assert.equal(second.report.cached, n);
  assert.deepEqual(readOut(outPath), out);
});

test("input errors name file and line", async () => {
  const bad = join(dir, "dup.jsonl");
  writeFileSync(bad, '{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 1, "prompt": "c"}\n');
  await assert.rejects(loadGenerateInput(bad), (err: Error) => {
    assert.match(
      err.message,
      /dup\.jsonl:3: duplicate id \(id "1"\); expected each id once, got the same id as line 1/,
    );
    return true;
  });
  const malformed = join(dir, "bad.jsonl");
  writeFileSync(malformed, '{"id": 1, "prompt": "a"}\n{"id": 2}\n');
  await assert.rejects(loadGenerateInput(malformed), /bad\.jsonl:2: /);
});

test("--system is prepended only where no system message exists", async () => {
  const path = join(dir, "sys.jsonl");
  writeFileSync(
    path,
    '{"id": "a", "prompt": "x"}\n{"id": "b", "messages": [{"role": "system", "content": "own"}, {"role": "user", "content": "y"}]}\n',
  );
  const reqs = await loadGenerateInput(path, "SYS", { temperature: 0 });
  assert.deepEqual(reqs[0]!.messages, [
    { role: "system", content: "SYS" },
    { role: "user", content: "x" },
  ]);
  assert.equal(reqs[1]!.messages[0]!.content, "own");
  assert.deepEqual(reqs[0]!.options, { temperature: 0 });
});
