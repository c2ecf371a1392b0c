// The report's tables: the multi-seed results (mean over seeds, per-seed values, tokens trained on, repetition),
// the paired bootstrap intervals with their reading, the paper's ordering checked against them, and the paper's
// Table 1 for reference. Every string is escaped; pure functions of ReportData.

import { esc } from "./svg.ts";

// ---- types ----

/** The subset of the report data the tables read (ReportData in html.ts satisfies it). */
export interface TableData {
  readonly labels: Readonly<Record<string, string>>;
  readonly seeds: readonly number[];
  readonly modelDescription: string;
  readonly evalSingle: number;
  readonly evalMulti: number;
  readonly methods: readonly {
    name: string;
    metrics: Readonly<Record<TableMetric, { mean: number | null; per_seed: readonly (number | null)[] }>>;
    repetition: number;
    tokensPrompt: number | null;
    tokensResponse: number | null;
    hitTokenLimit: number;
    items: number;
  }[];
  readonly comparisons: readonly {
    a: string;
    b: string;
    metric: TableMetric;
    diff: number;
    lo: number;
    hi: number;
    n: number;
    perSeed: readonly (number | null)[];
    verdict: string;
  }[];
  readonly ordering: Readonly<Record<TableMetric, { holds: boolean; iopo_dpo: string; dpo_sft: string }>>;
  readonly bootstrap: { readonly resamples: number; readonly level: number; readonly unit: string };
}
export type TableMetric = "if_s" | "if_m" | "constraint_level";

// ---- helpers ----

const METRIC_NAMES: Readonly<Record<TableMetric, string>> = {
  if_s: "IF-S",
  if_m: "IF-M",
  constraint_level: "constraint level",
};
const p1 = (x: number | null | undefined) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1));
const pp = (x: number) => `${x > 0 ? "+" : x < 0 ? "−" : "±"}${Math.abs(100 * x).toFixed(1)}`;
const thousands = (x: number | null) => (x === null ? "–" : Math.round(x).toLocaleString("en"));

// ---- exports ----

/** The paper's Table 1 (TRACE, LLM judge) — for reference only: 7B/8B models, not this run. */
export const PAPER_TABLE1 = [
  { model: "Qwen2-7B", method: "SFT", if_s: 76.0, if_m: 56.1 },
  { model: "Qwen2-7B", method: "DPO", if_s: 79.0, if_m: 67.2 },
  { model: "Qwen2-7B", method: "IOPO", if_s: 82.0, if_m: 68.9 },
  { model: "Llama3.1-8B", method: "SFT", if_s: 75.5, if_m: 62.9 },
  { model: "Llama3.1-8B", method: "DPO", if_s: 79.0, if_m: 69.2 },
  { model: "Llama3.1-8B", method: "IOPO", if_s: 81.5, if_m: 70.7 },
] as const;

export function paperTable(): string {
  const rows = PAPER_TABLE1.map(
    (r) =>
      `<tr><td class="l">${r.model}</td><td class="l">${r.method}</td><td>${r.if_s.toFixed(1)}</td><td>${r.if_m.toFixed(1)}</td></tr>`,
  ).join("");
  return (
    `<table class="paper" id="paper"><caption>The paper's Table 1, TRACE (Zhang et al. 2024, arXiv:2411.06208) — ` +
    `7B/8B models judged by an LLM; for reference, not this run's numbers</caption>` +
    `<tr><th class="l">model</th><th class="l">method</th><th>IF-S</th><th>IF-M</th></tr>${rows}</table>`
  );
}

/** One row per method: each metric's mean over seeds (best in bold) with the per-seed values, tokens, repetition. */
export function resultsTable(d: TableData): string {
  const metrics = Object.keys(METRIC_NAMES) as TableMetric[];
  const best = (k: TableMetric) => Math.max(...d.methods.map((m) => m.metrics[k].mean ?? -1));
  const rows = d.methods
    .map((m) => {
      const cells = metrics
        .map((k) => {
          const v = m.metrics[k];
          const b = v.mean !== null && v.mean === best(k) ? " best" : "";
          return (
            `<td class="num${b}" data-metric="${k}">${p1(v.mean)}` +
            `<div class="seeds">${esc(v.per_seed.map((x) => p1(x)).join(" / "))}</div></td>`
          );
        })
        .join("");
      return (
        `<tr data-model="${esc(m.name)}"><td class="l">${esc(d.labels[m.name] ?? m.name)}</td>${cells}` +
        `<td data-col="tokens-prompt">${thousands(m.tokensPrompt)}</td><td data-col="tokens-response">${thousands(m.tokensResponse)}</td>` +
        `<td data-col="repetition">${p1(m.repetition)}</td><td>${m.hitTokenLimit}/${m.items}</td></tr>`
      );
    })
    .join("");
  return (
    `<table id="results"><caption>This run: a ${esc(d.modelDescription)}, ${d.seeds.length} seed(s) (${esc(d.seeds.join(", "))}), ` +
    `rule-checked on ${d.evalSingle} single- and ${d.evalMulti} multi-constraint held-out instructions; % mean over seeds, ` +
    `per-seed values below</caption>` +
    `<tr><th class="l">method</th><th>IF-S</th><th>IF-M</th><th>constraint level</th>` +
    `<th>prompt tokens trained on</th><th>response tokens trained on</th><th>4-gram repetition %</th><th>hit token limit</th></tr>${rows}</table>`
  );
}

/** The paired bootstrap intervals, one row per comparison and metric, with per-seed differences. */
export function comparisonsTable(d: TableData): string {
  const label = (m: string) => d.labels[m] ?? m;
  const rows = d.comparisons
    .map(
      (c) =>
        `<tr data-cmp="${esc(`${c.a}-${c.b}-${c.metric}`)}"><td class="l">${esc(label(c.a))} − ${esc(label(c.b))}</td>` +
        `<td class="l">${esc(METRIC_NAMES[c.metric])}</td><td>${pp(c.diff)}</td>` +
        `<td class="ci">[${pp(c.lo)}, ${pp(c.hi)}]</td><td>${esc(c.perSeed.map((x) => (x === null ? "–" : pp(x))).join(" / "))}</td>` +
        `<td>${c.n}</td><td class="l ${c.verdict === "higher" ? "ok" : c.verdict === "lower" ? "bad" : "na"}">${esc(c.verdict)}</td></tr>`,
    )
    .join("");
  return (
    `<table id="intervals"><caption>Differences in percentage points with paired bootstrap ${100 * d.bootstrap.level}% ` +
    `intervals (${d.bootstrap.resamples} resamples; unit: ${esc(d.bootstrap.unit)})</caption>` +
    `<tr><th class="l">comparison</th><th class="l">metric</th><th>difference</th><th>${100 * d.bootstrap.level}% interval</th>` +
    `<th>per seed</th><th>items</th><th class="l">reading</th></tr>${rows}</table>`
  );
}

/** Whether IOPO > DPO > SFT holds per metric: both intervals (IOPO − DPO, DPO − SFT) above zero. */
export function orderingLines(d: TableData): string {
  const lines = (Object.keys(METRIC_NAMES) as TableMetric[]).map((k) => {
    const o = d.ordering[k];
    return (
      `<li data-metric="${k}">${esc(METRIC_NAMES[k])}: the paper's ordering IOPO &gt; DPO &gt; SFT ` +
      `<b>${o.holds ? "holds" : "does not hold"}</b> in this miniature (IOPO vs DPO: ${esc(o.iopo_dpo)}; DPO vs SFT: ${esc(o.dpo_sft)})</li>`
    );
  });
  return `<ul id="ordering">${lines.join("")}</ul>`;
}
