// End-to-end through the real CLI in child processes: kill -9 and resume, SIGINT and resume, cache-only reruns,
// and the API key's value never appearing in any output, cache, stats file or log.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { main } from "../../src/cli/main.ts";
import { cacheKey, type GenerateOutput } from "../../src/llm/index.ts";
import { startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KEY = "sk-iopo-cli-5ec3e7-value";

let server: TestServer;
let dir: string;
const logs: string[] = [];
before(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), "iopo-gencli-"));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function cli(args: string[]): Run {
  const child = spawn(process.execPath, ["bin/iopo.js", "generate", ...args], {
    cwd: ROOT,
    env: { ...process.env, IOPO_TEST_KEY: KEY },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) =>
      child.on("close", (code, signal) => {
        logs.push(stdout, stderr);
        resolve({ code, signal, stdout, stderr });
      }),
  );
  return { child, exit };
}

function writeInput(path: string, n: number): string[] {
  const prompts = Array.from({ length: n }, (_, i) => `prompt ${i}`);
  writeFileSync(path, `${prompts.map((p, i) => JSON.stringify({ id: `id-${i}`, prompt: p })).join("\n")}\n`);
  return prompts;
}

const keyOf = (prompt: string) =>
  cacheKey({
    kind: "openai",
    model: "tiny",
    messages: [{ role: "user", content: prompt }],
    options: { temperature: 0 },
  });

function committedKeys(cachePath: string): Set<string> {
  if (!existsSync(cachePath)) return new Set();
  try {
    const db = new Database(cachePath, { readonly: true, fileMustExist: true });
    try {
      return new Set((db.prepare("SELECT key FROM responses").all() as { key: string }[]).map((r) => r.key));
    } finally {
      db.close();
    }
  } catch {
    return new Set(); // the child has not created the tables yet
  }
}

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function checkOutput(path: string, n: number): GenerateOutput[] {
  const out = readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as GenerateOutput);
  assert.deepEqual(
    out.map((o) => o.id),
    Array.from({ length: n }, (_, i) => `id-${i}`),
    "every id once, in input order",
  );
  return out;
}

const common = (name: string) => {
  const base = join(dir, name);
  return [
    "--in",
    `${base}.in.jsonl`,
    "--out",
    `${base}.out.jsonl`,
    "--base-url",
    server.url,
    "--model",
    "tiny",
    "--api-key-env",
    "IOPO_TEST_KEY",
    "--temperature",
    "0",
    "--progress-interval-ms",
    "200",
  ];
};

test("kill -9 mid-run, rerun: complete, no duplicates, finished ids not requested again; third run sends nothing", async () => {
  const n = 240;
  const prompts = writeInput(join(dir, "k.in.jsonl"), n);
  const cachePath = join(dir, "k.out.jsonl.cache.sqlite");
  const outPath = join(dir, "k.out.jsonl");
  server.script = { apiKey: KEY, fault: () => ({ kind: "slow", ms: 40 }) };
  server.reset();
  const first = cli([...common("k"), "--concurrency", "4"]);
  await waitFor(() => committedKeys(cachePath).size >= 30, "30 committed records");
  first.child.kill("SIGKILL");
  const killed = await first.exit;
  assert.equal(killed.signal, "SIGKILL");
  assert.equal(existsSync(outPath), false, "no partial output after kill -9");
  const done = committedKeys(cachePath);
  assert.ok(done.size >= 30 && done.size < n, `committed ${done.size}`);

  server.script = { apiKey: KEY };
  server.reset();
  const second = await cli([...common("k"), "--concurrency", "8"]).exit;
  assert.equal(second.code, 0, second.stderr);
  const again = server.requests.filter((r) => done.has(keyOf(r.prompt)));
  assert.equal(again.length, 0, `${again.length} finished records were requested again`);
  assert.equal(server.count, n - done.size);
  const out = checkOutput(outPath, n);
  assert.ok(out.every((o, i) => "text" in o && o.text === `echo: ${prompts[i]}`));

  server.reset();
  const third = await cli([...common("k"), "--json"]).exit;
  assert.equal(third.code, 0, third.stderr);
  assert.equal(server.count, 0, "a rerun of a finished job sends no request");
  assert.equal(JSON.parse(third.stdout).cached, n);
  const stats = JSON.parse(readFileSync(`${outPath}.stats.json`, "utf8"));
  assert.equal(stats.config.apiKeyEnv, "IOPO_TEST_KEY");
  assert.equal(stats.config.cache, cachePath);
  checkOutput(outPath, n);
});

