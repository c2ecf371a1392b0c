// The LLM path: every construction role is one chat request through a requester (the request engine: retries,
// cache, concurrency), with prompts from prompts/*.{en,zh}.md and zod-validated replies; the taxonomy in the
// prompts is the built-in one or a user's. Taxonomy induction's roles live in llm-taxonomy.ts.

import { z } from "zod";
import { RULE_KINDS, validateRuleSpec } from "../checks/rules/index.ts";
import { parseTracePrompt, renderTracePrompt, renumber } from "../io/index.ts";
import { InvalidReply } from "../llm/index.ts";
import {
  type Constraint,
  findDimension,
  type Instruction,
  type Relations,
  type RewriteOp,
  Taxonomy,
} from "../schema/index.ts";
import { ask, jsonReply, type Lang, nonEmpty, prompt, type Requester } from "./llm-common.ts";
import { QC_CODE } from "./quality.ts";
import {
  drop,
  type GroupDraft,
  ok,
  type QcAspect,
  type RationalityVerdict,
  type Rewrite,
  type Roles,
  type SeedRecord,
  type StageResult,
} from "./roles.ts";

export type { Requester } from "./llm-common.ts";

// ---- types ----

export interface LlmRolesOptions {
  readonly requester: Requester;
  /** Recorded as lineage origin `llm:<model>`. */
  readonly model: string;
  /** Prompt language. @default "en" */
  readonly lang?: Lang;
  /** The taxonomy the prompts offer and constraint types are mapped to. @default the built-in 26 dimensions */
  readonly taxonomy?: Taxonomy;
}

// ---- helpers ----

const ConstraintReply = z.object({
  text: z.string().min(1),
  type: z.string().optional(),
  check: z.unknown().optional(),
});
const InstructionReply = z.object({
  description: z.string().min(1),
  constraints: z.array(ConstraintReply).min(1),
  input: z.string().nullable().optional(),
});
/** Structuring and repair: the instruction, or a refusal with its reason. */
const StructureReply = z.union([z.object({ rejected: z.string().min(1) }), InstructionReply]);
const JudgeReply = z.object({
  scores: z.array(z.object({ index: z.number().int(), score: z.number().min(0).max(10) })),
});
const RewriteReply = z.object({
  constraints: z.array(z.string().min(1)).min(1),
  changed_x1: z.array(z.number().int().nonnegative()).default([]),
  changed_x2: z.array(z.number().int().nonnegative()).default([]),
});
const QcReply = z
  .object({ ok: z.boolean(), problems: z.array(z.string().min(1)).default([]) })
  .refine((r) => r.ok || r.problems.length > 0, { message: '"ok": false needs at least one problem' });
const RationalityReply = z.object({
  x1_y1: z.boolean(),
  x1_y2: z.boolean(),
  x2_y1: z.boolean(),
  x2_y2: z.boolean(),
  y2_better_for_x2: z.boolean(),
  reason: z.string().optional(),
});

const OP_NAME: Record<Lang, Record<RewriteOp, string>> = {
  en: { add: "ADD", delete: "DELETE", revise: "REVISE" },
  zh: { add: "增加", delete: "删除", revise: "修改" },
};
const OP_MEANING: Record<Lang, Record<RewriteOp, string>> = {
  en: {
    add: "add one or more constraints the response does not meet, keeping every original constraint",
    delete: "delete one or more constraints, and put in their place one the response does not meet",
    revise: "change one or more constraints so that the response no longer meets them",
  },
  zh: {
    add: "在保留全部原有约束的前提下，增加一条或多条该回复不满足的约束",
    delete: "删除一条或多条约束，并在原处补上一条该回复不满足的约束",
    revise: "修改一条或多条约束，使该回复不再满足它们",
  },
};
/** Strict groups: an answer to x2 should not also meet x1. */
const STRICT_NOTE: Record<Lang, string> = {
  en: "Make the changed constraints incompatible with the ones they replace, so that an answer meeting the new instruction cannot also meet the original one.\n",
  zh: "让改动后的约束与被替换的原约束互不相容，使满足新指令的回答不可能同时满足原指令。\n",
};
const ASPECT_NAME: Record<Lang, Record<QcAspect, string>> = {
  en: { completeness: "completeness", redundancy: "redundancy", contradiction: "contradiction" },
  zh: { completeness: "完整性", redundancy: "冗余", contradiction: "矛盾" },
};

