import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { constructGroups, constructTrace, LlmRoles } from "../../src/construct/index.ts";
import { OpenAIProvider, RequestEngine } from "../../src/llm/index.ts";
import { ExampleSchema, IopoGroupSchema } from "../../src/schema/index.ts";
import { type SeenRequest, startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";

let server: TestServer;

/** Scripted model: the first expand reply is off-format (retried); judging "ants" is always malformed. */
function reply(req: SeenRequest): string {
  const p = req.prompt;
  if (p.includes("Add exactly")) {
    if (req.attempt === 1) return "Sure! Here is a better instruction.";
    const topic = p.includes("ants") ? "ants" : "bees";
    return `Describe ${topic}.\n1. Use at most 6 words.\n2. Sound cheerful.\n`;
  }
  if (p.startsWith("Split this instruction")) {
    const topic = p.includes("ants") ? "ants" : "bees";
    return JSON.stringify({
      description: `Describe ${topic}.`,
      constraints: [
        {
          text: "1. Use at most 6 words.",
          type: "Numerical",
          check: { kind: "word_count", params: { relation: "at_most", n: 6 } },
        },
        { text: "2. Sound cheerful.", type: "Emotion" },
      ],
      input: null,
    });
  }
  if (p.startsWith("You are a strict grader")) {
    if (p.includes("ants")) return "{not json";
    // Cheerful means an exclamation mark; constraint 2 of x1, or any listed one of x2.
    const resp = p.split("Response:\n")[1]!.split("\nConstraints to score:")[0]!;
    const indices = [...p.split("Constraints to score:")[1]!.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
    const strict = p.includes("Use no more than 2 words");
    const good = resp.includes("!") && (!strict || resp.trim().split(/\s+/).length <= 2);
    return JSON.stringify({ scores: indices.map((index) => ({ index, score: good ? 10 : 2 })) });
  }
  if (p.startsWith("Rewrite the constraints"))
    return JSON.stringify({
      constraints: ["Use no more than 2 words.", "Sound cheerful."],
      changed_x1: [0],
      changed_x2: [0],
    });
  if (p.startsWith("Quality check (")) return JSON.stringify({ ok: true, problems: [] });
  if (p.startsWith("Check a training group"))
    return JSON.stringify({ x1_y1: true, x1_y2: true, x2_y1: false, x2_y2: true, y2_better_for_x2: true });
  if (p.startsWith("Below are an instruction")) return "Bees exist.";
  if (p.includes("Use no more than 2 words")) return "Bees rock!";
  return p.includes("ants") ? "Ants are great!" : "Bees are so lovely!";
}

before(async () => {
  server = await startOpenAIServer({ reply });
});
after(async () => {
  await server.close();
});

function roles() {
  const provider = new OpenAIProvider({ baseURL: server.url, model: "scripted" });
  const engine = new RequestEngine({ endpoints: [provider], maxAttempts: 3, random: () => 0 });
  return new LlmRoles({ requester: engine, model: "scripted" });
}

test("LLM path: stages build the right records; bad replies are retried, then dropped with a reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "iopo-llm-"));
  const seeds = [
    { id: "s1", text: "Describe bees.", input: null },
    { id: "s2", text: "Describe ants.", input: null },
  ];
  const f = await constructTrace({ dir, roles: roles(), seed: 0, n: 2, seeds, concurrency: 2 });
  const lines = readFileSync(join(dir, "instructions.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 1);
  const ex = ExampleSchema.parse(JSON.parse(lines[0]!));
  assert.equal(ex.response, "Bees are so lovely!");
  assert.deepEqual(ex.scores, [10, 10]);
  assert.deepEqual(
    ex.instruction.constraints.map((c) => c.type),
    ["Numerical", "Emotion"],
  );
  assert.equal(ex.lineage?.origin, "llm:scripted");
  const rejects = readFileSync(join(dir, "rejects.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0].code, "judge_failed");
  assert.match(rejects[0].reason, /invalid_reply/);
  assert.deepEqual(f.stages.judge!.dropped, { judge_failed: 1 });
  // The off-format expand replies were retried (attempt 2 succeeded), never passed on.
  const expands = server.requests.filter((r) => r.prompt.includes("Add exactly"));
  assert.ok(expands.some((r) => r.attempt === 2));

  const g = await constructGroups({ dir, roles: roles(), seed: 0, mode: "loose" });
  assert.equal(g.records_out.groups, 1);
  const group = IopoGroupSchema.parse(JSON.parse(readFileSync(join(dir, "groups.jsonl"), "utf8")));
  assert.equal(group.y2, "Bees rock!");
  assert.deepEqual(group.changed, { x1: [0], x2: [0] });
  assert.equal(group.x2.constraints[0]!.text, "1. Use no more than 2 words.");
  // The unchanged constraint keeps its type; the revised one has none (the judge scores it).
  assert.deepEqual(
    group.x2.constraints.map((c) => c.type),
    [undefined, "Emotion"],
  );
});
