import assert from "node:assert/strict";
import { test } from "node:test";
import { DemoConfigSchema, demoConfig } from "../../src/demo/index.ts";

test("demo config: a configuration saved before `world` existed reads as the default world", () => {
  const full = demoConfig("full", 0);
  const { world: _, ...old } = full;
  const parsed = DemoConfigSchema.parse(old);
  assert.deepEqual(parsed.world, { keywords: "topic", keyword_weight: 1, quote_keywords: false });
  assert.throws(() => DemoConfigSchema.parse({ ...full, world: { ...full.world, keywords: "random" } }));
  assert.throws(() => DemoConfigSchema.parse({ ...full, world: { ...full.world, keyword_weight: 0 } }));
});
