// Taxonomy induction against the scripted OpenAI-compatible server (merging, mapping, malformed replies) and in
// the offline world (byte-reproducible, through the CLI); a user taxonomy honoured end to end (trace → stats).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { constructTaxonomy, LlmTaxonomyRoles, normalizeName, readTaxonomy } from "../../src/construct/index.ts";
import { OpenAIProvider, RequestEngine } from "../../src/llm/index.ts";
import { InducedTaxonomySchema } from "../../src/schema/index.ts";
import { runCli } from "../helpers/cli.ts";
import { type SeenRequest, startOpenAIServer, type TestServer } from "../helpers/openai-server.ts";

let server: TestServer;
const tmp = () => mkdtempSync(join(tmpdir(), "iopo-taxonomy-"));
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

const P = (name: string, category = "Content") => ({ name, category, definition: `${name} rule`, example: `${name}!` });
const PROPOSALS: Record<string, unknown> = {
  bees: [P("Word Limit"), P("Inclusion constraint"), P("Humor", "Style")],
  ants: [P("word limits"), P("Keyword inclusion"), P("humour", "Style")],
  cats: [P("Length limit"), P("Humor", "Style")],
};
const FAMILIES = [["word limit", "length limit"], ["inclusion"], ["humor", "humour"]];
const family = (text: string) => FAMILIES.findIndex((f) => f.some((n) => text.toLowerCase().includes(n)));

function reply(req: SeenRequest): string {
  const p = req.prompt;
  if (p.startsWith("Constraint types for a simple instruction")) {
    const topic = Object.keys(PROPOSALS).find((t) => p.includes(t));
    return topic ? JSON.stringify({ types: PROPOSALS[topic] }) : "{not json";
  }
  if (p.startsWith("Are these two constraint types")) {
    const a = p.split("Type A: ")[1]!.split("\n")[0]!;
    const b = p.split("Type B: ")[1]!.split("\n")[0]!;
    return JSON.stringify({ same: family(a) === family(b) });
  }
  if (p.startsWith("Which of these constraint dimensions")) {
    const t = p.split("Constraint type: ")[1]!.split("\n")[0]!;
    const f = family(t);
    return JSON.stringify({ dimension: f === 0 ? "Numerical" : f === 1 ? "Inclusion" : null });
  }
  return "?";
}

before(async () => {
  server = await startOpenAIServer({ reply });
});
after(async () => {
  await server.close();
});

test("normal forms: case, punctuation, 'constraint', plurals and word order do not matter", () => {
  assert.equal(normalizeName("Word Limit"), normalizeName("word limits"));
  assert.equal(normalizeName("Inclusion constraint"), "inclusion");
  assert.equal(normalizeName("Numbering and List"), normalizeName("list numbering"));
  assert.equal(normalizeName("包含约束"), "包含");
  assert.notEqual(normalizeName("Humor"), normalizeName("humour"));
});

test("LLM induction: duplicates merged by name and by the merger, known types mapped, a new one proposed", async () => {
  const dir = tmp();
  const provider = new OpenAIProvider({ baseURL: server.url, model: "scripted" });
  const engine = new RequestEngine({ endpoints: [provider], maxAttempts: 2, random: () => 0 });
  const roles = new LlmTaxonomyRoles({ requester: engine, model: "scripted" });
  const seeds = ["bees", "ants", "cats", "dogs"].map((t, i) => ({ id: `s${i}`, text: `Describe ${t}.`, input: null }));
  server.reset();
  const r = await constructTaxonomy({ dir, roles, seeds, seedsPath: "inline", seed: 0, minCount: 2 });
  const t = InducedTaxonomySchema.parse(JSON.parse(read(dir, "taxonomy.json")));
  const byName = new Map(t.dimensions.map((d) => [d.name, d]));
  assert.deepEqual(
    t.dimensions.map((d) => [d.name, d.source, d.frequency]),
    [
      ["Inclusion", "builtin", 2],
      ["Numerical", "builtin", 3],
      ["Humor", "new", 3],
    ],
  );
  assert.deepEqual(new Set(byName.get("Numerical")!.aliases), new Set(["Word Limit", "word limits", "Length limit"]));
  assert.equal(byName.get("Numerical")!.rule_checker, true);
  assert.equal(byName.get("Humor")!.rule_checker, false);
  assert.equal(byName.get("Humor")!.category, "Style");
  assert.deepEqual(byName.get("Humor")!.examples, ["Describe bees.", "Describe ants.", "Describe cats."]);
  // "Word Limit" and "word limits" share a normal form: merged without asking; Inclusion mapped by its name.
  const merges = server.requests.filter((q) => q.prompt.startsWith("Are these two"));
  assert.ok(!merges.some((q) => /Type A: Word Limit[^\n]*\nType B: word limits/i.test(q.prompt)));
  const maps = server.requests.filter((q) => q.prompt.startsWith("Which of these"));
  assert.ok(!maps.some((q) => q.prompt.includes("Constraint type: Inclusion")));
  assert.ok(maps.some((q) => q.prompt.includes("Constraint type: Humor")));
  assert.equal(r.summary.proposals, 8);
  assert.equal(r.summary.normal_forms, 6);
  assert.equal(r.summary.clusters, 3);
  // The malformed proposal reply (retried, then given up) is a counted drop with its reason.
  assert.deepEqual(r.funnel.stages.propose!.dropped, { propose_failed: 1 });
  const rejects = read(dir, "taxonomy_rejects.jsonl")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(rejects.length, 1);
  assert.match(rejects[0].reason, /invalid_reply/);
  assert.match(read(dir, "taxonomy.md"), /\| Humor \|.*\| new \| 3 \| no \|/);
  // The induced file is a taxonomy `--taxonomy` accepts.
  const { taxonomy } = await readTaxonomy(join(dir, "taxonomy.json"));
  assert.equal(taxonomy.classify({ label: "humor" }), "Humor");
  assert.equal(taxonomy.classify({ type: "Theme" }), "unknown");
});

