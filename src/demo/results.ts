// Generation records (one per held-out instruction, model and seed, with the rule checkers' per-constraint verdicts)
// and the results computed from them: TRACE metric arithmetic per run (a verdict ok → 10, not ok → 0), the share of
// degenerate generations, the tokens each run trained on, means over seeds, and paired bootstrap intervals for the
// comparisons the paper makes. Pure: no I/O, so a test can recompute results.json from the saved files.

import { z } from "zod";
import { trace } from "../evaluate/index.ts";
import { type Interval, type PairedItem, pairedBootstrap, randomResamples, verdictOf } from "../report/index.ts";
import { InstructionSchema } from "../schema/index.ts";
import { type DemoConfig, METHOD_SPECS, type MethodName } from "./config.ts";

type TraceScores = trace.TraceScores;
const { traceScores } = trace;

// ---- types ----

export const VerdictSchema = z.object({
  text: z.string(),
  type: z.string().optional(),
  /** null: no rule checker for this constraint (the item is then left out of the scores, as a judge failure). */
  ok: z.boolean().nullable(),
  /** The checker's issues in words, when it failed (e.g. "missing_keyword: expected panels"). */
  why: z.string().optional(),
});

export const GenerationSchema = z.object({
  id: z.string().min(1),
  model: z.string().min(1),
  seed: z.number().int().nonnegative(),
  instruction: InstructionSchema,
  response: z.string(),
  finish: z.enum(["stop", "length"]),
  completion_tokens: z.number().int().nonnegative(),
  verdicts: z.array(VerdictSchema),
  all_ok: z.boolean(),
});
export type Generation = z.infer<typeof GenerationSchema>;

/** Tokens a training run computed its loss on, summed over its steps (metrics.jsonl). */
export interface TokenCount {
  prompt: number;
  response: number;
  steps: number;
}

export interface ModelResult {
  /** Generations scored (items). */
  items: number;
  /** Generations that ended at the token limit instead of the end-of-sequence token. */
  hit_token_limit: number;
  /** Generations in which some word 4-gram occurs three or more times. */
  repetition: { repeating: number; total: number; share: number };
  scores: TraceScores;
  /** What this run trained on (null when its metrics are missing). */
  tokens: TokenCount | null;
}

export const METRICS = ["if_s", "if_m", "constraint_level"] as const;
export type Metric = (typeof METRICS)[number];

export interface MethodSummary {
  seeds: number;
  /** Mean over seeds of each metric's accuracy, with the per-seed values. */
  metrics: Record<Metric, { mean: number | null; per_seed: (number | null)[] }>;
  repetition_share: number;
  /** Mean over seeds of the tokens each run trained on. */
  tokens_prompt: number | null;
  tokens_response: number | null;
}

export interface Comparison extends Interval {
  a: MethodName;
  b: MethodName;
  metric: Metric;
  /** a − b of the metric in each seed. */
  per_seed: (number | null)[];
  verdict: ReturnType<typeof verdictOf>;
}

export interface Results {
  format: "iopo-demo-results";
  version: 2;
  seed: number;
  seeds: number[];
  profile: string;
  methods: MethodName[];
  sizes: {
    sft_examples: number;
    iopo_groups: number;
    dpo_pairs: number;
    eval_items: number;
    eval_single: number;
    eval_multi: number;
    parameters: number;
    vocab_size: number;
    /** The shipped base's own SFT (examples, steps), when the runs start from it. */
    base_sft_examples?: number;
    base_sft_steps?: number;
  };
  training: Record<string, number>;
  /** seed → method → result. */
  runs: Record<string, Record<string, ModelResult>>;
  summary: Record<string, MethodSummary>;
  /** Paired bootstrap over held-out items, seeds averaged within an item (docs/demo.md, "Statistics"). */
  comparisons: Comparison[];
  bootstrap: { resamples: number; seed: number; level: number; unit: string };
  /** Does the paper's ordering IOPO > DPO > SFT hold, per metric (both intervals above 0)? */
  ordering: Record<Metric, { holds: boolean; iopo_dpo: string; dpo_sft: string }>;
  /** Seconds per phase, in run order (a skipped phase keeps the time it took when it ran). */
  timings: Record<string, number>;
  total_seconds: number;
  /** CPU seconds per phase and their sum: on an idle 2-core machine the wall time lies between total/2 and total. */
  cpu_timings: Record<string, number>;
  total_cpu_seconds: number;
}

// ---- helpers ----

/** Pairs compared with intervals: the issue's three plus DPO − SFT for the ordering. */
export const COMPARISONS: readonly (readonly [MethodName, MethodName])[] = [
  ["iopo", "dpo"],
  ["iopo", "dpo-star"],
  ["iopo", "sft"],
  ["dpo", "sft"],
];

