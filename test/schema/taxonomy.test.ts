import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CATEGORIES, categoryOf, DIMENSIONS, DimensionNameSchema, findDimension } from "../../src/schema/index.ts";
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
