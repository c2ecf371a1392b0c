// The authors' TRACE judge protocol (../shared/data/trace/JUDGE_PROTOCOL.md), in this project's own words: a
// system message, one user message with a worked example, per-constraint explanations and scores, then the
// `Fine Grained Score:` JSON line and `Constraints Overall Score: [[d]]`. Pure: prompt and reply parser only.

import { readFileSync } from "node:fs";
import type { ChatMessage } from "../../llm/index.ts";
import type { Instruction } from "../../schema/index.ts";

// ---- types ----

export type AuthorsParse =
  | {
      readonly ok: true;
      /** One score per constraint, in the order the judge listed them. */
      readonly scores: number[];
      /** The `Constraints Overall Score`, or null when that line is missing (the fine-grained line decides). */
      readonly overall: number | null;
    }
  | {
      readonly ok: false;
      readonly reason: "no_fine_grained" | "malformed" | "wrong_length" | "out_of_range";
      readonly detail: string;
    };

// ---- prompt ----

const TEMPLATE = readFileSync(new URL("./prompts/authors.md", import.meta.url), "utf8").trimEnd();

/** The authors' system message for both the model under test and the judge. */
export const AUTHORS_SYSTEM = "You are a helpful assistant.";

/**
 * The judge's messages for one item. The query is the item's description, followed by its input block when it has
 * one (the authors' loader for items with an input was not released; the judge needs the input to check the answer).
 */
export function authorsJudgeMessages(instruction: Instruction, answer: string): ChatMessage[] {
  const query =
    instruction.input !== null
      ? `${instruction.description}\n# Inputs:\n${instruction.input}`
      : instruction.description;
  const fill: Record<string, string> = {
    query,
    constraints: instruction.constraints.map((c) => c.text).join("\n"),
    answer,
  };
  const user = TEMPLATE.replace(/\{\{(\w+)\}\}/g, (m, key: string) => fill[key] ?? m);
  return [
    { role: "system", content: AUTHORS_SYSTEM },
    { role: "user", content: user },
  ];
}

// ---- reply ----

const FINE = /Fine Grained Score:\s*(\[[\s\S]*?\])\s*(?:\n|$)/g;
const OVERALL = /Constraints Overall Score:\s*\[\[([0-9.]+)\]\]/g;

/** Read the last `Fine Grained Score:` line (required) and the last overall score (optional) of a reply. */
export function parseAuthorsReply(reply: string, count: number): AuthorsParse {
  const fine = [...reply.matchAll(FINE)].at(-1);
  if (!fine)
    return { ok: false, reason: "no_fine_grained", detail: "no `Fine Grained Score: [...]` line in the reply" };
  let raw: unknown;
  try {
    raw = JSON.parse(fine[1]!);
  } catch (err) {
    return { ok: false, reason: "malformed", detail: `${(err as Error).message} in ${fine[1]!.slice(0, 80)}` };
  }
  if (
    !Array.isArray(raw) ||
    raw.length === 0 ||
    !raw.every((o) => o !== null && typeof o === "object" && !Array.isArray(o))
  )
    return {
      ok: false,
      reason: "malformed",
      detail: `expected a list of {constraint: score} objects, got ${fine[1]!.slice(0, 80)}`,
    };
  const scores = (raw as Record<string, unknown>[]).flatMap((o) => Object.values(o));
  if (!scores.every((s): s is number => typeof s === "number"))
    return { ok: false, reason: "malformed", detail: `scores must be numbers: ${fine[1]!.slice(0, 80)}` };
  if (scores.length !== count)
    return { ok: false, reason: "wrong_length", detail: `expected ${count} constraint scores, got ${scores.length}` };
  if (scores.some((s) => s < 0 || s > 10))
    return { ok: false, reason: "out_of_range", detail: `scores must be within 0–10, got [${scores.join(", ")}]` };
  const overallMatch = [...reply.matchAll(OVERALL)].at(-1);
  const overall = overallMatch ? Number(overallMatch[1]) : null;
  return { ok: true, scores, overall: overall !== null && Number.isFinite(overall) ? overall : null };
}
