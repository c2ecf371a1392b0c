// The CFBench judge prompt: one Chinese user message, written for this project to the protocol in
// ../shared/data/cfbench/SOURCE.md (the judge scores every checklist item 0/1; reply format kept exact).
// Pure; sending it is the evaluator's job.

import { readFileSync } from "node:fs";
import type { CfbenchRecord } from "./schema.ts";

// The examples show a tab as "<TAB>" in the file so editors cannot turn it into spaces.
// The message ends with "[你的评估]: " (one space), restored here as formatters strip trailing spaces in the file.
const TEMPLATE = `${readFileSync(new URL("./prompts/judge.zh.md", import.meta.url), "utf8")
  .replaceAll("<TAB>", "\t")
  .trimEnd()} `;

/** Temperature of the judge, as upstream's protocol. */
export const JUDGE_TEMPERATURE = 0.01;
/** Rounds a sample is asked again while its reply does not parse strictly. */
export const JUDGE_ROUNDS = 10;

/** The judge's user message for one record and the model's response. */
export function cfbenchJudgePrompt(
  record: Pick<CfbenchRecord, "prompt" | "gold" | "criteria">,
  response: string,
): string {
  const fill: Record<string, string> = {
    prompt: record.prompt,
    gold: record.gold,
    response,
    criteria: record.criteria.map((c) => c[0]).join("\n\n"),
  };
  // One pass, so text inside the response that looks like a placeholder is never substituted.
  return TEMPLATE.replace(/\{\{(\w+)\}\}/g, (m, key: string) => fill[key] ?? m);
}