test("SIGINT stops gracefully, says how to resume, and the rerun completes", async () => {
  const n = 30;
  writeInput(join(dir, "s.in.jsonl"), n);
  const cachePath = join(dir, "s.out.jsonl.cache.sqlite");
  const outPath = join(dir, "s.out.jsonl");
  server.script = { apiKey: KEY, fault: (r) => (Number(r.prompt.split(" ")[1]) >= 5 ? { kind: "hang" } : undefined) };
  server.reset();
  const first = cli([...common("s"), "--concurrency", "5", "--timeout-ms", "60000"]);
  await waitFor(() => committedKeys(cachePath).size >= 5, "5 committed records");
  await waitFor(() => server.count >= 10, "hanging requests in flight");
  first.child.kill("SIGINT");
  const stopped = await first.exit;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /SIGINT: stopping/);
  assert.match(stopped.stderr, /stopped with 5\/30 records done/);
  assert.match(stopped.stderr, /Resume with: iopo generate --in /);
  assert.equal(existsSync(outPath), false);

  server.script = { apiKey: KEY };
  server.reset();
  const second = await cli(common("s")).exit;
  assert.equal(second.code, 0, second.stderr);
  assert.equal(server.count, n - 5);
  checkOutput(outPath, n);
});

test("the API key's value appears in no output, cache, stats file or log, even when the server echoes it", async () => {
  const n = 4;
  writeInput(join(dir, "e.in.jsonl"), n);
  server.script = {
    fault: (r) =>
      r.prompt === "prompt 1"
        ? {
            kind: "status",
            status: 401,
            body: { error: { message: `Incorrect API key provided: ${r.authorization}` } },
          }
        : r.prompt === "prompt 2"
          ? { kind: "status", status: 400, body: `bad request with ${r.authorization}` }
          : undefined,
  };
  const run = await cli(common("e")).exit;
  assert.equal(run.code, 0, run.stderr);
  const out = checkOutput(join(dir, "e.out.jsonl"), n);
  const e1 = out[1]!;
  assert.ok("error" in e1 && e1.error.cause === "auth_error" && /\[redacted\]/.test(e1.error.message));
  assert.ok(
    server.requests.some((r) => r.authorization === `Bearer ${KEY}`),
    "the key was sent",
  );

  const leaks: string[] = [];
  for (const name of readdirSync(dir)) {
    if (readFileSync(join(dir, name)).includes(KEY)) leaks.push(name);
  }
  logs.forEach((text, i) => {
    if (text.includes(KEY)) leaks.push(`log ${i}`);
  });
  assert.ok(logs.length >= 6);
  assert.deepEqual(leaks, []);
});

test("usage errors exit 2 and name the problem (in-process)", async () => {
  const run = async (args: string[]) => {
    let stderr = "";
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      return { code: await main(["node", "iopo", "generate", ...args]), stderr };
    } finally {
      process.stderr.write = write;
    }
  };
  const none = await run(["--in", "x.jsonl", "--out", "y.jsonl"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give exactly one back end/);
  const noKey = await run([
    "--in",
    "x",
    "--out",
    "y",
    "--base-url",
    server.url,
    "--model",
    "m",
    "--api-key-env",
    "IOPO_UNSET_VAR",
  ]);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /environment variable IOPO_UNSET_VAR is not set/);
  const badNum = await run([
    "--in",
    "x",
    "--out",
    "y",
    "--base-url",
    server.url,
    "--model",
    "m",
    "--concurrency",
    "many",
  ]);
  assert.equal(badNum.code, 2);
  assert.match(badNum.stderr, /--concurrency must be a number/);
  const noModel = await run(["--in", "x", "--out", "y", "--base-url", server.url]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /--model is required/);
  const missing = await run([
    "--in",
    join(dir, "absent.jsonl"),
    "--out",
    join(dir, "absent.out"),
    "--base-url",
    server.url,
    "--model",
    "m",
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /absent\.jsonl: cannot read file/);
});

