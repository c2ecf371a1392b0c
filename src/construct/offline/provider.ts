// The offline world as a construction provider: plays expander, structurer, responder, judge (rule checkers)
// and rewriter with seeded generators — no network, byte-for-byte reproducible for a given seed.

import { checkResponse, checkRule, findConflicts, parseRuleSpec, type RuleSpec } from "../../checks/rules/index.ts";
import { parseTracePrompt, renderTracePrompt, renumber } from "../../io/layout.ts";
import type { Constraint, Instruction, RewriteOp } from "../../schema/index.ts";
import { drop, ok, type Rewrite, type Roles, type SeedRecord, type StageResult } from "../roles.ts";
import { describeSpec, generateSpec, sampleSpecs, toConstraint } from "./generators.ts";
import { plan, respond } from "./responder.ts";
import { Rng } from "./rng.ts";
import { SEEDS, type Seed, seedFromText } from "./seeds.ts";
import { RESERVED, type Topic } from "./vocab.ts";

// ---- types ----

export interface OfflineOptions {
  /** Run seed: every record draws from its own stream under it. */
  readonly seed: number;
  /** Share of expansions that get a deliberate fault (a repeated or a conflicting constraint). @default 0.04 */
  readonly faultRate?: number;
  /** Share of responses with a deliberate slip (last line dropped), for the judge to catch. @default 0.04 */
  readonly slipRate?: number;
}

// ---- helpers ----

const SEED_BY_TEXT = new Map(SEEDS.map((s) => [s.text, s]));
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
  /** Answers already written while rewriting, by instruction content; taken (and removed) by respond. */
  private readonly answers = new Map<string, string>();

  constructor(options: OfflineOptions) {
    this.seed = options.seed;
    this.faultRate = options.faultRate ?? 0.04;
    this.slipRate = options.slipRate ?? 0.04;
  }

  private topic(x: Instruction): Topic {
    return (SEED_BY_TEXT.get(x.description) ?? seedFromText(x.id, x.description)).topic;
  }

  async expand(seed: SeedRecord, target: number, key: string): Promise<StageResult<string>> {
    const rng = Rng.for(this.seed, `expand:${key}`);
    const topic = topicOf(seed);
    let specs = feasible(sampleSpecs(rng, { topic }, target), topic, rng);
    if (rng.chance(this.faultRate) && specs.length > 0) {
      // A deliberate fault for the control stage: a repeated constraint or a contradicting one.
      const extra: RuleSpec = rng.chance(0.5) ? specs[0]! : generateSpec(rng, { topic });
      specs = [...specs, extra];
    }
    if (specs.length === 0) return drop("expand_failed", "no constraint could be drawn");
    return ok(renderTracePrompt({ description: seed.text, constraints: numbered(specs, true), input: seed.input }));
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
    const r = respond(specs, this.topic(x), rng);
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

  async rewrite(x1: Instruction, y1: string, op: RewriteOp, key: string): Promise<StageResult<Rewrite>> {
    const specs = specsOf(x1);
    if (!specs) return drop("rewrite_failed", "offline rewriter needs rule checks");
    const rng = Rng.for(this.seed, `rewrite:${key}`);
    const topic = this.topic(x1);
    const prefer = (y1.toLowerCase().match(/[a-z]{3,}/g) ?? []).filter((w) => !RESERVED.has(w));
    for (let tries = 0; tries < 24; tries++) {
      const at = rng.int(0, specs.length - 1);
      const fresh = generateSpec(rng, { topic, prefer }, op === "revise" ? specs[at]!.kind : undefined);
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
      const probe = respond(next, topic, Rng.for(this.seed, `probe:${key}`), { conflictFree: true });
      if (!probe.ok) continue;
      const x2: Instruction = { ...x1, id: `${x1.id}~${op}`, constraints: numbered(next, false) };
      // The probe is a valid answer to x2: the responder role hands it out for x2 instead of writing another.
      this.answers.set(answerKey(x2), probe.text);
      return ok({ x2, changed });
    }
    return drop("rewrite_failed", `no ${op} rewrite that y1 violates within 24 tries`);
  }

  async worsen(x: Instruction, y: string, key: string): Promise<StageResult<string>> {
    const specs = specsOf(x);
    if (!specs) return drop("no_worse_response", "offline worsen needs rule checks");
    const rng = Rng.for(this.seed, `worsen:${key}`);
    for (let tries = 0; tries < 8; tries++) {
      // Answer a neighbour instruction: one constraint revised; keep it if it now fails x.
      const at = rng.int(0, specs.length - 1);
      const next = specs.map((s, i) => (i === at ? generateSpec(rng, { topic: this.topic(x) }, s.kind) : s));
      // Checked against x right here; whether it fits `next` does not matter.
      const r = respond(next, this.topic(x), rng, { verify: false });
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
