import assert from "node:assert/strict";
import { test } from "node:test";
import { checkResponse, checkRule, type RuleSpec } from "../../src/checks/rules/index.ts";
import {
  buildOfflineDataset,
  generateSpec,
  inventWord,
  offlineRespond,
  Rng,
  SEEDS,
  splitSeeds,
  VALIDATION_SEEDS,
} from "../../src/construct/index.ts";
import type { Example } from "../../src/schema/index.ts";

// The offline world's training-data options (invented keywords, quoted keywords) and the validation split.

const topicWords = new Set([...SEEDS, ...VALIDATION_SEEDS].flatMap((s) => s.topic.nouns.map((w) => w.toLowerCase())));

function keywordsOf(e: Example): string[] {
  return e.instruction.constraints.flatMap((c) => {
    const k = c.check as { kind?: string; params?: { words?: string[]; word?: string } } | undefined;
    if (k?.kind === "include_keywords") return k.params!.words!;
    if (k?.kind === "keyword_frequency") return [k.params!.word!];
    return [];
  });
}

test("inventWord: lowercase made-up words of 2–3 syllables, seeded", () => {
  const rng = new Rng(7);
  const words = Array.from({ length: 500 }, () => inventWord(rng));
  assert.ok(words.every((w) => /^[a-z]{4,12}$/.test(w)));
  assert.ok(new Set(words).size > 400, "mostly distinct");
  assert.ok(words.filter((w) => topicWords.has(w)).length < 3, "almost never a word of the world");
  const again = new Rng(7);
  assert.deepEqual(
    Array.from({ length: 500 }, () => inventWord(again)),
    words,
  );
});

test("generators: invented keyword pool ignores the topic; the topic pool draws the topic's nouns", () => {
  const topic = SEEDS[0]!.topic;
  for (let i = 0; i < 200; i++) {
    const inv = generateSpec(new Rng(i), { topic, keywords: "invented" }, "keyword_frequency");
    assert.equal(inv.kind, "keyword_frequency");
    if (inv.kind === "keyword_frequency") assert.ok(!topic.nouns.includes(inv.params.word));
    const top = generateSpec(new Rng(i), { topic }, "keyword_frequency");
    if (top.kind === "keyword_frequency") assert.ok(topic.nouns.includes(top.params.word));
  }
});

test("responder: quoted keywords are written as the constraint quotes them and still satisfy it", () => {
  const topic = SEEDS[2]!.topic;
  const specs: RuleSpec[] = [
    { kind: "include_keywords", params: { words: ["tovarin", "belko"] } },
    { kind: "keyword_frequency", params: { word: "stramu", min: 3 } },
  ];
  const r = offlineRespond(specs, topic, new Rng(1), { quoteKeywords: true });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.match(r.text, /This answer covers "tovarin" and "belko"\./);
  assert.match(r.text, /The word "stramu" appears here and "stramu" and "stramu"\./);
  for (const s of specs) assert.ok(checkRule(r.text, s).ok);
  const bare = offlineRespond(specs, topic, new Rng(1));
  assert.ok(bare.ok && bare.text.includes("covers tovarin and belko."));
});

test("dataset: invented + quoted keywords in training; held-out set unchanged; validation split disjoint", async () => {
  const plain = await buildOfflineDataset({ seed: 3, n: 80, evalN: 12, validN: 16 });
  const world = await buildOfflineDataset({
    seed: 3,
    n: 80,
    evalN: 12,
    validN: 16,
    keywords: "invented",
    quoteKeywords: true,
  });
  // The evaluation sets never see the training-only options.
  assert.deepEqual(world.eval, plain.eval);
  assert.deepEqual(world.validation, plain.validation);
  // Training keywords: invented (none from any topic, except the fixed capitalised names) and quoted in answers.
  const kws = world.sft.flatMap(keywordsOf);
  assert.ok(kws.length > 20, `keyword constraints drawn: ${kws.length}`);
  assert.ok(kws.every((w) => !topicWords.has(w.toLowerCase())));
  assert.ok(plain.sft.flatMap(keywordsOf).some((w) => topicWords.has(w)));
  for (const e of world.sft) {
    assert.equal(checkResponse(e.instruction, e.response).all_ok, true);
    for (const c of e.instruction.constraints) {
      const k = c.check as { kind?: string; params?: { words?: string[] } } | undefined;
      if (k?.kind === "include_keywords" && !/json/i.test(e.instruction.constraints.map((x) => x.text).join(" ")))
        for (const w of k.params!.words!)
          assert.ok(e.response.toLowerCase().includes(`"${w.toLowerCase()}"`), `${w} quoted in: ${e.response}`);
    }
  }
  // Validation: 16 items, half single-constraint, from the validation topics only.
  assert.equal(world.validation.length, 16);
  // (as in the held-out set, a deliberate fault the quality stages keep or repair can change an item's count)
  assert.ok(world.validation.slice(0, 8).filter((x) => x.constraints.length === 1).length >= 6);
  assert.ok(world.validation.slice(8).filter((x) => x.constraints.length >= 2).length >= 6);
  const validTexts = new Set(VALIDATION_SEEDS.map((s) => s.text));
  const { train, heldOut } = splitSeeds();
  const others = new Set([...train, ...heldOut].map((s) => s.text));
  assert.ok(world.validation.every((x) => validTexts.has(x.description) && !others.has(x.description)));
  assert.ok(world.validation.every((x) => x.id.startsWith("v")));
  const otherTopics = new Set(SEEDS.map((s) => s.topic.name));
  assert.ok(VALIDATION_SEEDS.every((s) => !otherTopics.has(s.topic.name)));
  // No validation topic noun is a noun of a training or held-out topic.
  const seen = new Set(SEEDS.flatMap((s) => s.topic.nouns));
  assert.ok(VALIDATION_SEEDS.every((s) => s.topic.nouns.every((w) => !seen.has(w))));
  // validN defaults to 0: no validation set unless asked.
  assert.equal(plain.validation.length, 16);
  assert.equal((await buildOfflineDataset({ seed: 3, n: 2, evalN: 0 })).validation.length, 0);
});

test("generators: keywordWeight scales how often the keyword forms are drawn", () => {
  const topic = SEEDS[5]!.topic;
  const share = (m: number) => {
    const rng = new Rng(11);
    let hits = 0;
    for (let i = 0; i < 4000; i++) {
      const k = generateSpec(rng, { topic, keywords: "invented", keywordWeight: m }).kind;
      if (k === "include_keywords" || k === "keyword_frequency") hits++;
    }
    return hits / 4000;
  };
  // Weights: the keyword forms 10 + 4 of 95; ×3 → 42 of 123.
  assert.ok(Math.abs(share(1) - 14 / 95) < 0.02, `×1: ${share(1)}`);
  assert.ok(Math.abs(share(3) - 42 / 123) < 0.03, `×3: ${share(3)}`);
  // Multiplier 1 draws exactly as no multiplier.
  const a = new Rng(4);
  const b = new Rng(4);
  for (let i = 0; i < 200; i++)
    assert.deepEqual(generateSpec(a, { topic }), generateSpec(b, { topic, keywordWeight: 1 }));
});