// ---- exports ----

export class LlmRoles implements Roles {
  readonly origin: string;
  private readonly r: Requester;
  private readonly lang: Lang;
  private readonly taxonomy: Taxonomy;

  constructor(o: LlmRolesOptions) {
    this.r = o.requester;
    this.origin = `llm:${o.model}`;
    this.lang = o.lang ?? "en";
    this.taxonomy = o.taxonomy ?? Taxonomy.builtin();
  }

  /** The taxonomy as a prompt list, in the prompt's language where the taxonomy has it. */
  private dims(): string {
    return this.taxonomy.dimensions
      .map((d) => {
        if (this.lang === "en") return `- ${d.name}: ${d.meaning}`;
        const gloss = (d as { meaning_zh?: string }).meaning_zh ?? findDimension(d.name)?.meaning_zh ?? d.meaning;
        return `- ${d.zh || d.name}: ${gloss}`;
      })
      .join("\n");
  }

  /** A constraint from a reply: the type mapped through the taxonomy, a check kept only when it validates. */
  private constraint(c: z.infer<typeof ConstraintReply>, text = c.text): Constraint {
    const out: Constraint = { text, ...(c.type ? this.taxonomy.tag(c.type) : {}) };
    const check = z
      .object({ kind: z.string(), params: z.record(z.string(), z.unknown()).default({}) })
      .safeParse(c.check);
    if (check.success && validateRuleSpec(check.data).spec) out.check = check.data;
    return out;
  }

  private instruction(id: string, v: z.infer<typeof InstructionReply>, fallbackInput: string | null): Instruction {
    const texts = renumber(v.constraints.map((c) => c.text));
    const constraints = v.constraints.map((c, i) => this.constraint(c, texts[i]));
    return { id, description: v.description, constraints, input: v.input ?? fallbackInput, lang: this.lang };
  }

  expand(seed: SeedRecord, target: number, key: string): Promise<StageResult<string>> {
    const seedText = seed.input === null ? seed.text : `${seed.text}\n# Inputs:\n${seed.input}`;
    const parse = (t: string) => {
      if (!/^\s*1[.、]/m.test(t)) throw new InvalidReply("no numbered constraint in the reply");
      return t.endsWith("\n") ? t : `${t}\n`;
    };
    const vars = { seed: seedText, count: String(target), dimensions: this.dims() };
    return ask(this.r, `expand:${key}`, prompt("expand", this.lang, vars), parse, "expand_failed");
  }

  async structure(flat: string, id: string): Promise<StageResult<Instruction>> {
    const vars = { instruction: flat, dimensions: this.dims(), kinds: RULE_KINDS.join(", ") };
    const r = await ask(
      this.r,
      `structure:${id}`,
      prompt("structure", this.lang, vars),
      jsonReply(StructureReply),
      "structure_failed",
    );
    if (!r.ok) return r;
    if ("rejected" in r.value) return drop("poor_instruction", r.value.rejected);
    // Keep the constraint texts as the reply wrote them (with their numbers).
    const v = r.value;
    const constraints = v.constraints.map((c) => this.constraint(c));
    return ok({
      id,
      description: v.description,
      constraints,
      input: v.input ?? parseTracePrompt(flat).input,
      lang: this.lang,
    });
  }

