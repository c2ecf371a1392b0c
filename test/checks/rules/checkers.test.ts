import assert from "node:assert/strict";
import { test } from "node:test";
import { checkRule, RULE_KINDS, type RuleSpec } from "../../../src/checks/rules/index.ts";

// Every form: [spec, a passing response, a failing response, the failing issue code].
const CASES: [RuleSpec, string, string, string][] = [
  [
    { kind: "include_keywords", params: { words: ["solar", "AI"] } },
    "Solar power and AI.",
    "solar power and ai.",
    "missing_keyword",
  ],
  [{ kind: "keyword_frequency", params: { word: "grid", min: 2 } }, "grid and Grid", "one grid, gridlock", "too_small"],
  [{ kind: "exclude_words", params: { words: ["very"] } }, "every day is fine", "It is Very good", "forbidden_word"],
  [{ kind: "no_commas", params: {} }, "No commas here.", "One, two.", "forbidden_word"],
  [{ kind: "word_count", params: { relation: "exactly", n: 4 } }, "It's a fine day.", "A fine day.", "not_equal"],
  [{ kind: "word_count", params: { relation: "at_most", n: 2 } }, "Two words", "Three words here", "too_big"],
  [{ kind: "sentence_count", params: { relation: "at_least", n: 2 } }, "One. Two!", "Only 3.5 one.", "too_small"],
  [{ kind: "paragraph_count", params: { relation: "exactly", n: 2 } }, "a\n\nb", "a\nb", "not_equal"],
  [{ kind: "item_count", params: { relation: "exactly", n: 3 } }, "1. a\n2. b\n- c", "- a\n- b", "not_equal"],
  [
    { kind: "json_keys", params: { keys: ["title", "tags"] } },
    '{"title": "x", "tags": []}',
    '{"title": "x"}',
    "missing_item",
  ],
  [{ kind: "json_keys", params: { keys: ["a"] } }, '{"a": 1}', "a: 1", "invalid_format"],
  [
    { kind: "markdown_table", params: { columns: ["Step", "Action"], min_rows: 2 } },
    "| step | action |\n| --- | --- |\n| 1 | go |\n| 2 | stop |",
    "| Step | Action |\n| --- | --- |\n| 1 | go |",
    "too_small",
  ],
  [{ kind: "numbered_list", params: { n: 2 } }, "1. a\n2. b", "1. a\n3. b", "not_equal"],
  [{ kind: "bullet_list", params: { min: 2 } }, "- a\n* b", "- a", "too_small"],
  [{ kind: "headings", params: { titles: ["Intro", "End"] } }, "# Intro\nx\n## End", "## End\n# Intro", "missing_item"],
  [{ kind: "heading_count", params: { min: 2 } }, "# a\n## b", "# a", "too_small"],
  [{ kind: "sections", params: { n: 2 } }, "SECTION 1\na\nSECTION 2\nb", "SECTION 1\na", "not_equal"],
  [{ kind: "lowercase", params: {} }, "all lower 中文", "Not lower", "wrong_case"],
  [{ kind: "uppercase", params: {} }, "ALL CAPS 1", "ALL Caps", "wrong_case"],
  [{ kind: "quoted", params: {} }, ' "quoted" ', '"half', "invalid_format"],
  [{ kind: "starts_with", params: { phrase: "Dear reader" } }, "dear reader, hi", "Hi dear reader", "wrong_start"],
  [
    { kind: "ends_with", params: { phrase: "That is all." } },
    "Done. That is all.\n",
    "That is all. Done.",
    "wrong_end",
  ],
  [{ kind: "postscript", params: {} }, "Body.\n\nP.S. more", "Body. PS more", "missing_item"],
  [
    { kind: "cite_source", params: { source: "Science Weekly" } },
    "As shown [Source: science weekly].",
    "Science Weekly says",
    "missing_item",
  ],
  [{ kind: "citation_count", params: { min: 2 } }, "[Source: A] and [Source: B]", "[Source: A] and [B]", "too_small"],
  [{ kind: "han_chars", params: { min: 3 } }, "这是中文", "中文", "too_small"],
  [{ kind: "zh_line", params: {} }, "Text.\n中文：总结。", "Text. 中文：总结。", "missing_item"],
];

test("every rule form has a positive and a negative case", () => {
  const covered = new Set(CASES.map((c) => c[0].kind));
  assert.deepEqual(
    RULE_KINDS.filter((k) => !covered.has(k)),
    [],
  );
});

for (const [spec, good, bad, code] of CASES) {
  test(`${spec.kind} ${JSON.stringify(spec.params)}`, () => {
    assert.deepEqual(checkRule(good, spec), { ok: true, issues: [] }, `should pass: ${JSON.stringify(good)}`);
    const v = checkRule(bad, spec);
    assert.equal(v.ok, false, `should fail: ${JSON.stringify(bad)}`);
    assert.equal(v.issues[0]!.code, code);
  });
}

test("issues carry expected and got", () => {
  assert.deepEqual(checkRule("a b c", { kind: "word_count", params: { relation: "at_most", n: 2 } }).issues, [
    { code: "too_big", expected: "at most 2 words", got: "3" },
  ]);
});
