// The offline world as a construction provider: plays expander, structurer, quality judge and repairer (by
// rule), responder, judge (rule checkers), rewriter, group checker and worse-answer writer with seeded
// generators — no network, byte-for-byte reproducible for a given seed. Taxonomy roles: offline/taxonomy.ts.

import {
  checkResponse,
  checkRule,
  findConflicts,
  KIND_DIMENSION,
  parseRuleSpec,
  RULE_KINDS,
  type RuleKind,
  type RuleSpec,
} from "../../checks/rules/index.ts";
import { ConfigError } from "../../errors.ts";
import { parseTracePrompt, renderTracePrompt, renumber } from "../../io/index.ts";
import type { Constraint, Instruction, Relations, RewriteOp, Taxonomy } from "../../schema/index.ts";
import { contradictions, keepOnly } from "../quality.ts";
import {
  drop,
  ok,
  type QcAspect,
  type RationalityVerdict,
  type Rewrite,
  type Roles,
  type SeedRecord,
  type StageResult,
} from "../roles.ts";
import { describeSpec, generateSpec, type KeywordPool, sampleSpecs, toConstraint } from "./generators.ts";
import { plan, respond } from "./responder.ts";
import { Rng } from "./rng.ts";
import { SEEDS, type Seed, seedFromText, VALIDATION_SEEDS } from "./seeds.ts";
import { RESERVED, type Topic } from "./vocab.ts";

// ---- types ----

export interface OfflineOptions {
  /** Run seed: every record draws from its own stream under it. */
  readonly seed: number;
  /** Share of expansions that get a deliberate fault (a repeated or a conflicting constraint). @default 0.04 */
  readonly faultRate?: number;
  /** Share of responses with a deliberate slip (last line dropped), for the judge to catch. @default 0.04 */
  readonly slipRate?: number;
  /** A user taxonomy: only forms of its dimensions are drawn. @default the built-in one (all forms) */
  readonly taxonomy?: Taxonomy;
  /** Where keyword constraints take their words (generators.ts). @default "topic" */
  readonly keywords?: KeywordPool;
  /** Multiplies how often keyword constraints are drawn (generators.ts). @default 1 */
  readonly keywordWeight?: number;
  /** The responder writes required keywords in double quotes, as the constraints quote them. @default false */
  readonly quoteKeywords?: boolean;
}

// ---- helpers ----

const SEED_BY_TEXT = new Map([...SEEDS, ...VALIDATION_SEEDS].map((s) => [s.text, s]));
/** Every constraint text the generators wrote, so the structurer can attach its check. */
const SPEC_BY_TEXT = new Map<string, RuleSpec>();

function topicOf(seed: SeedRecord): Topic {
  return (SEED_BY_TEXT.get(seed.text) ?? seedFromText(seed.id, seed.text)).topic;
}

/** Numbered constraints; `remember` records each text's spec for the structurer (expansions only). */
function numbered(specs: readonly RuleSpec[], remember: boolean): Constraint[] {
  const cs = specs.map(toConstraint);
  const texts = renumber(cs.map((c) => c.text));
  if (remember)
    cs.forEach((c, i) => {
      SPEC_BY_TEXT.set(c.text, specs[i]!);
    });
  return cs.map((c, i) => ({ ...c, text: texts[i]! }));
}

function specsOf(x: Instruction): RuleSpec[] | undefined {
  const specs = x.constraints.map((c) => parseRuleSpec(c.check));
  return specs.every((s) => s !== undefined) ? (specs as RuleSpec[]) : undefined;
}

/** Drop numeric constraints the responder cannot meet together (latest first) until it can, or give up. */
function feasible(specs: RuleSpec[], topic: Topic, rng: Rng): RuleSpec[] {
  for (let tries = 0; tries < 6; tries++) {
    // Only the verdict matters here: plan() draws from rng exactly as respond() would, without writing.
    const r = plan(specs, topic, rng);
    if (r.ok || r.code !== "unsatisfiable") return specs;
    const kinds = ["paragraph_count", "sentence_count", "word_count", "item_count", "heading_count", "headings"];
    const at = specs.findLastIndex((s) => kinds.includes(s.kind));
    if (at < 0) return specs;
    specs = specs.filter((_, i) => i !== at);
  }
  return specs;
}

