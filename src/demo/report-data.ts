// Gathers what the HTML report shows from a run directory: the multi-seed results with their intervals and token
// counts, breakdowns pooled over seeds, the training curves of the first seed's runs (metrics.jsonl), and a few
// example generations of the first seed (the same held-out items for every model, single- and multi-constraint).

import { existsSync } from "node:fs";
import type { trace } from "../evaluate/index.ts";
import { readJsonFile, readLines, renderTracePrompt } from "../io/index.ts";
import type { Curves, Example, ReportData, Rewards } from "../report/index.ts";
import { DemoConfigSchema, METHOD_SPECS, type MethodName } from "./config.ts";
import { layout } from "./phases.ts";
import type { Generation, Results } from "./results.ts";

type Ratio = trace.Ratio;

// ---- helpers ----

async function curves(path: string, method: string): Promise<Curves> {
  const c = {
    method,
    step: [] as number[],
    loss: [] as number[],
    margins: [] as number[],
    accuracies: [] as number[],
    rewards: [] as Rewards[],
  };
  if (!existsSync(path)) return c;
  for await (const { text } of readLines(path)) {
    if (!text.trim()) continue;
    const m = JSON.parse(text) as Record<string, number>;
    c.step.push(m.step!);
    c.loss.push(m.loss!);
    if (m["rewards/margins"] !== undefined) c.margins.push(m["rewards/margins"]);
    if (m["rewards/accuracies"] !== undefined) c.accuracies.push(m["rewards/accuracies"]);
    if (m["rewards/y1x1"] !== undefined)
      c.rewards.push({ a: m["rewards/y1x1"], b: m["rewards/y2x1"]!, c: m["rewards/y2x2"]!, d: m["rewards/y1x2"]! });
  }
  return c;
}

/** `n` item ids, alternating single- and multi-constraint items, in eval order. */
function pickExamples(gens: readonly Generation[], n: number): string[] {
  const single = gens.filter((g) => g.instruction.constraints.length === 1).map((g) => g.id);
  const multi = gens.filter((g) => g.instruction.constraints.length > 1).map((g) => g.id);
  const out: string[] = [];
  for (let i = 0; out.length < n && (i < single.length || i < multi.length); i++) {
    if (i < multi.length && out.length < n) out.push(multi[i]!);
    if (i < single.length && out.length < n) out.push(single[i]!);
  }
  return out;
}

/** Ratios summed over seeds (a breakdown pooled over every run of a method). */
function pool(rs: readonly Readonly<Record<string, Ratio>>[]): Record<string, Ratio> {
  const out: Record<string, Ratio> = {};
  for (const r of rs)
    for (const [k, v] of Object.entries(r)) {
      const o = (out[k] ??= { correct: 0, total: 0, accuracy: null });
      o.correct += v.correct;
      o.total += v.total;
      o.accuracy = o.total ? o.correct / o.total : null;
    }
  return out;
}

// ---- exports ----

export async function reportData(
  dir: string,
  results: Results,
  generations: Readonly<Record<string, Readonly<Record<string, readonly Generation[]>>>>,
): Promise<ReportData> {
  const L = layout(dir);
  const config = await readJsonFile(L.config, DemoConfigSchema);
  const names = results.methods;
  const first = results.seeds[0] ?? config.seed;
  const gens0 = generations[first] ?? {};
  const byId = Object.fromEntries(names.map((m) => [m, new Map((gens0[m] ?? []).map((g) => [g.id, g]))]));
  const ids = names.length && gens0[names[0]!] ? pickExamples(gens0[names[0]!]!, config.examples) : [];
  const examples: Example[] = ids.map((id) => ({
    id,
    prompt: renderTracePrompt(byId[names[0]!]!.get(id)!.instruction),
    outputs: Object.fromEntries(
      names.flatMap((m) => {
        const g = byId[m]!.get(id);
        return g ? [[m, { response: g.response, finish: g.finish, allOk: g.all_ok, verdicts: g.verdicts }]] : [];
      }),
    ),
  }));
  const runsOf = (m: string) => results.seeds.map((s) => results.runs[s]?.[m]).filter((r) => r !== undefined);
  const m = config.model;
  return {
    title: "iopo demo report",
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    seeds: results.seeds,
    profile: results.profile,
    labels: Object.fromEntries(names.map((n) => [n, METHOD_SPECS[n as MethodName].label])),
    methods: names.map((n) => {
      const s = results.summary[n]!;
      const rs = runsOf(n);
      return {
        name: n,
        metrics: s.metrics,
        repetition: s.repetition_share,
        tokensPrompt: s.tokens_prompt,
        tokensResponse: s.tokens_response,
        hitTokenLimit: rs.reduce((a, r) => a + r.hit_token_limit, 0),
        items: rs.reduce((a, r) => a + r.items, 0),
        byDimension: pool(rs.map((r) => r.scores.by_dimension)),
        byCount: pool(rs.map((r) => r.scores.by_count)),
      };
    }),
    evalSingle: results.sizes.eval_single,
    evalMulti: results.sizes.eval_multi,
    comparisons: results.comparisons.map((c) => ({
      a: c.a,
      b: c.b,
      metric: c.metric,
      diff: c.diff,
      lo: c.lo,
      hi: c.hi,
      n: c.n,
      perSeed: c.per_seed,
      verdict: c.verdict,
    })),
    ordering: results.ordering,
    bootstrap: results.bootstrap,
    sizes: results.sizes,
    training: results.training,
    modelDescription: `${results.sizes.parameters.toLocaleString("en")}-parameter ${m.arch} (${m.layers} × ${m.hidden})`,
    timings: results.timings,
    totalSeconds: results.total_seconds,
    totalCpuSeconds: results.total_cpu_seconds,
    curvesSeed: first,
    curves: await Promise.all(names.map((n) => curves(`${L.train(first, n)}/metrics.jsonl`, n))),
    examples,
  };
}
