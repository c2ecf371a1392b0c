// What every LLM-backed role shares: the requester interface (the request engine fits), prompt files
// (prompts/<name>.<lang>.md with {{var}} slots), zod-validated JSON replies and one request-to-result helper.
// An invalid reply throws InvalidReply, which the engine retries; a final failure becomes a drop with its reason.

import { readFileSync } from "node:fs";
import type { z } from "zod";
import { InvalidReply } from "../llm/index.ts";
import { type DropCode, drop, ok, type StageResult } from "./roles.ts";

// ---- types ----

type Message = { role: "system" | "user" | "assistant"; content: string };

/** What the construction needs from the request engine (`RequestEngine.request` fits). */
export interface Requester {
  request<T>(
    req: { id: string | number; messages: readonly Message[]; options?: { temperature?: number; max_tokens?: number } },
    parse?: (text: string) => T,
  ): Promise<{ ok: true; value: T } | { ok: false; error: { cause: string; message: string } }>;
}

export type Lang = "en" | "zh";

// ---- exports ----

const PROMPTS = new Map<string, string>();

/** The prompt file `name.lang.md` with its {{slots}} filled. */
export function prompt(name: string, lang: Lang, vars: Record<string, string>): string {
  const file = `${name}.${lang}.md`;
  let text = PROMPTS.get(file);
  if (text === undefined) {
    text = readFileSync(new URL(`./prompts/${file}`, import.meta.url), "utf8");
    PROMPTS.set(file, text);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k] ?? "");
}

/** Parse a JSON reply (optionally fenced) with a zod schema, or throw InvalidReply. */
export function jsonReply<S extends z.ZodType>(schema: S): (text: string) => z.infer<S> {
  return (text) => {
    const body = text
      .trim()
      .replace(/^```(?:json)?\s*/i, "")
      .replace(/\s*```$/, "");
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      throw new InvalidReply(`reply is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidReply(
        `reply does not match the schema: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`,
      );
    }
    return parsed.data;
  };
}

export function nonEmpty(text: string): string {
  if (text.trim() === "") throw new InvalidReply("empty reply");
  return text;
}

/** One user-message request; a failure (after the engine's retries) becomes a drop with `code`. */
export async function ask<T>(
  r: Requester,
  id: string,
  content: string,
  parse: (t: string) => T,
  code: DropCode,
): Promise<StageResult<T>> {
  const out = await r.request({ id, messages: [{ role: "user", content }] }, parse);
  return out.ok ? ok(out.value) : drop(code, `${out.error.cause}: ${out.error.message}`);
}
