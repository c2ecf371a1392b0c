// Gathers what the HTML report shows from a run directory: results, the training curves of metrics.jsonl, and a
// few example generations (the same held-out items for every model: single- and multi-constraint ones alternately).

import { existsSync } from "node:fs";
import { readJsonFile, readLines, renderTracePrompt } from "../io/index.ts";
import type { Curves, Example, ReportData, Rewards } from "../report/index.ts";
import { DemoConfigSchema, MODELS } from "./config.ts";
import { layout } from "./phases.ts";
import type { Generation, Results } from "./results.ts";

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

// ---- exports ----

export async function reportData(
  dir: string,
  results: Results,
  generations: Readonly<Record<string, readonly Generation[]>>,
): Promise<ReportData> {
  const L = layout(dir);
  const config = await readJsonFile(L.config, DemoConfigSchema);
  const names = MODELS.filter((m) => results.models[m]);
  const byId = Object.fromEntries(names.map((m) => [m, new Map(generations[m]!.map((g) => [g.id, g]))]));
  const ids = names.length ? pickExamples(generations[names[0]!]!, config.examples) : [];
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
  const m = config.model;
  return {
    title: "iopo demo report",
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    seed: results.seed,
    profile: results.profile,
    models: names.map((n) => ({
      name: n,
      items: results.models[n]!.items,
      hitTokenLimit: results.models[n]!.hit_token_limit,
      scores: results.models[n]!.scores,
    })),
    sizes: results.sizes,
    training: {
      ...results.training,
      sft_batch: config.sft.batch,
      pref_batch: config.pref.batch,
      max_tokens: config.max_tokens,
    },
    modelDescription: `${results.sizes.parameters.toLocaleString("en")}-parameter ${m.arch} (${m.layers} × ${m.hidden})`,
    timings: results.timings,
    curves: await Promise.all(MODELS.map((n) => curves(`${L.train(n)}/metrics.jsonl`, n))),
    examples,
  };
}