/** Constraints a writer adds without saying anything checkable: the completeness stage's offline faults. */
const VAGUE = ["Make it good.", "Follow the usual rules.", "Be as helpful as you can.", "Keep it appropriate."];

/** A task that speaks of "the following …" needs its input. */
const NEEDS_INPUT = /\bthe following\b/i;

/** The forms a taxonomy allows: those whose dimension it has; a ConfigError when none. */
function kindsFor(t: Taxonomy | undefined): readonly RuleKind[] | undefined {
  if (!t || t.builtin) return undefined;
  const kinds = RULE_KINDS.filter((k) => t.findBuiltin(KIND_DIMENSION[k]) !== undefined);
  if (kinds.length === 0)
    throw new ConfigError("the offline world has no constraint form for any dimension of this taxonomy", {
      expected: `one of: ${[...new Set(Object.values(KIND_DIMENSION))].join(", ")}`,
      got: t.dimensions.map((d) => d.name).join(", "),
      hint: "add one of those dimensions to the taxonomy file, or use an LLM endpoint (--base-url)",
    });
  return kinds;
}

function answerKey(x: Instruction): string {
  return `${x.description}\u0000${x.constraints.map((c) => c.text).join("\u0000")}\u0000${x.input}`;
}

/** A deliberate slip: the last line dropped (or the first character, for one-line answers). */
function slip(text: string): string {
  return text.split("\n").slice(0, -1).join("\n") || text.slice(1);
}

// ---- exports ----

export class OfflineRoles implements Roles {
  readonly origin = "offline";
  private readonly seed: number;
  private readonly faultRate: number;
  private readonly slipRate: number;
  private readonly kinds: readonly RuleKind[] | undefined;
  private readonly keywords: { keywords: KeywordPool; keywordWeight?: number };
  private readonly style: { quoteKeywords?: boolean };
  /** Answers already written while rewriting, by instruction content; taken (and removed) by respond. */
  private readonly answers = new Map<string, string>();

  constructor(options: OfflineOptions) {
    this.seed = options.seed;
    this.faultRate = options.faultRate ?? 0.04;
    this.slipRate = options.slipRate ?? 0.04;
    this.kinds = kindsFor(options.taxonomy);
    this.keywords = {
      keywords: options.keywords ?? "topic",
      ...(options.keywordWeight !== undefined && options.keywordWeight !== 1
        ? { keywordWeight: options.keywordWeight }
        : {}),
    };
    this.style = options.quoteKeywords ? { quoteKeywords: true } : {};
  }

  private topic(x: Instruction): Topic {
    return (SEED_BY_TEXT.get(x.description) ?? seedFromText(x.id, x.description)).topic;
  }

  async expand(seed: SeedRecord, target: number, key: string): Promise<StageResult<string>> {
    const rng = Rng.for(this.seed, `expand:${key}`);
    const topic = topicOf(seed);
    const gen = { topic, kinds: this.kinds, ...this.keywords };
    let specs = feasible(sampleSpecs(rng, gen, target), topic, rng);
    if (specs.length === 0) return drop("expand_failed", "no constraint could be drawn");
    let input = seed.input;
    let vague: string | undefined;
    if (rng.chance(this.faultRate)) {
      // A deliberate fault for the quality stages: a repeat (redundancy), a contradicting constraint
      // (contradiction), a vague constraint or a missing input (completeness).
      const fault = rng.int(0, 3);
      if (fault === 0) specs = [...specs, specs[0]!];
      else if (fault === 1) {
        let extra = generateSpec(rng, gen);
        for (let t = 0; t < 8 && findConflicts([...specs, extra], { reserved: RESERVED }).length === 0; t++)
          extra = generateSpec(rng, gen);
        specs = [...specs, extra];
      } else if (fault === 3 && input !== null) input = null;
      else vague = rng.pick(VAGUE);
    }
    const cs = numbered(specs, true);
    const texts = vague ? renumber([...cs.map((c) => c.text), vague]) : cs.map((c) => c.text);
    const constraints = texts.map((text) => ({ text }));
    return ok(renderTracePrompt({ description: seed.text, constraints, input }));
  }

