// The LLM path: every role is one chat request through a requester (the request engine: retries, cache,
// concurrency), with prompts from prompts/*.{en,zh}.md and zod-validated replies. An invalid reply throws
// InvalidReply, which the engine retries; a final failure becomes a drop with its reason, never a score.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { RULE_KINDS, validateRuleSpec } from "../checks/rules/index.ts";
import { parseTracePrompt, renderTracePrompt, renumber } from "../io/layout.ts";
import { InvalidReply } from "../llm/index.ts";
import { type Constraint, DIMENSIONS, findDimension, type Instruction, type RewriteOp } from "../schema/index.ts";
import { type DropCode, drop, ok, type Rewrite, type Roles, type SeedRecord, type StageResult } from "./roles.ts";

// ---- types ----

type Message = { role: "system" | "user" | "assistant"; content: string };

/** What the construction needs from the request engine (`RequestEngine.request` fits). */
export interface Requester {
  request<T>(
    req: { id: string | number; messages: readonly Message[]; options?: { temperature?: number; max_tokens?: number } },
    parse?: (text: string) => T,
  ): Promise<{ ok: true; value: T } | { ok: false; error: { cause: string; message: string } }>;
}

export interface LlmRolesOptions {
  readonly requester: Requester;
  /** Recorded as lineage origin `llm:<model>`. */
  readonly model: string;
  /** Prompt language. @default "en" */
  readonly lang?: "en" | "zh";
}

// ---- helpers ----

const PROMPTS = new Map<string, string>();
function prompt(name: string, lang: string, vars: Record<string, string>): string {
  const file = `${name}.${lang}.md`;
  let text = PROMPTS.get(file);
  if (text === undefined) {
    text = readFileSync(new URL(`./prompts/${file}`, import.meta.url), "utf8");
    PROMPTS.set(file, text);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k] ?? "");
}

/** Parse a JSON reply (optionally fenced) with a zod schema, or throw InvalidReply. */
function jsonReply<S extends z.ZodType>(schema: S): (text: string) => z.infer<S> {
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
    if (!parsed.success) throw new InvalidReply(`reply does not match the schema: ${parsed.error.issues[0]!.message}`);
    return parsed.data;
  };
}

function nonEmpty(text: string): string {
  if (text.trim() === "") throw new InvalidReply("empty reply");
  return text;
}

const StructureReply = z.object({
  description: z.string().min(1),
  constraints: z
    .array(z.object({ text: z.string().min(1), type: z.string().optional(), check: z.unknown().optional() }))
    .min(1),
  input: z.string().nullable().optional(),
});
const JudgeReply = z.object({
  scores: z.array(z.object({ index: z.number().int(), score: z.number().min(0).max(10) })),
});
const RewriteReply = z.object({
  constraints: z.array(z.string().min(1)).min(1),
  changed_x1: z.array(z.number().int().nonnegative()).default([]),
  changed_x2: z.array(z.number().int().nonnegative()).default([]),
});

const OP_MEANING: Record<RewriteOp, string> = {
  add: "add one or more constraints the response violates",
  delete: "delete constraints, and replace what you delete so that the response violates the result",
  revise: "change one or more constraints so that the response violates them",
};

// ---- exports ----

export class LlmRoles implements Roles {
  readonly origin: string;
  private readonly r: Requester;
  private readonly lang: "en" | "zh";

  constructor(o: LlmRolesOptions) {
    this.r = o.requester;
    this.origin = `llm:${o.model}`;
    this.lang = o.lang ?? "en";
  }

  private async ask<T>(id: string, content: string, parse: (t: string) => T, code: DropCode): Promise<StageResult<T>> {
    const out = await this.r.request({ id, messages: [{ role: "user", content }] }, parse);
    return out.ok ? ok(out.value) : drop(code, `${out.error.cause}: ${out.error.message}`);
  }

  private dims(): string {
    return DIMENSIONS.map((d) => `- ${d.name}: ${d.meaning}`).join("\n");
  }

