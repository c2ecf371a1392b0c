// The LLM path's quality stages, strict groups, rationality check, worse answers and a user taxonomy against the
// scripted OpenAI-compatible server; and kill -9 then resume through the CLI, equal to an uninterrupted run.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { constructGroups, constructTrace, LlmRoles } from "../../src/construct/index.ts";
import { OpenAIProvider, RequestEngine } from "../../src/llm/index.ts";
import { IopoGroupSchema, Taxonomy } from "../../src/schema/index.ts";
import { runCli } from "../helpers/cli.ts";
import { type SeenRequest, startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";
import { ROOT } from "../helpers/paths.ts";

let server: TestServer;
const tmp = () => mkdtempSync(join(tmpdir(), "iopo-llm-qc-"));
const lines = (dir: string, f: string) =>
  readFileSync(join(dir, f), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

const TOPICS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"];
const topicOf = (p: string) => TOPICS.find((t) => p.includes(`Describe ${t}`)) ?? "alpha";
const words = (s: string) => s.trim().split(/\s+/).length;

/** The scripted judge: word limits, "honey", and cheerful = an exclamation mark. */
function meets(constraint: string, response: string): boolean {
  const most = constraint.match(/at most (\d+) words/);
  if (most) return words(response) <= Number(most[1]);
  const least = constraint.match(/at least (\d+) words/);
  if (least) return words(response) >= Number(least[1]);
  if (/honey/.test(constraint)) return response.includes("honey");
  if (/cheerful/.test(constraint)) return response.includes("!");
  return true;
}

const C = (text: string, extra: object = {}) => ({ text, ...extra });
const AT_MOST_6 = C("1. Use at most 6 words.", {
  type: "Numerical",
  check: { kind: "word_count", params: { relation: "at_most", n: 6 } },
});
const CHEER = (n: number, more = "") => C(`${n}. Sound cheerful${more}.`, { type: "Emotion" });

function structure(t: string): unknown {
  if (t === "eta") return { rejected: "the task is unclear" };
  const base = { description: `Describe ${t}.`, input: null };
  if (t === "theta")
    return {
      ...base,
      constraints: [
        C("1. Write in lowercase.", { type: "Text Pattern", check: { kind: "lowercase", params: {} } }),
        C("2. Write in capitals.", { type: "Text Pattern", check: { kind: "uppercase", params: {} } }),
      ],
    };
  if (t === "iota") return { ...base, constraints: [AT_MOST_6, CHEER(2), CHEER(3)] };
  return { ...base, constraints: [AT_MOST_6, CHEER(2)] };
}

function qc(aspect: string, t: string, p: string): string {
  const repaired = p.includes("warm");
  const bad = (problem: string) => JSON.stringify({ ok: false, problems: [problem] });
  if (aspect === "completeness" && t === "beta" && !repaired) return bad("constraint 2 is cut off");
  if (aspect === "completeness" && t === "gamma") return bad("the task is missing its subject");
  if (aspect === "redundancy" && t === "delta") return bad("constraint 2 says what constraint 1 says");
  if (aspect === "contradiction" && t === "epsilon" && !repaired) return bad("constraints 1 and 2 contradict");
  if (aspect === "contradiction" && t === "zeta") return "{oops";
  return JSON.stringify({ ok: true, problems: [] });
}

function reply(req: SeenRequest): string {
  const p = req.prompt;
  const t = topicOf(p);
  if (p.includes("Add exactly")) return `Describe ${t}.\n1. Use at most 6 words.\n2. Sound cheerful.\n`;
  if (p.startsWith("Split this instruction")) return JSON.stringify(structure(t));
  const aspect = p.match(/^Quality check \((\w+)\)/)?.[1];
  if (aspect) return qc(aspect, t, p);
  if (p.startsWith("Repair a complex instruction")) {
    if (t === "gamma") return JSON.stringify({ rejected: "cannot tell what is meant" });
    const first = t === "theta" ? C("1. Write in lowercase.", { check: { kind: "lowercase", params: {} } }) : AT_MOST_6;
    return JSON.stringify({ description: `Describe ${t}.`, constraints: [first, CHEER(2, " and warm")], input: null });
  }
  if (p.startsWith("You are a strict grader")) {
    const resp = p.split("Response:\n")[1]!.split("\nConstraints to score:")[0]!;
    const listed = [...p.split("Constraints to score:")[1]!.matchAll(/^(\d+)\. (.*)$/gm)];
    return JSON.stringify({
      scores: listed.map((m) => ({ index: Number(m[1]), score: meets(m[2]!, resp) ? 10 : 2 })),
    });
  }
  if (p.startsWith("Rewrite the constraints")) {
    const add = p.includes("Operation: ADD");
    return JSON.stringify({
      constraints: add
        ? ["Use at most 6 words.", "Sound cheerful.", "Mention honey."]
        : ["Use at least 8 words.", "Sound cheerful."],
      changed_x1: add ? [] : [0],
      changed_x2: add ? [2] : [0],
    });
  }
  if (p.startsWith("Check a training group")) {
    const better = t !== "beta";
    return JSON.stringify({ x1_y1: true, x1_y2: false, x2_y1: false, x2_y2: true, y2_better_for_x2: better });
  }
  if (p.startsWith("Below are an instruction")) return `${t} exist.`;
  if (p.includes("Mention honey")) return `${t} love honey!`;
  if (p.includes("at least 8 words")) return `${t} are busy and useful little creatures indeed!`;
  return t === "theta" ? "theta is lovely!" : `${t} are lovely!`;
}

before(async () => {
  server = await startOpenAIServer({ reply });
});
after(async () => {
  await server.close();
});

function roles(taxonomy?: Taxonomy) {
  const provider = new OpenAIProvider({ baseURL: server.url, model: "scripted" });
  const engine = new RequestEngine({ endpoints: [provider], maxAttempts: 2, random: () => 0 });
  return new LlmRoles({ requester: engine, model: "scripted", taxonomy });
}

test("quality stages: each drops or repairs its scripted bad instruction with its own reason", async () => {
  const dir = tmp();
  const seeds = TOPICS.map((t) => ({ id: t, text: `Describe ${t}.`, input: null }));
  server.reset();
  const f = await constructTrace({ dir, roles: roles(), seed: 0, n: seeds.length, seeds, concurrency: 3 });
  const st = f.stages;
  assert.deepEqual(st.structure!.dropped, { poor_instruction: 1 });
  assert.deepEqual([st.completeness!.fixed, st.completeness!.dropped], [1, { incomplete: 1 }]);
  assert.deepEqual([st.redundancy!.fixed, st.redundancy!.dropped], [1, { redundant: 1 }]);
  assert.deepEqual([st.contradiction!.fixed, st.contradiction!.dropped], [2, { qc_invalid_reply: 1 }]);
  const rejects = new Map(lines(dir, "rejects.jsonl").map((r) => [r.source_ids[0], r]));
  const why = (t: string) => [rejects.get(t)?.stage, rejects.get(t)?.code];
  assert.deepEqual(why("eta"), ["structure", "poor_instruction"]);
  assert.deepEqual(why("gamma"), ["completeness", "incomplete"]);
  assert.match(rejects.get("gamma").reason, /missing its subject; not repaired: the repairer declined/);
  assert.deepEqual(why("delta"), ["redundancy", "redundant"]);
  assert.match(rejects.get("delta").reason, /after repair: constraint 2 says/);
  assert.deepEqual(why("zeta"), ["contradiction", "qc_invalid_reply"]);
  assert.match(rejects.get("zeta").reason, /invalid_reply/);
  const kept = new Map(lines(dir, "instructions.jsonl").map((e) => [e.lineage.source_ids[0], e]));
  assert.deepEqual([...kept.keys()].sort(), ["alpha", "beta", "epsilon", "iota", "theta"]);
  assert.equal(kept.get("beta").instruction.constraints[1].text, "2. Sound cheerful and warm.");
  assert.deepEqual(
    kept.get("theta").instruction.constraints.map((c: { text: string }) => c.text),
    ["1. Write in lowercase.", "2. Sound cheerful and warm."],
  );
  assert.equal(kept.get("iota").instruction.constraints.length, 2);
  // The rules found theta's contradiction and iota's repeat: the model was neither asked to judge theta's
  // original nor to repair iota.
  const asked = server.requests.map((r) => r.prompt);
  assert.ok(!asked.some((p) => p.startsWith("Quality check (contradiction)") && p.includes("Write in capitals")));
  assert.ok(!asked.some((p) => p.startsWith("Repair") && p.includes("Describe iota")));

  // Strict groups: ADD candidates can never keep y2 ⊭ x1; the rationality check drops beta's.
  const g = await constructGroups({ dir, roles: roles(), seed: 0 });
  const groups = lines(dir, "groups.jsonl").map((l) => IopoGroupSchema.parse(l));
  for (const gr of groups) {
    assert.notEqual(gr.op, "add");
    assert.deepEqual(gr.relations, { y1_x1: true, y1_x2: false, y2_x2: true, y2_x1: false });
  }
  // theta's y2 ("theta are busy … indeed!") is lowercase and cheerful: it still follows x1, so every candidate
  // of theta is dropped in strict mode.
  assert.deepEqual(groups.map((gr) => gr.id).sort(), ["g-t000000", "g-t000004", "g-t000008"]);
  const theta = lines(dir, "groups_rejects.jsonl").filter((r) => r.id === "t000007");
  assert.deepEqual(new Set(theta.map((r) => r.code)), new Set(["y2_complies_x1"]));
  assert.deepEqual(theta.map((r) => r.reason.split(":")[0]).sort(), ["add", "delete", "revise"]);
  const rel = g.counts!.relations as Record<string, Record<string, number>>;
  if (rel.add) assert.deepEqual([rel.add.y2_not_x1, rel.add.kept], [undefined, undefined]);
  // Dropped for y2 ⊨ x1: every answered ADD candidate, and theta's others.
  const complies = lines(dir, "groups_rejects.jsonl").filter((r) => r.code === "y2_complies_x1");
  assert.equal(complies.length, g.stages.relations!.dropped.y2_complies_x1);
  assert.equal(complies.filter((r) => r.reason.startsWith("add: ")).length, rel.add?.responded ?? 0);
  assert.ok(complies.every((r) => r.reason.startsWith("add: ") || r.id === "t000007"));
  const gRejects = lines(dir, "groups_rejects.jsonl").filter((r) => r.code === "irrational_group");
  assert.ok(gRejects.length >= 1 && gRejects.every((r) => r.id === "t000001"));
  assert.match(gRejects[0].reason, /y2 does not follow x2 better than y1/);
  // DPO: the worse answer is asked for with the reference answer shown, and is not y2.
  const pairs = lines(dir, "dpo_pairs.jsonl");
  assert.equal(pairs.length, 5);
  for (const p of pairs) assert.equal(p.rejected, `${p.instruction.description.slice(9, -1)} exist.`);
  const worsen = server.requests.filter((r) => r.prompt.startsWith("Below are an instruction"));
  assert.ok(worsen.every((r) => /Reference answer:\n\w+ (are|is) lovely!/.test(r.prompt)));
  assert.equal(lines(dir, "sft_star.jsonl").length, 2 * groups.length);
});

test("a user taxonomy on the LLM path: the prompts list only its dimensions; other labels are unknown", async () => {
  const taxonomy = Taxonomy.from({
    categories: ["Mine"],
    dimensions: [
      { category: "Mine", name: "Length", zh: "数值约束", meaning: "how long" },
      { category: "Mine", name: "Cheer", zh: "", meaning: "how happy" },
    ],
  });
  const saved = server.script;
  server.script = {
    reply: (req) =>
      JSON.stringify({
        description: "Describe bees.",
        constraints: [
          { text: "1. Use at most 6 words.", type: "Length" },
          { text: "2. Sound cheerful.", type: "cheer" },
          { text: "3. Stay on bees.", type: "Theme" },
        ],
        input: null,
        echo: req.n,
      }),
  };
  try {
    server.reset();
    const r = await roles(taxonomy).structure("Describe bees.\n1. a\n2. b\n3. c\n", "x");
    assert.ok(r.ok);
    const prompt = server.requests[0]!.prompt;
    assert.match(prompt, /- Length: how long\n- Cheer: how happy\n/);
    assert.ok(!prompt.includes("Theme") && !prompt.includes("Inclusion"));
    const cs = r.value.constraints;
    assert.deepEqual(
      cs.map((c) => [c.type, c.label]),
      [
        ["Numerical", undefined],
        [undefined, "Cheer"],
        [undefined, "Theme"],
      ],
    );
    assert.deepEqual(
      cs.map((c) => taxonomy.classify(c)),
      ["Length", "Cheer", "unknown"],
    );
  } finally {
    server.script = saved;
  }
});

test("LLM path through the CLI: kill -9 mid-run, then resume, equals an uninterrupted run", async () => {
  const [full, cut] = [tmp(), tmp()];
  const seeds = join(full, "seeds.jsonl");
  writeFileSync(
    seeds,
    `${Array.from({ length: 300 }, (_, i) => JSON.stringify({ text: `Describe alpha ${i}.` })).join("\n")}\n`,
  );
  const saved = server.script;
  server.script = { reply, fault: () => ({ kind: "ok", delayMs: 1 }) };
  const args = (dir: string) => [
    "construct",
    "trace",
    "--run",
    join(dir, "run"),
    "--base-url",
    server.url,
    "--model",
    "scripted",
    "--seeds",
    seeds,
    "--json",
  ];
  try {
    const whole = await runCli(args(full));
    assert.equal(whole.code, 0, whole.stderr);
    const child = spawn(process.execPath, [join(ROOT, "bin/iopo.js"), ...args(cut)], { stdio: "ignore" });
    let killedEarly = false;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        try {
          const st = JSON.parse(readFileSync(join(cut, "run", "trace.state.json"), "utf8"));
          if (st.next >= 256) {
            clearInterval(timer);
            killedEarly = !st.done;
            child.kill("SIGKILL");
            resolve();
          }
        } catch {
          // not written yet
        }
      }, 10);
    });
    await new Promise((r) => child.on("close", r));
    assert.ok(killedEarly, "the run finished before it could be killed");
    const resumed = await runCli(args(cut));
    assert.equal(resumed.code, 0, resumed.stderr);
    for (const f of ["instructions.jsonl", "rejects.jsonl", "funnel.json"])
      assert.equal(readFileSync(join(cut, "run", f), "utf8"), readFileSync(join(full, "run", f), "utf8"), f);
    assert.equal(lines(join(cut, "run"), "instructions.jsonl").length, 300);
  } finally {
    server.script = saved;
  }
});