  async structure(flat: string, id: string, _seed: SeedRecord): Promise<StageResult<Instruction>> {
    const parsed = parseTracePrompt(flat);
    const constraints = parsed.constraints.map((text): Constraint => {
      const spec = SPEC_BY_TEXT.get(text.replace(/^\d+\.\s*/, ""));
      return spec ? { ...toConstraint(spec), text } : { text };
    });
    return ok({ id, description: parsed.description, constraints, input: parsed.input, lang: "en" });
  }

  async respond(x: Instruction, key: string): Promise<StageResult<string>> {
    const rng = Rng.for(this.seed, `respond:${key}`);
    const ready = this.answers.get(answerKey(x));
    if (ready !== undefined) {
      this.answers.delete(answerKey(x));
      return ok(rng.chance(this.slipRate) ? slip(ready) : ready);
    }
    const specs = specsOf(x);
    if (!specs) return drop("respond_failed", "the offline responder needs a rule check on every constraint");
    const r = respond(specs, this.topic(x), rng, this.style);
    if (!r.ok) return drop(r.code === "conflict" ? "conflict" : "unsatisfiable", r.reason);
    return ok(rng.chance(this.slipRate) ? slip(r.text) : r.text);
  }

  async judge(x: Instruction, response: string, indices: readonly number[]): Promise<StageResult<number[]>> {
    // The offline judge is the rule checker; a constraint without one cannot be judged offline.
    const v = checkResponse(x, response);
    const scores = indices.map((i) => v.constraints[i]!.ok);
    if (scores.some((s) => s === null)) return drop("judge_failed", "offline judge has no rule for a constraint");
    return ok(scores.map((s) => (s ? 10 : 0)));
  }

  async rewrite(
    x1: Instruction,
    y1: string,
    op: RewriteOp,
    key: string,
    breakX1 = false,
  ): Promise<StageResult<Rewrite>> {
    const specs = specsOf(x1);
    if (!specs) return drop("rewrite_failed", "offline rewriter needs rule checks");
    const rng = Rng.for(this.seed, `rewrite:${key}`);
    const topic = this.topic(x1);
    const prefer = (y1.toLowerCase().match(/[a-z]{3,}/g) ?? []).filter((w) => !RESERVED.has(w));
    for (let tries = 0; tries < 24; tries++) {
      const at = rng.int(0, specs.length - 1);
      const fresh = generateSpec(
        rng,
        { topic, prefer, kinds: this.kinds, ...this.keywords },
        op === "revise" ? specs[at]!.kind : undefined,
      );
      // Cheap test first: unchanged constraints still hold for y1, so the new one must fail it.
      if (checkRule(y1, fresh).ok) continue;
      let next: RuleSpec[];
      let changed: { x1: number[]; x2: number[] };
      if (op === "add") {
        next = [...specs, fresh];
        changed = { x1: [], x2: [specs.length] };
      } else if (op === "revise") {
        next = specs.map((s, i) => (i === at ? fresh : s));
        changed = { x1: [at], x2: [at] };
      } else {
        // Deleting alone only loosens x1 (y1 would still comply), so DELETE removes up to two constraints and
        // puts one new constraint y1 violates in their place: x2 is one shorter.
        const gone = rng.sample([...specs.keys()], Math.min(2, specs.length)).sort((a, b) => a - b);
        const kept = specs.filter((_, i) => !gone.includes(i));
        const pos = rng.int(0, kept.length);
        next = [...kept.slice(0, pos), fresh, ...kept.slice(pos)];
        changed = { x1: gone, x2: [pos] };
      }
      if (findConflicts(next, { reserved: RESERVED }).length > 0) continue;
      // Conflicts were just checked. The responder's own check stays on: on a (rare) miss, another try.
      const probe = respond(next, topic, Rng.for(this.seed, `probe:${key}`), { ...this.style, conflictFree: true });
      if (!probe.ok) continue;
      // Asked for y2 ⊭ x1: the answer to x2 meets every kept constraint, so one removed or revised constraint
      // of x1 must fail it. (ADD keeps all of x1: it can never, so it is not held to this.)
      if (breakX1 && op !== "add" && changed.x1.every((i) => checkRule(probe.text, specs[i]!).ok)) continue;
      const x2: Instruction = { ...x1, id: `${x1.id}~${op}`, constraints: numbered(next, false) };
      // The probe is a valid answer to x2: the responder role hands it out for x2 instead of writing another.
      this.answers.set(answerKey(x2), probe.text);
      return ok({ x2, changed });
    }
    const what = breakX1 && op !== "add" ? "that y1 violates and whose answer violates x1" : "that y1 violates";
    return drop("rewrite_failed", `no ${op} rewrite ${what} within 24 tries`);
  }