test("offline induction through the CLI is byte-reproducible and covers the world's dimensions", async () => {
  const [a, b] = [tmp(), tmp()];
  const seeds = join(a, "seeds.jsonl");
  const texts = ["Write a short blog post about solar energy.", "Give practical tips on coffee brewing."];
  writeFileSync(
    seeds,
    `${Array.from({ length: 120 }, (_, i) => JSON.stringify({ text: `${texts[i % 2]} (${i})` })).join("\n")}\n`,
  );
  for (const dir of [a, b]) {
    const r = await runCli(["construct", "taxonomy", "--run", join(dir, "run"), "--offline", "--seeds", seeds]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /built-in \+ \d+ new dimensions/);
  }
  for (const f of ["taxonomy.json", "taxonomy.md", "proposals.jsonl", "taxonomy_funnel.json"])
    assert.equal(read(join(a, "run"), f), read(join(b, "run"), f), f);
  const t = InducedTaxonomySchema.parse(JSON.parse(read(join(a, "run"), "taxonomy.json")));
  const builtin = t.dimensions.filter((d) => d.source === "builtin");
  assert.ok(builtin.length >= 10, builtin.map((d) => d.name).join(", "));
  assert.ok(builtin.filter((d) => d.rule_checker).length >= 8);
  assert.ok(t.dimensions.some((d) => d.source === "new" && d.name === "Reading level"));
  // Every name variant landed in one dimension only.
  const home = new Map<string, string>();
  for (const d of t.dimensions)
    for (const x of d.aliases) {
      const k = normalizeName(x);
      assert.equal(home.get(k) ?? d.name, d.name, x);
      home.set(k, d.name);
    }
});

test("a user taxonomy is honoured end to end: only its dimensions appear; a bad file names file and field", async () => {
  const dir = tmp();
  const file = join(dir, "tax.json");
  writeFileSync(
    file,
    JSON.stringify({
      categories: ["Words", "Shape"],
      dimensions: [
        { category: "Words", name: "Must say", zh: "包含约束", meaning: "words to include" },
        { category: "Shape", name: "Lists", zh: "编号和列表约束", meaning: "lists", extra: 1 },
        { category: "Shape", name: "Tone", zh: "", meaning: "no offline form" },
      ],
    }),
  );
  const run = join(dir, "run");
  const r = await runCli(["construct", "trace", "--run", run, "--offline", "--n", "60", "--taxonomy", file]);
  assert.equal(r.code, 0, r.stderr);
  const st = await runCli(["stats", join(run, "instructions.jsonl"), "--taxonomy", file, "--json"]);
  assert.equal(st.code, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  assert.deepEqual(Object.keys(s.by_dimension), ["Must say", "Lists", "Tone"]);
  assert.ok(s.by_dimension["Must say"] > 0 && s.by_dimension.Lists > 0);
  assert.equal(s.by_dimension["Must say"] + s.by_dimension.Lists, s.constraints);
  assert.deepEqual(s.by_category, { Words: s.by_dimension["Must say"], Shape: s.by_dimension.Lists });
  // A resume with another taxonomy is refused.
  writeFileSync(file, read(dir, "tax.json").replace("Must say", "Must use"));
  const again = await runCli(["construct", "trace", "--run", run, "--offline", "--n", "60", "--taxonomy", file]);
  assert.equal(again.code, 2);
  writeFileSync(file, '{"categories": ["A"],\n "dimensions": [\n {"category": "B", "name": "X"}]}');
  const bad = await runCli(["construct", "trace", "--run", join(dir, "r2"), "--offline", "--taxonomy", file]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /tax\.json:3: invalid taxonomy: category "B" is not in "categories"/);
  assert.match(bad.stderr, /dimensions\.0\.category/);
  assert.match(bad.stderr, /HINT:/);
});