test("every record failed: exit 1 and outcome all_failed; some failed: exit 0, said; rerun names --retry-failed", async () => {
  const n = 3;
  writeInput(join(dir, "f.in.jsonl"), n);
  const args = [...common("f"), "--max-attempts", "1"];
  server.script = { apiKey: KEY, fault: () => ({ kind: "status", status: 400, body: "no" }) };
  const all = await cli(args).exit;
  assert.equal(all.code, 1, all.stderr);
  assert.match(all.stderr, /every record failed \(3 of 3\)/);
  const stats = JSON.parse(readFileSync(join(dir, "f.out.jsonl.stats.json"), "utf8"));
  assert.equal(stats.outcome, "all_failed");
  assert.equal(stats.failed, 3);
  assert.ok(checkOutput(join(dir, "f.out.jsonl"), n).every((o) => "error" in o));

  // The rerun replays the recorded failures without a request, and says so and how to retry them.
  server.script = { apiKey: KEY };
  server.reset();
  const replay = await cli(args).exit;
  assert.equal(replay.code, 1);
  assert.equal(server.count, 0);
  assert.match(replay.stderr, /3 failure\(s\) were replayed from the cache.*rerun with --retry-failed/);
  assert.equal(JSON.parse(readFileSync(join(dir, "f.out.jsonl.stats.json"), "utf8")).cached_failures, 3);

  // --retry-failed with one record still failing: exit 0, the count said, outcome some_failed.
  server.script = {
    apiKey: KEY,
    fault: (r) => (r.prompt === "prompt 1" ? { kind: "status", status: 400 } : undefined),
  };
  const some = await cli([...args, "--retry-failed"]).exit;
  assert.equal(some.code, 0, some.stderr);
  assert.match(some.stderr, /cleared 3 recorded failure\(s\)/);
  assert.match(some.stderr, /1 of 3 records failed: written as \{id, error\} lines/);
  assert.equal(JSON.parse(readFileSync(join(dir, "f.out.jsonl.stats.json"), "utf8")).outcome, "some_failed");
});

test("credentials in --base-url are sent as Basic auth and appear in no output, stats file, cache or log", async () => {
  writeInput(join(dir, "u.in.jsonl"), 2);
  const password = "pw-5ecret-9d1";
  const url = server.url.replace("http://", `http://alice:${password}@`);
  server.script = {};
  server.reset();
  const args = [
    "--in",
    join(dir, "u.in.jsonl"),
    "--out",
    join(dir, "u.out.jsonl"),
    "--base-url",
    url,
    "--model",
    "tiny",
  ];
  const run = await cli(args).exit;
  assert.equal(run.code, 0, run.stderr);
  assert.equal(server.requests[0]!.authorization, `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`);
  const stats = JSON.parse(readFileSync(join(dir, "u.out.jsonl.stats.json"), "utf8"));
  assert.match(stats.config.baseUrl[0], /^http:\/\/\*\*\*@127\.0\.0\.1/);
  const leaks = readdirSync(dir)
    .filter((name) => name.startsWith("u."))
    .filter((name) => readFileSync(join(dir, name)).includes(password));
  assert.deepEqual(leaks, []);
  assert.ok(!run.stderr.includes(password) && !run.stdout.includes(password), run.stderr);

  // A failing endpoint's errors and the resume line redact them too.
  const down = `http://alice:${password}@127.0.0.1:1/v1`;
  const failed = await cli([
    "--in",
    join(dir, "u.in.jsonl"),
    "--out",
    join(dir, "u2.out.jsonl"),
    "--base-url",
    down,
    "--model",
    "tiny",
    "--max-attempts",
    "1",
  ]).exit;
  assert.equal(failed.code, 1, failed.stderr);
  assert.ok(!failed.stderr.includes(password), failed.stderr);
  const out = readFileSync(join(dir, "u2.out.jsonl"), "utf8");
  assert.ok(!out.includes(password) && out.includes("connection_error"), out);
});
