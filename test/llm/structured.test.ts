import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import {
  type CallOptions,
  type ChatMessage,
  type ChatProvider,
  type ChatResult,
  type EngineOutcome,
  InvalidReply,
  jsonReply,
  jsonSchemaOf,
  RequestEngine,
  runStructured,
} from "../../src/llm/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const Verdict = z.object({ score: z.number().int().min(0).max(10), reason: z.string() });

class Replies implements ChatProvider {
  readonly kind = "fake";
  readonly model = "judge";
  seen: CallOptions[] = [];
  constructor(private readonly texts: string[]) {}
  async chat(_m: readonly ChatMessage[], options: CallOptions): Promise<ChatResult> {
    this.seen.push(options);
    const text = this.texts.shift() ?? "";
    return { text, usage: { prompt_tokens: 1, completion_tokens: 1 }, finish: "stop" };
  }
}

test("jsonReply parses, strips a code fence, and names the first schema problem", () => {
  const parse = jsonReply(Verdict);
  assert.deepEqual(parse('{"score": 10, "reason": "all met"}'), { score: 10, reason: "all met" });
  assert.deepEqual(parse('```json\n{"score": 3, "reason": "x"}\n```'), { score: 3, reason: "x" });
  assert.throws(
    () => parse("score: 10"),
    (e: Error) => e instanceof InvalidReply && /not JSON/.test(e.message),
  );
  assert.throws(
    () => parse('{"score": 11, "reason": "x"}'),
    (e: Error) => e instanceof InvalidReply && /at score: /.test(e.message),
  );
});

test("an invalid structured reply is retried; the parsed value comes back; the schema reaches the provider", async () => {
  const p = new Replies(["not json", '{"score": 12, "reason": "too high"}', '{"score": 7, "reason": "ok"}']);
  const engine = new RequestEngine({ endpoints: [p], clock: new FakeClock(), maxAttempts: 3 });
  const out: EngineOutcome<z.infer<typeof Verdict>>[] = [];
  const summary = await runStructured(
    engine,
    [{ id: "q", messages: [{ role: "user", content: "judge" }] }],
    Verdict,
    (o) => out.push(o),
  );
  const o = out[0]!;
  assert.ok(o.ok);
  if (o.ok) {
    assert.deepEqual(o.value, { score: 7, reason: "ok" });
    assert.equal(o.attempts, 3);
  }
  assert.equal(summary.report.errors.invalid_reply, 2);
  assert.deepEqual(p.seen[0]!.json_schema, jsonSchemaOf(Verdict));
});

test("a reply that never validates is recorded as an invalid_reply failure, never as a value", async () => {
  const p = new Replies(["{}", "{}"]);
  const engine = new RequestEngine({ endpoints: [p], clock: new FakeClock(), maxAttempts: 2 });
  const out: EngineOutcome<unknown>[] = [];
  await runStructured(engine, [{ id: 1, messages: [{ role: "user", content: "judge" }] }], Verdict, (o) => out.push(o));
  const o = out[0]!;
  assert.ok(!o.ok && o.error.cause === "invalid_reply" && o.error.attempts === 2);
});