const mean = (xs: readonly (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/** Per item of one method and seed: [is single, all ok, constraints ok, constraints] (null: unscorable). */
function itemCounts(g: Generation): { single: boolean; ok: number; sat: number; cons: number } | null {
  if (g.verdicts.some((v) => v.ok === null)) return null;
  return {
    single: g.verdicts.length === 1,
    ok: g.all_ok ? 1 : 0,
    sat: g.verdicts.filter((v) => v.ok).length,
    cons: g.verdicts.length,
  };
}

/** The paired items of metric `m` for methods a and b: counts averaged over the seeds where both have the item. */
export function pairedItems(
  gens: Readonly<Record<string, Readonly<Record<string, readonly Generation[]>>>>,
  seeds: readonly number[],
  a: string,
  b: string,
  m: Metric,
): PairedItem[] {
  const byId = (s: number, meth: string) => new Map((gens[s]?.[meth] ?? []).map((g) => [g.id, g]));
  const maps = seeds.map((s) => [byId(s, a), byId(s, b)] as const);
  const ids = (gens[seeds[0]!]?.[a] ?? []).map((g) => g.id);
  const out: PairedItem[] = [];
  for (const id of ids) {
    let sa = 0;
    let sb = 0;
    let d = 0;
    let k = 0;
    let skip = false;
    for (const [ma, mb] of maps) {
      const ga = ma.get(id);
      const gb = mb.get(id);
      const ca = ga ? itemCounts(ga) : null;
      const cb = gb ? itemCounts(gb) : null;
      if (!ca || !cb) {
        skip = true;
        break;
      }
      if (m === "if_s" && !ca.single) skip = true;
      if (m === "if_m" && ca.single) skip = true;
      if (skip) break;
      sa += m === "constraint_level" ? ca.sat : ca.ok;
      sb += m === "constraint_level" ? cb.sat : cb.ok;
      d = m === "constraint_level" ? ca.cons : 1;
      k++;
    }
    if (!skip && k > 0) out.push({ a: sa / k, b: sb / k, d });
  }
  return out;
}

// ---- exports ----

/** True when some 4-gram of lower-cased whitespace-separated words occurs three or more times (overlaps count). */
export function repeats4gram(text: string): boolean {
  const w = text.toLowerCase().split(/\s+/).filter(Boolean);
  const seen = new Map<string, number>();
  for (let i = 0; i + 4 <= w.length; i++) {
    const k = w.slice(i, i + 4).join(" ");
    const c = (seen.get(k) ?? 0) + 1;
    if (c >= 3) return true;
    seen.set(k, c);
  }
  return false;
}

/** Rule verdicts → TRACE-style scores: 10 when satisfied, 0 when not; null (unscorable item) when any has no rule. */
export function scoresOf(g: Pick<Generation, "verdicts">): number[] | null {
  if (g.verdicts.some((v) => v.ok === null)) return null;
  return g.verdicts.map((v) => (v.ok ? 10 : 0));
}

/** The TRACE scores of one model's generations, with repetition and the tokens it trained on. */
export function modelResult(gens: readonly Generation[], tokens: TokenCount | null = null): ModelResult {
  const repeating = gens.filter((g) => repeats4gram(g.response)).length;
  return {
    items: gens.length,
    hit_token_limit: gens.filter((g) => g.finish === "length").length,
    repetition: { repeating, total: gens.length, share: gens.length ? repeating / gens.length : 0 },
    scores: traceScores(gens.map((g) => ({ instruction: g.instruction, scores: scoresOf(g) }))),
    tokens,
  };
}

export interface ResultInputs {
  sizes: Results["sizes"];
  /** seed → method → generations. */
  generations: Readonly<Record<string, Readonly<Record<string, readonly Generation[]>>>>;
  /** seed → method → tokens trained on. */
  tokens: Readonly<Record<string, Readonly<Record<string, TokenCount | null>>>>;
  timings: Record<string, number>;
  /** CPU seconds per phase (user + system, every thread). */
  cpuTimings: Record<string, number>;
}

/** results.json from the generations of every run plus the data sizes, token counts and timings. */
export function computeResults(config: DemoConfig, inp: ResultInputs): Results {
  const seeds = Array.from({ length: config.seeds }, (_, k) => config.seed + k).filter(
    (s) => inp.generations[s] !== undefined,
  );
  const methods = config.methods.filter((m) => seeds.some((s) => inp.generations[s]?.[m]));
  const runs: Results["runs"] = {};
  for (const s of seeds) {
    runs[s] = {};
    for (const m of methods) {
      const g = inp.generations[s]?.[m];
      if (g) runs[s][m] = modelResult(g, inp.tokens[s]?.[m] ?? null);
    }
  }
  const summary: Results["summary"] = {};
  for (const m of methods) {
    const rs = seeds.map((s) => runs[s]![m]).filter((r): r is ModelResult => r !== undefined);
    const metric = (k: Metric) => {
      const per = rs.map((r) => r.scores[k].accuracy);
      return { mean: mean(per), per_seed: per };
    };
    const tok = rs.map((r) => r.tokens);
    summary[m] = {
      seeds: rs.length,
      metrics: { if_s: metric("if_s"), if_m: metric("if_m"), constraint_level: metric("constraint_level") },
      repetition_share: mean(rs.map((r) => r.repetition.share)) ?? 0,
      tokens_prompt: tok.every((t) => t) ? mean(tok.map((t) => t!.prompt)) : null,
      tokens_response: tok.every((t) => t) ? mean(tok.map((t) => t!.response)) : null,
    };
  }
  const level = 0.95;
  const comparisons: Comparison[] = [];
  for (const [a, b] of COMPARISONS) {
    if (!methods.includes(a) || !methods.includes(b)) continue;
    for (const [k, metric] of METRICS.entries()) {
      const items = pairedItems(inp.generations, seeds, a, b, metric);
      const ci = pairedBootstrap(
        items,
        randomResamples(items.length, config.bootstrap.resamples, config.bootstrap.seed + k),
        level,
      );
      if (!ci) continue;
      const per = seeds.map((s) => {
        const x = runs[s]?.[a]?.scores[metric].accuracy;
        const y = runs[s]?.[b]?.scores[metric].accuracy;
        return x === null || x === undefined || y === null || y === undefined ? null : x - y;
      });
      comparisons.push({ a, b, metric, ...ci, per_seed: per, verdict: verdictOf(ci) });
    }
  }
  const find = (a: string, b: string, m: Metric) => comparisons.find((c) => c.a === a && c.b === b && c.metric === m);
  const ordering = Object.fromEntries(
    METRICS.map((m) => {
      const x = find("iopo", "dpo", m);
      const y = find("dpo", "sft", m);
      return [
        m,
        {
          holds: x?.verdict === "higher" && y?.verdict === "higher",
          iopo_dpo: x?.verdict ?? "not run",
          dpo_sft: y?.verdict ?? "not run",
        },
      ];
    }),
  ) as Results["ordering"];
  const c = config;
  return {
    format: "iopo-demo-results",
    version: 2,
    seed: c.seed,
    seeds,
    profile: c.profile,
    methods,
    sizes: inp.sizes,
    training: {
      sft_steps: c.sft.steps,
      sft_lr: c.sft.lr,
      sft_batch: c.sft.batch,
      pref_steps: c.pref.steps,
      pref_lr: c.pref.lr,
      pref_batch: c.pref.batch,
      beta: c.pref.beta,
      simpo_beta: c.simpo.beta,
      simpo_gamma: c.simpo.gamma,
      orpo_lambda: c.orpo.lambda,
      max_tokens: c.max_tokens,
    },
    runs,
    summary,
    comparisons,
    bootstrap: {
      resamples: c.bootstrap.resamples,
      seed: c.bootstrap.seed,
      level,
      unit: "held-out item (paired: both methods and every seed of an item resampled together)",
    },
    ordering,
    timings: inp.timings,
    total_seconds: Object.values(inp.timings).reduce((x, y) => x + y, 0),
    cpu_timings: inp.cpuTimings,
    total_cpu_seconds: Object.values(inp.cpuTimings).reduce((x, y) => x + y, 0),
  };
}

// ---- printing ----

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "-" : (100 * x).toFixed(1));
const pp = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
const label = (m: string) => METHOD_SPECS[m as MethodName]?.label ?? m;
const kTok = (x: number | null) => (x === null ? "-" : `${(x / 1000).toFixed(0)}k`);

/** The terminal tables: means over seeds (per-seed values), tokens, repetition; then the intervals. */
export function formatResults(r: Results): string {
  const rows: string[] = [
    `held-out: ${r.sizes.eval_single} single- + ${r.sizes.eval_multi} multi-constraint instructions; seeds ${r.seeds.join(", ")}; mean over seeds (per seed)`,
    `${"method".padEnd(18)}${"IF-S".padEnd(24)}${"IF-M".padEnd(24)}${"constraint level".padEnd(24)}${"4-gram rep.".padEnd(13)}tokens prompt / response`,
  ];
  for (const m of r.methods) {
    const s = r.summary[m]!;
    const cell = (k: Metric) =>
      `${pct(s.metrics[k].mean)} (${s.metrics[k].per_seed.map((x) => pct(x)).join("/")})`.padEnd(24);
    rows.push(
      `${label(m).padEnd(18)}${cell("if_s")}${cell("if_m")}${cell("constraint_level")}${`${pct(s.repetition_share)}%`.padEnd(13)}${kTok(s.tokens_prompt)} / ${kTok(s.tokens_response)}`,
    );
  }
  rows.push(
    "",
    `paired bootstrap ${100 * r.bootstrap.level}% intervals (${r.bootstrap.resamples} resamples over items, seeds averaged), points`,
  );
  for (const c of r.comparisons)
    rows.push(
      `  ${`${label(c.a)} − ${label(c.b)}`.padEnd(18)}${c.metric.padEnd(18)}${pp(c.diff).padStart(6)} [${pp(c.lo)}, ${pp(c.hi)}]  ${c.verdict}`,
    );
  for (const m of METRICS) {
    const o = r.ordering[m];
    rows.push(
      `IOPO > DPO > SFT on ${m}: ${o.holds ? "holds" : "does not hold"} (IOPO vs DPO: ${o.iopo_dpo}; DPO vs SFT: ${o.dpo_sft})`,
    );
  }
  return rows.join("\n");
}
