// The Chinese prompts are Chinese throughout: every role's request in `--lang zh`, filled as the roles fill them
// (operation names and meanings, dimension names and glosses, quality aspects), holds no English words other than
// JSON keys and values, rule-form names, category names and the layout marker "# Inputs:".
import assert from "node:assert/strict";
import { test } from "node:test";
import { RULE_KINDS } from "../../src/checks/rules/index.ts";
import { LlmRoles, LlmTaxonomyRoles, type Requester } from "../../src/construct/index.ts";
import { CATEGORIES, type Instruction } from "../../src/schema/index.ts";

const ALLOWED = new Set(
  [
    ...RULE_KINDS.flatMap((k) => k.split("_")),
    ...CATEGORIES,
    ...["description", "constraints", "text", "type", "check", "kind", "params", "input", "null", "rejected"],
    ...["scores", "index", "score", "changed", "ok", "true", "false", "problems", "better", "reason", "types"],
    ...["name", "zh", "category", "definition", "example", "same", "dimension", "Inputs"],
    // Names in the dimension glosses and examples: data formats, and an acronym a case rule trips on.
    ...["JSON", "HTML", "LaTeX", "Markdown", "markdown", "NASA"],
  ].map((w) => w.toLowerCase()),
);

/** Words outside quoted JSON keys (`"y2_better_for_x2"`) and the allowed list. */
function englishWords(prompt: string): string[] {
  const bare = prompt.replace(/"[A-Za-z0-9_]+"/g, '""');
  return (bare.match(/[A-Za-z]{2,}/g) ?? []).filter((w) => !ALLOWED.has(w.toLowerCase()));
}

test("every Chinese prompt, as the roles fill it, is Chinese apart from keys, names and markers", async () => {
  const prompts: string[] = [];
  const requester: Requester = {
    async request(req) {
      prompts.push(req.messages.at(-1)!.content);
      return { ok: false, error: { cause: "test", message: "not answered" } };
    },
  };
  const x: Instruction = {
    id: "x",
    description: "介绍蜜蜂。",
    constraints: [{ text: "1. 不超过五十个字。" }, { text: "2. 语气欢快。" }],
    input: null,
    lang: "zh",
  };
  const roles = new LlmRoles({ requester, model: "m", lang: "zh" });
  const seed = { id: "s", text: "介绍蜜蜂。", input: null };
  await roles.expand(seed, 3, "k");
  await roles.structure("介绍蜜蜂。\n1. 不超过五十个字。\n", "k");
  for (const aspect of ["completeness", "redundancy", "contradiction"] as const) {
    await roles.qc(aspect, x, "k");
    await roles.repair(aspect, x, ["第 2 条约束不完整"], "k");
  }
  await roles.respond(x, "k");
  await roles.judge(x, "蜜蜂很可爱！", [1], "k");
  for (const op of ["add", "delete", "revise"] as const) {
    await roles.rewrite(x, "蜜蜂很可爱！", op, "k", true);
    await roles.rewrite(x, "蜜蜂很可爱！", op, "k", false);
  }
  const known = { y1_x1: true, y1_x2: false, y2_x2: true, y2_x1: false };
  await roles.rationality({ x1: x, y1: "蜜蜂很可爱！", x2: x, y2: "蜜蜂很勤劳！" }, known, "k");
  await roles.worsen(x, "蜜蜂很可爱！", "k");
  const tax = new LlmTaxonomyRoles({ requester, model: "m", lang: "zh" });
  const cluster = { name: "字数限制", definition: "回答的字数上限", aliases: ["篇幅限制"] };
  await tax.propose(seed, "k");
  await tax.same(cluster, cluster, "k");
  await tax.map(cluster, "k");
  assert.equal(prompts.length, 21);
  for (const p of prompts) assert.deepEqual(englishWords(p), [], p);
  // The operations reach the rewrite prompt in Chinese.
  const rewrites = prompts.filter((p) => p.startsWith("请改写指令中的约束"));
  assert.deepEqual(
    rewrites.map((p) => p.match(/操作：(\S+?)（/)?.[1]),
    ["增加", "增加", "删除", "删除", "修改", "修改"],
  );
  assert.ok(rewrites[2]!.includes("互不相容") && !rewrites[0]!.includes("互不相容"));
  // The English prompts would have failed this check.
  const en: string[] = [];
  const enRoles = new LlmRoles({
    requester: {
      request: async (r) => {
        en.push(r.messages.at(-1)!.content);
        return { ok: false, error: { cause: "t", message: "t" } };
      },
    },
    model: "m",
  });
  await enRoles.rewrite(x, "y", "add", "k");
  assert.ok(englishWords(en[0]!).length > 10);
});
