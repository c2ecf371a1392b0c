import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  CATEGORIES,
  categoryOf,
  DIMENSIONS,
  DimensionNameSchema,
  findDimension,
  Taxonomy,
  TaxonomyFileSchema,
} from "../../src/schema/index.ts";
import { sharedData } from "../helpers/paths.ts";

const reference = JSON.parse(readFileSync(sharedData("trace/taxonomy.json"), "utf8")) as {
  categories: string[];
  dimensions: { category: string; name: string; zh: string }[];
};

test("the taxonomy matches the paper's: 5 categories, 26 dimensions, same names, labels and categories", () => {
  assert.deepEqual([...CATEGORIES], reference.categories);
  assert.equal(DIMENSIONS.length, 26);
  assert.deepEqual(
    DIMENSIONS.map((d) => [d.category, d.name, d.zh]),
    reference.dimensions.map((d) => [d.category, d.name, d.zh]),
  );
});

test("lookup works from either label, case-insensitively, and says undefined for strays", () => {
  assert.equal(findDimension("包含约束")?.name, "Inclusion");
  assert.equal(findDimension("  numbering and list ")?.zh, "编号和列表约束");
  assert.equal(findDimension("Markdown流程背景信息约束")?.name, "Markdown Process Background Information");
  assert.equal(findDimension("输入格式约束"), undefined);
  assert.equal(findDimension("·"), undefined);
  assert.equal(categoryOf("Citation"), "Format");
  assert.equal(DimensionNameSchema.safeParse("Theme").success, true);
  assert.equal(DimensionNameSchema.safeParse("主题约束").success, false);
});

test("TRACE's own taxonomy.json is a valid taxonomy file and classifies like the built-in one", () => {
  const file = TaxonomyFileSchema.parse(reference);
  const t = Taxonomy.from(file);
  const b = Taxonomy.builtin();
  assert.equal(t.dimensions.length, 26);
  for (const d of DIMENSIONS) {
    assert.equal(t.classify({ type: d.name }), d.name);
    assert.equal(b.classify({ label: d.zh }), d.name);
  }
  assert.equal(b.classify({ label: "输入格式约束" }), "unknown");
  assert.equal(b.classify({}), "untyped");
  assert.equal(t.categoryOf("Citation"), "Format");
  // Extra fields are kept.
  assert.equal((t.dimensions[0] as { eval_share_pct?: number }).eval_share_pct, 5.5);
});

test("a user taxonomy: built-in dimensions found by Chinese label, others recorded as labels", () => {
  const t = Taxonomy.from(
    TaxonomyFileSchema.parse({
      categories: ["A"],
      dimensions: [
        { category: "A", name: "Keywords", zh: "包含约束" },
        { category: "A", name: "Humor" },
      ],
    }),
  );
  assert.deepEqual(t.tag("keywords"), { type: "Inclusion" });
  assert.deepEqual(t.tag("HUMOR"), { label: "Humor" });
  assert.deepEqual(t.tag("Theme"), { label: "Theme" });
  assert.equal(t.classify({ type: "Inclusion" }), "Keywords");
  assert.equal(t.classify({ label: "Humor" }), "Humor");
  assert.equal(t.classify({ type: "Theme" }), "unknown");
  const bad = TaxonomyFileSchema.safeParse({
    categories: ["A"],
    dimensions: [
      { category: "B", name: "X" },
      { category: "A", name: "x" },
    ],
  });
  assert.equal(bad.success, false);
  assert.deepEqual(
    bad.error!.issues.map((i) => i.path.join(".")),
    ["dimensions.0.category", "dimensions.1.name"],
  );
});
