import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BadRequest,
  type CallOptions,
  type ChatMessage,
  type ChatProvider,
  type ChatResult,
  type EngineOutcome,
  RateLimited,
  RequestEngine,
  ResponseCache,
  ServerError,
  sleep,
} from "../../src/llm/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

type Step = ChatResult | Error | "hang" | { slowMs: number };

/** A scripted provider on the fake clock; `script(prompt, attempt)` decides each call. */
class ScriptedProvider implements ChatProvider {
  readonly kind = "fake";
  calls: { prompt: string; at: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly attempts = new Map<string, number>();
  constructor(
    private readonly clock: FakeClock,
    private readonly script: (prompt: string, attempt: number) => Step,
    readonly model = "m",
  ) {}
  async chat(messages: readonly ChatMessage[], options: CallOptions): Promise<ChatResult> {
    const prompt = messages[messages.length - 1]!.content;
    const attempt = (this.attempts.get(prompt) ?? 0) + 1;
    this.attempts.set(prompt, attempt);
    this.calls.push({ prompt, at: this.clock.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const step = this.script(prompt, attempt);
      if (step === "hang") {
        await new Promise((_, reject) =>
          options.signal?.addEventListener("abort", () => reject(options.signal!.reason)),
        );
      }
      if (step instanceof Error) throw step;
      if (typeof step === "object" && "slowMs" in step) {
        await sleep(this.clock, step.slowMs, options.signal);
        return ok(`slow ${prompt}`);
      }
      return step as ChatResult;
    } finally {
      this.inFlight--;
    }
  }
}

const ok = (text: string): ChatResult => ({ text, usage: { prompt_tokens: 3, completion_tokens: 2 }, finish: "stop" });
const req = (i: number | string) => ({ id: i, messages: [{ role: "user" as const, content: `p${i}` }] });

async function collect(engine: RequestEngine, n: number) {
  const out: EngineOutcome[] = [];
  const summary = await engine.run(
    Array.from({ length: n }, (_, i) => req(i)),
    (o) => out.push(o),
  );
  return { out, summary };
}

test("429 with Retry-After is retried after the server's delay, then succeeds", async () => {
  const clock = new FakeClock();
  const p = new ScriptedProvider(clock, (prompt, attempt) =>
    attempt <= 2 ? new RateLimited("HTTP 429", { status: 429, headers: { "retry-after": "7" } }) : ok(prompt),
  );
  const engine = new RequestEngine({ endpoints: [p], clock, random: () => 0.5, maxAttempts: 5 });
  const { out, summary } = await collect(engine, 1);
  assert.equal(out.length, 1);
  assert.ok(out[0]!.ok);
  assert.equal(out[0]!.ok && out[0]!.attempts, 3);
  assert.deepEqual(
    p.calls.map((c, i) => (i ? c.at - p.calls[i - 1]!.at : 0)),
    [0, 7000, 7000],
  );
  assert.equal(summary.report.retries, 2);
  assert.equal(summary.report.errors.rate_limited, 2);
  assert.equal(summary.report.requests, 3);
});

test("server errors back off exponentially and give up after maxAttempts with the cause", async () => {
  const clock = new FakeClock();
  const p = new ScriptedProvider(clock, () => new ServerError("HTTP 500: boom", { status: 500 }));
  const engine = new RequestEngine({ endpoints: [p], clock, random: () => 0, maxAttempts: 4 });
  const { out, summary } = await collect(engine, 1);
  const o = out[0]!;
  assert.equal(o.ok, false);
  if (!o.ok) {
    assert.equal(o.error.cause, "server_error");
    assert.equal(o.error.attempts, 4);
    assert.equal(o.error.status, 500);
    assert.match(o.error.message, /boom/);
  }
  assert.deepEqual(
    p.calls.map((c, i) => (i ? c.at - p.calls[i - 1]!.at : 0)),
    [0, 500, 1000, 2000],
  );
  assert.deepEqual(summary.report.failures, { server_error: 1 });
});

test("a bad request is not retried", async () => {
  const clock = new FakeClock();
  const p = new ScriptedProvider(clock, () => new BadRequest("HTTP 400: nope", { status: 400 }));
  const { out } = await collect(new RequestEngine({ endpoints: [p], clock }), 3);
  assert.equal(p.calls.length, 3);
  assert.ok(out.every((o) => !o.ok && o.error.cause === "bad_request" && o.error.attempts === 1));
});

test("a hanging call times out per attempt and is recorded as a timeout", async () => {
  const clock = new FakeClock();
  const p = new ScriptedProvider(clock, (prompt, attempt) => (attempt < 3 ? "hang" : ok(prompt)));
  const engine = new RequestEngine({ endpoints: [p], clock, random: () => 0, timeoutMs: 30_000, maxAttempts: 3 });
  const started = clock.now();
  const { out, summary } = await collect(engine, 1);
  assert.ok(out[0]!.ok);
  assert.equal(summary.report.errors.timeout, 2);
  // two timeouts of 30 s plus backoff 0.5 s and 1 s
  assert.equal(clock.now() - started, 30_000 + 500 + 30_000 + 1000);

  const clock2 = new FakeClock();
  const p2 = new ScriptedProvider(clock2, () => "hang");
  const { out: out2 } = await collect(
    new RequestEngine({ endpoints: [p2], clock: clock2, timeoutMs: 1000, maxAttempts: 2 }),
    2,
  );
  assert.ok(out2.every((o) => !o.ok && o.error.cause === "timeout" && o.error.attempts === 2));
});

test("concurrency is bounded per endpoint and work spreads over endpoints", async () => {
  const clock = new FakeClock();
  const a = new ScriptedProvider(clock, () => ({ slowMs: 100 }));
  const b = new ScriptedProvider(clock, () => ({ slowMs: 100 }));
  const engine = new RequestEngine({
    endpoints: [
      { provider: a, concurrency: 2 },
      { provider: b, concurrency: 3 },
    ],
    clock,
  });
  const { out } = await collect(engine, 50);
  assert.equal(out.length, 50);
  assert.ok(out.every((o) => o.ok));
  assert.equal(a.maxInFlight, 2);
  assert.equal(b.maxInFlight, 3);
  assert.equal(a.calls.length + b.calls.length, 50);
  assert.equal(a.calls.length, 20);
  assert.equal(b.calls.length, 30);
});

test("endpoints must serve the same model; bad options are rejected by name", () => {
  const clock = new FakeClock();
  const a = new ScriptedProvider(clock, () => ok("x"), "m1");
  const b = new ScriptedProvider(clock, () => ok("x"), "m2");
  assert.throws(() => new RequestEngine({ endpoints: [a, b] }), /same model; expected fake:m1, got fake:m2/);
  assert.throws(() => new RequestEngine({ endpoints: [a], maxAttempts: 0 }), /maxAttempts must be a positive integer/);
  assert.throws(() => new RequestEngine({ endpoints: [] }), /at least one endpoint/);
});

test("the cache serves a rerun with zero calls; identical requests share one call", async () => {
  const clock = new FakeClock();
  const p = new ScriptedProvider(clock, (prompt) => ok(`r ${prompt}`));
  const cache = ResponseCache.open(":memory:");
  const engine = new RequestEngine({ endpoints: [p], clock, cache });
  const twice = [req(1), req(2), { id: "dup", messages: req(1).messages }];
  const first: EngineOutcome[] = [];
  await engine.run(twice, (o) => first.push(o));
  assert.equal(p.calls.length, 2);
  assert.equal(first.length, 3);
  const dup = first.find((o) => o.id === "dup")!;
  assert.ok(dup.ok && dup.result.text === "r p1");
  const again: EngineOutcome[] = [];
  const summary = await engine.run(twice, (o) => again.push(o));
  assert.equal(p.calls.length, 2);
  assert.equal(summary.report.cached, 3);
  assert.equal(summary.report.requests, 0);
  assert.ok(again.every((o) => o.ok && o.cached));
  cache.close();
});

test("recorded failures are final on a rerun unless reuseFailures is off", async () => {
  const clock = new FakeClock();
  let fail = true;
  const p = new ScriptedProvider(clock, (prompt) => (fail ? new BadRequest("HTTP 400: no") : ok(prompt)));
  const cache = ResponseCache.open(":memory:");
  await collect(new RequestEngine({ endpoints: [p], clock, cache }), 2);
  assert.equal(p.calls.length, 2);
  const { out } = await collect(new RequestEngine({ endpoints: [p], clock, cache }), 2);
  assert.equal(p.calls.length, 2);
  assert.ok(out.every((o) => !o.ok && o.cached));
  fail = false;
  const { out: retried } = await collect(new RequestEngine({ endpoints: [p], clock, cache, reuseFailures: false }), 2);
  assert.equal(p.calls.length, 4);
  assert.ok(retried.every((o) => o.ok));
  assert.equal(cache.getFailure(new RequestEngine({ endpoints: [p] }).keyOf(req(0))), undefined);
  cache.close();
});

test("stop() abandons work in flight: nothing recorded for it, the summary says stopped", async () => {
  const clock = new FakeClock();
  const p = new ScriptedProvider(clock, (prompt) => (prompt === "p0" ? ok(prompt) : "hang"));
  // batchSize 1: each put commits at once, so the virtual clock does not run on while a batch waits
  const cache = ResponseCache.open(":memory:", { batchSize: 1 });
  const engine = new RequestEngine({ endpoints: [p], clock, cache, concurrency: 4, timeoutMs: 3_600_000 });
  const out: EngineOutcome[] = [];
  const running = engine.run(
    Array.from({ length: 10 }, (_, i) => req(i)),
    (o) => {
      out.push(o);
      engine.stop();
    },
  );
  const summary = await running;
  assert.equal(summary.stopped, true);
  assert.deepEqual(
    out.map((o) => o.id),
    [0],
  );
  assert.ok(p.calls.length <= 5, `at most 4 in flight plus the first, got ${p.calls.length}`);
  assert.equal(cache.size(), 1);
  cache.close();
});