  expand(seed: SeedRecord, target: number, key: string): Promise<StageResult<string>> {
    const seedText = seed.input === null ? seed.text : `${seed.text}\n# Inputs:\n${seed.input}`;
    const parse = (t: string) => {
      if (!/^\s*1[.、]/m.test(t)) throw new InvalidReply("no numbered constraint in the reply");
      return t.endsWith("\n") ? t : `${t}\n`;
    };
    return this.ask(
      `expand:${key}`,
      prompt("expand", this.lang, { seed: seedText, count: String(target), dimensions: this.dims() }),
      parse,
      "expand_failed",
    );
  }

  async structure(flat: string, id: string): Promise<StageResult<Instruction>> {
    const vars = { instruction: flat, dimensions: this.dims(), kinds: RULE_KINDS.join(", ") };
    const r = await this.ask(
      `structure:${id}`,
      prompt("structure", this.lang, vars),
      jsonReply(StructureReply),
      "structure_failed",
    );
    if (!r.ok) return r;
    const constraints = r.value.constraints.map((c): Constraint => {
      const dim = c.type ? findDimension(c.type) : undefined;
      const out: Constraint = { text: c.text };
      if (dim) out.type = dim.name as Constraint["type"];
      else if (c.type) out.label = c.type;
      const check = z
        .object({ kind: z.string(), params: z.record(z.string(), z.unknown()).default({}) })
        .safeParse(c.check);
      if (check.success && validateRuleSpec(check.data).spec) out.check = check.data;
      return out;
    });
    const input = r.value.input ?? parseTracePrompt(flat).input;
    return ok({ id, description: r.value.description, constraints, input, lang: this.lang });
  }

  respond(x: Instruction, key: string): Promise<StageResult<string>> {
    return this.ask(
      `respond:${key}`,
      prompt("respond", this.lang, { prompt: renderTracePrompt(x) }),
      nonEmpty,
      "respond_failed",
    );
  }

  async judge(
    x: Instruction,
    response: string,
    indices: readonly number[],
    key: string,
  ): Promise<StageResult<number[]>> {
    const constraints = indices
      .map((i) => `${i + 1}. ${x.constraints[i]!.text.replace(/^\s*\d+[.、]\s*/, "")}`)
      .join("\n");
    const parse = (t: string) => {
      const v = jsonReply(JudgeReply)(t);
      const by = new Map(v.scores.map((s) => [s.index, s.score]));
      const scores = indices.map((i) => by.get(i + 1));
      if (scores.some((s) => s === undefined)) throw new InvalidReply("reply misses a listed constraint");
      return scores as number[];
    };
    return this.ask(
      `judge:${key}`,
      prompt("judge", this.lang, { prompt: renderTracePrompt(x), response, constraints }),
      parse,
      "judge_failed",
    );
  }

  async rewrite(x1: Instruction, y1: string, op: RewriteOp, key: string): Promise<StageResult<Rewrite>> {
    const vars = { op, op_meaning: OP_MEANING[op], prompt: renderTracePrompt(x1), response: y1 };
    const r = await this.ask(
      `rewrite:${key}`,
      prompt("rewrite", this.lang, vars),
      jsonReply(RewriteReply),
      "rewrite_failed",
    );
    if (!r.ok) return r;
    const texts = renumber(r.value.constraints);
    const x2: Instruction = { ...x1, constraints: texts.map((text) => ({ text })) };
    return ok({ x2, changed: { x1: r.value.changed_x1, x2: r.value.changed_x2 } });
  }

  worsen(x: Instruction, _y: string, key: string): Promise<StageResult<string>> {
    const constraint = x.constraints[0]?.text ?? "";
    return this.ask(
      `worsen:${key}`,
      prompt("worsen", this.lang, { constraint, prompt: renderTracePrompt(x) }),
      nonEmpty,
      "no_worse_response",
    );
  }
}
