// The TRACE judge: the prompt that asks an LLM to score every constraint 0–10, and the parser that turns its
// reply into validated scores. Pure functions; calling the judge is the evaluator's job.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { renderTracePrompt } from "../../io/index.ts";
import type { Instruction } from "../../schema/index.ts";

// ---- prompt ----

const TEMPLATES = {
  en: readFileSync(new URL("./prompts/judge.en.md", import.meta.url), "utf8"),
  zh: readFileSync(new URL("./prompts/judge.zh.md", import.meta.url), "utf8"),
} as const;

/** The judge's user message for one instruction and response (Chinese template for Chinese instructions). */
export function judgePrompt(instruction: Instruction, response: string): string {
  const template = instruction.lang === "zh" ? TEMPLATES.zh : TEMPLATES.en;
  const fill: Record<string, string> = {
    instruction: renderTracePrompt(instruction).trimEnd(),
    count: String(instruction.constraints.length),
    constraints: instruction.constraints.map((c, i) => `[${i + 1}] ${c.text}`).join("\n"),
    response,
  };
  // One pass, so text inside the response that looks like a placeholder is never substituted.
  return template.replace(/\{\{(\w+)\}\}/g, (m, key: string) => fill[key] ?? m);
}

// ---- reply ----

export const JudgeScoresSchema = z.object({ scores: z.array(z.number().min(0).max(10)) });

export type JudgeParse =
  | { readonly ok: true; readonly scores: number[] }
  | {
      readonly ok: false;
      readonly reason: "no_json" | "malformed" | "wrong_length" | "out_of_range";
      readonly detail: string;
    };

/** Find the last `{"scores": [...]}` object in a judge reply and validate it for `count` constraints. */
export function parseJudgeReply(reply: string, count: number): JudgeParse {
  const matches = [...reply.matchAll(/\{\s*"scores"\s*:\s*\[[^\]]*\]\s*\}/g)];
  if (matches.length === 0) return { ok: false, reason: "no_json", detail: 'no {"scores": [...]} object in the reply' };
  const text = matches[matches.length - 1]![0];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: "malformed", detail: `${(err as Error).message} in ${text.slice(0, 80)}` };
  }
  const shape = z.object({ scores: z.array(z.number()) }).safeParse(raw);
  if (!shape.success) return { ok: false, reason: "malformed", detail: `scores must be numbers: ${text.slice(0, 80)}` };
  const scores = shape.data.scores;
  if (scores.length !== count) {
    return { ok: false, reason: "wrong_length", detail: `expected ${count} scores, got ${scores.length}` };
  }
  if (!JudgeScoresSchema.safeParse(raw).success) {
    return { ok: false, reason: "out_of_range", detail: `scores must be within 0–10, got [${scores.join(", ")}]` };
  }
  return { ok: true, scores };
}