  async qc(aspect: QcAspect, x: Instruction): Promise<StageResult<string[]>> {
    // The shared static rules already ran; the offline world adds what only it can tell by rule.
    if (aspect !== "completeness") return ok([]);
    const out: string[] = [];
    if (NEEDS_INPUT.test(x.description) && x.input === null)
      out.push("the task refers to an input text, but none is given");
    x.constraints.forEach((c, i) => {
      if (!c.check) out.push(`constraint ${i + 1} is vague: it names nothing that could be checked`);
    });
    return ok(out);
  }

  async repair(aspect: QcAspect, x: Instruction): Promise<StageResult<Instruction>> {
    if (aspect === "completeness") {
      if (x.description.trim() === "" || (NEEDS_INPUT.test(x.description) && x.input === null))
        return drop("incomplete", "the offline world cannot write a missing task or input");
      const keep = x.constraints.flatMap((c, i) => (c.check ? [i] : []));
      if (keep.length === 0) return drop("incomplete", "no checkable constraint is left");
      return ok(keepOnly(x, keep));
    }
    // Redundancy: the stage removes repeats itself. Contradiction: drop the later constraint of each
    // contradicting pair until none is left (at most three).
    let y = x;
    for (let t = 0; t < 3 && aspect === "contradiction"; t++) {
      const c = contradictions(y)[0];
      if (!c) break;
      const j = c.j;
      y = keepOnly(
        y,
        y.constraints.flatMap((_, i) => (i === j ? [] : [i])),
      );
    }
    return y.constraints.length > 0
      ? ok(y)
      : drop(aspect === "contradiction" ? "contradictory" : "redundant", "no constraint is left");
  }

  async rationality(_g: unknown, known: Relations): Promise<StageResult<RationalityVerdict>> {
    // By rule: the checkers' relations are the offline judge's; y2 follows x2 better than y1 exactly when it
    // meets all of x2 and y1 does not.
    return ok({ relations: known, y2_better_for_x2: known.y2_x2 && !known.y1_x2 });
  }

  async worsen(x: Instruction, y: string, key: string): Promise<StageResult<string>> {
    const specs = specsOf(x);
    if (!specs) return drop("no_worse_response", "offline worsen needs rule checks");
    const rng = Rng.for(this.seed, `worsen:${key}`);
    const topic = this.topic(x);
    for (let tries = 0; tries < 8; tries++) {
      // The responder answers a neighbour of x: one or two of its constraints revised (same form, other
      // parameters); kept when the answer now fails x.
      const at = new Set(rng.sample([...specs.keys()], rng.int(1, Math.min(2, specs.length))));
      const next = specs.map((s, i) => (at.has(i) ? generateSpec(rng, { topic, ...this.keywords }, s.kind) : s));
      // Checked against x right here; whether it fits `next` does not matter.
      const r = respond(next, topic, rng, { ...this.style, verify: false });
      if (r.ok && r.text !== y && checkResponse(x, r.text).all_ok === false) return ok(r.text);
    }
    return drop("no_worse_response", "no neighbour response violated x within 8 tries");
  }
}

/** The offline world's seeds as seed records. */
export function offlineSeeds(): SeedRecord[] {
  return SEEDS.map((s: Seed) => ({ id: s.id, text: s.text, input: s.input }));
}

export { describeSpec };
