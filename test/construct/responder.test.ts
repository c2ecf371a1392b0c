import assert from "node:assert/strict";
import { test } from "node:test";
import { checkRule, findConflicts } from "../../src/checks/rules/index.ts";
import { generateSpec, sampleSpecs } from "../../src/construct/offline/generators.ts";
import { respond } from "../../src/construct/offline/responder.ts";
import { Rng } from "../../src/construct/offline/rng.ts";
import { SEEDS } from "../../src/construct/offline/seeds.ts";
import { RESERVED } from "../../src/construct/offline/vocab.ts";

test("the responder's output passes its own checkers on 2000 random consistent sets", () => {
  let ok = 0;
  let unsat = 0;
  for (let i = 0; i < 2000; i++) {
    const rng = Rng.for(7, `prop:${i}`);
    const seed = SEEDS[i % SEEDS.length]!;
    const specs = sampleSpecs(rng, { topic: seed.topic }, rng.int(1, 15));
    assert.deepEqual(findConflicts(specs, { reserved: RESERVED }), [], "sampled sets are statically consistent");
    const r = respond(specs, seed.topic, rng);
    if (!r.ok) {
      // The only allowed refusal for a consistent set: numbers its layouts cannot meet together.
      assert.equal(r.code, "unsatisfiable", r.reason);
      unsat++;
      continue;
    }
    ok++;
    for (const s of specs) assert.ok(checkRule(r.text, s).ok, `${s.kind} ${JSON.stringify(s.params)}\n${r.text}`);
  }
  assert.ok(ok > 1300, `satisfied ${ok} of 2000`);
  assert.ok(unsat < 700);
});

test("the responder refuses inconsistent sets with a reason", () => {
  const topic = SEEDS[0]!.topic;
  const r = respond(
    [
      { kind: "lowercase", params: {} },
      { kind: "uppercase", params: {} },
    ],
    topic,
    new Rng(1),
  );
  assert.deepEqual(r, { ok: false, code: "conflict", reason: "all lowercase and all capitals" });
  const r2 = respond(
    [
      { kind: "paragraph_count", params: { relation: "at_most", n: 1 } },
      { kind: "headings", params: { titles: ["A", "B"] } },
    ],
    topic,
    new Rng(1),
  );
  assert.equal(r2.ok, false);
});

test("the same seed gives the same response; another seed another", () => {
  const specs = [generateSpec(new Rng(3), { topic: SEEDS[3]!.topic }, "word_count")];
  const a = respond(specs, SEEDS[3]!.topic, new Rng(9));
  const b = respond(specs, SEEDS[3]!.topic, new Rng(9));
  const c = respond(specs, SEEDS[3]!.topic, new Rng(10));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("plan() gives respond()'s verdict and leaves the stream exactly where respond() leaves it", async () => {
  const { plan } = await import("../../src/construct/offline/responder.ts");
  let refused = 0;
  for (let i = 0; i < 600; i++) {
    const seed = SEEDS[i % SEEDS.length]!;
    const specs = sampleSpecs(Rng.for(11, `plan-specs:${i}`), { topic: seed.topic }, 1 + (i % 15));
    const a = Rng.for(11, `plan:${i}`);
    const b = Rng.for(11, `plan:${i}`);
    const full = respond(specs, seed.topic, a);
    const planned = plan(specs, seed.topic, b);
    // plan() never runs the final self-check, so a self_check refusal plans as ok; all else must agree.
    if (!full.ok && full.code === "self_check") assert.equal(planned.ok, true, `set ${i}`);
    else if (!full.ok) {
      assert.deepEqual(planned, full, `set ${i}`);
      refused++;
    } else assert.equal(planned.ok, true, `set ${i}`);
    // Same number of draws: the next values of both streams agree.
    assert.equal(b.next(), a.next(), `stream position after set ${i}`);
  }
  assert.ok(refused > 0 && refused < 300, `refused ${refused}`);
});

test("respond(..., {verify: false}) writes the same text, only without the final self-check", () => {
  for (let i = 0; i < 300; i++) {
    const seed = SEEDS[i % SEEDS.length]!;
    const specs = sampleSpecs(Rng.for(5, `nv-specs:${i}`), { topic: seed.topic }, 1 + (i % 9));
    const checked = respond(specs, seed.topic, Rng.for(5, `nv:${i}`));
    const unchecked = respond(specs, seed.topic, Rng.for(5, `nv:${i}`), { verify: false });
    if (checked.ok) assert.deepEqual(unchecked, checked);
    else if (checked.code !== "self_check") assert.deepEqual(unchecked, checked);
  }
});

test("Rng.skip(n) advances a stream as n draws do", () => {
  const a = Rng.for(3, "skip");
  const b = Rng.for(3, "skip");
  for (let i = 0; i < 17; i++) a.next();
  b.skip(17);
  assert.equal(b.next(), a.next());
  b.skip(0);
  assert.equal(b.pick([1, 2, 3, 4, 5, 6, 7, 8, 9]), a.pick([1, 2, 3, 4, 5, 6, 7, 8, 9]));
});