  qc(aspect: QcAspect, x: Instruction, key: string): Promise<StageResult<string[]>> {
    return ask(
      this.r,
      `qc-${aspect}:${key}`,
      prompt(`qc-${aspect}`, this.lang, { prompt: renderTracePrompt(x) }),
      (t) => jsonReply(QcReply)(t).problems,
      "qc_invalid_reply",
    );
  }

  async repair(
    aspect: QcAspect,
    x: Instruction,
    problems: readonly string[],
    key: string,
  ): Promise<StageResult<Instruction>> {
    const vars = {
      aspect: ASPECT_NAME[this.lang][aspect],
      problems: problems.map((p) => `- ${p}`).join("\n"),
      prompt: renderTracePrompt(x),
      dimensions: this.dims(),
      kinds: RULE_KINDS.join(", "),
    };
    const r = await ask(
      this.r,
      `repair-${aspect}:${key}`,
      prompt("repair", this.lang, vars),
      jsonReply(StructureReply),
      "qc_invalid_reply",
    );
    if (!r.ok) return r;
    if ("rejected" in r.value) return drop(QC_CODE[aspect], `the repairer declined: ${r.value.rejected}`);
    return ok(this.instruction(x.id, r.value, x.input));
  }

  respond(x: Instruction, key: string): Promise<StageResult<string>> {
    return ask(
      this.r,
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
    const vars = { prompt: renderTracePrompt(x), response, constraints };
    return ask(this.r, `judge:${key}`, prompt("judge", this.lang, vars), parse, "judge_failed");
  }

  async rewrite(
    x1: Instruction,
    y1: string,
    op: RewriteOp,
    key: string,
    breakX1 = false,
  ): Promise<StageResult<Rewrite>> {
    const vars = {
      op: OP_NAME[this.lang][op],
      op_meaning: OP_MEANING[this.lang][op],
      strict: breakX1 && op !== "add" ? STRICT_NOTE[this.lang] : "",
      prompt: renderTracePrompt(x1),
      response: y1,
    };
    const r = await ask(
      this.r,
      `rewrite:${key}`,
      prompt("rewrite", this.lang, vars),
      jsonReply(RewriteReply),
      "rewrite_failed",
    );
    if (!r.ok) return r;
    // A constraint kept word for word keeps its type and rule form; new and revised ones are judged by the LLM.
    const bare = (t: string) => t.replace(/^\s*\d+[.、．]\s*/, "").trim();
    const before = new Map(x1.constraints.map((c) => [bare(c.text), c]));
    const texts = renumber(r.value.constraints);
    const constraints = texts.map((text): Constraint => {
      const same = before.get(bare(text));
      return same ? { ...same, text } : { text };
    });
    const x2: Instruction = { ...x1, constraints };
    return ok({ x2, changed: { x1: r.value.changed_x1, x2: r.value.changed_x2 } });
  }

  async rationality(g: GroupDraft, _known: Relations, key: string): Promise<StageResult<RationalityVerdict>> {
    const vars = {
      x1: renderTracePrompt(g.x1),
      x2: renderTracePrompt(g.x2),
      y1: g.y1,
      y2: g.y2,
    };
    const r = await ask(
      this.r,
      `rationality:${key}`,
      prompt("rationality", this.lang, vars),
      jsonReply(RationalityReply),
      "rationality_failed",
    );
    if (!r.ok) return r;
    const v = r.value;
    const relations = { y1_x1: v.x1_y1, y1_x2: v.x2_y1, y2_x2: v.x2_y2, y2_x1: v.x1_y2 };
    return ok({ relations, y2_better_for_x2: v.y2_better_for_x2, ...(v.reason && { reason: v.reason }) });
  }

  worsen(x: Instruction, y: string, key: string): Promise<StageResult<string>> {
    return ask(
      this.r,
      `worsen:${key}`,
      prompt("worsen", this.lang, { prompt: renderTracePrompt(x), reference: y }),
      nonEmpty,
      "no_worse_response",
    );
  }
}
