// The demo's self-contained HTML report: the multi-seed results (means with per-seed values, tokens trained on,
// repetition) with paired bootstrap intervals and the paper's ordering read from them, beside the paper's Table 1;
// training curves, reward margins (output- and input-preference parts apart), accuracies by dimension and by
// constraint count, and example generations with their verdicts. Inline CSS, SVG and one hashed script (a Content-Security-Policy allows only
// it); every model output and data string is HTML-escaped. Pure: data in, one HTML string out.

import { createHash } from "node:crypto";
import type { trace } from "../evaluate/index.ts";
import { barChart, esc, lineChart } from "./svg.ts";
import { comparisonsTable, orderingLines, paperTable, resultsTable } from "./tables.ts";

type Ratio = trace.Ratio;

// ---- types ----

/** One training run's curves from metrics.jsonl (missing metrics are empty arrays). */
export interface Curves {
  readonly method: string;
  readonly step: readonly number[];
  readonly loss: readonly number[];
  readonly margins: readonly number[];
  readonly accuracies: readonly number[];
  /** IOPO only: β·ρ of the four sequences a = (x1,y1), b = (x1,y2), c = (x2,y2), d = (x2,y1) per step. */
  readonly rewards: readonly Rewards[];
}

export interface Rewards {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
}

export interface ExampleModelOutput {
  readonly response: string;
  readonly finish: string;
  readonly allOk: boolean;
  readonly verdicts: readonly { text: string; type?: string; ok: boolean | null; why?: string }[];
}

export interface Example {
  readonly id: string;
  readonly prompt: string;
  readonly outputs: Readonly<Record<string, ExampleModelOutput>>;
}

export type ReportMetric = "if_s" | "if_m" | "constraint_level";

export interface ReportMethod {
  readonly name: string;
  /** Mean over seeds and the per-seed accuracies. */
  readonly metrics: Readonly<Record<ReportMetric, { mean: number | null; per_seed: readonly (number | null)[] }>>;
  /** Share of generations repeating a word 4-gram three or more times (mean over seeds). */
  readonly repetition: number;
  /** Mean over seeds of the prompt / response tokens the run trained on (null: not recorded). */
  readonly tokensPrompt: number | null;
  readonly tokensResponse: number | null;
  readonly hitTokenLimit: number;
  readonly items: number;
  /** Pooled over seeds. */
  readonly byDimension: Readonly<Record<string, Ratio>>;
  readonly byCount: Readonly<Record<string, Ratio>>;
}

export interface ReportComparison {
  readonly a: string;
  readonly b: string;
  readonly metric: ReportMetric;
  readonly diff: number;
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
  readonly perSeed: readonly (number | null)[];
  readonly verdict: string;
}

export interface ReportData {
  readonly title: string;
  readonly generatedAt: string;
  readonly seeds: readonly number[];
  readonly profile: string;
  /** Method → display name. */
  readonly labels: Readonly<Record<string, string>>;
  readonly methods: readonly ReportMethod[];
  readonly evalSingle: number;
  readonly evalMulti: number;
  readonly comparisons: readonly ReportComparison[];
  readonly ordering: Readonly<Record<ReportMetric, { holds: boolean; iopo_dpo: string; dpo_sft: string }>>;
  readonly bootstrap: { readonly resamples: number; readonly level: number; readonly unit: string };
  readonly sizes: Readonly<Record<string, number>>;
  readonly training: Readonly<Record<string, number>>;
  readonly modelDescription: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly totalSeconds: number;
  /** CPU seconds of all phases (user + system, every thread). */
  readonly totalCpuSeconds: number;
  /** The seed whose training curves and examples are shown. */
  readonly curvesSeed: number;
  readonly curves: readonly Curves[];
  readonly examples: readonly Example[];
}

// ---- helpers ----

export const MODEL_COLORS: Readonly<Record<string, string>> = {
  sft: "#7f7f7f",
  "sft-continued": "#2ca02c",
  "sft-star": "#98df8a",
  dpo: "#1f77b4",
  "dpo-star": "#aec7e8",
  iopo: "#d62728",
  "iopo-star": "#ff9896",
  "iopo-no-input": "#ff7f0e",
  "iopo-no-output": "#ffbb78",
  orpo: "#9467bd",
  simpo: "#8c564b",
};
const color = (m: string) => MODEL_COLORS[m] ?? "#17becf";

/** Toggle a series in every chart by clicking its legend entry (the only script; allowed by its hash). */
const SCRIPT = `
for (const g of document.querySelectorAll("svg.chart .legend")) {
  g.addEventListener("click", () => {
    const svg = g.closest("svg");
    const off = g.classList.toggle("off");
    for (const m of svg.querySelectorAll(".mark")) if (m.dataset.series === g.dataset.series) m.style.display = off ? "none" : "";
  });
}
document.documentElement.dataset.ready = "1";
`;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#555}.note{color:#666;font-size:12px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.best{font-weight:700}
.side{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}.side>div{flex:1 1 420px}
.paper{background:#fbfbf3}.paper caption{color:#8a6d00}
caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:#fff;border:1px solid #e5e5e5}svg.chart path.mark{fill:none;stroke-width:1.6}
svg.chart .grid{stroke:#eee}svg.chart .axis{stroke:#999}svg.chart .ref{stroke:#999;stroke-dasharray:4 3}
svg.chart text{font-size:11px;fill:#444}svg.chart .title{font-size:13px;font-weight:600;fill:#222}
svg.chart .legend{cursor:pointer}svg.chart .legend.off{opacity:.35}
.ex{border:1px solid #ddd;border-radius:4px;margin:10px 0;padding:8px}
.ex pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:6px;margin:4px 0;max-height:260px;overflow:auto}
.outs{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:8px}
.seeds{font-size:11px;color:#777;font-weight:400;white-space:nowrap}td.ci{white-space:nowrap}
.ok{color:#1a7f37}.bad{color:#c62828}.na{color:#777}ul.v{margin:2px 0;padding-left:18px;font-size:12px}
`;

function breakdownChart(d: ReportData, id: string, title: string, key: "byDimension" | "byCount"): string {
  const first = d.methods[0]?.[key] ?? {};
  const cats = Object.keys(first);
  if (key === "byDimension") cats.sort((a, b) => first[b]!.total - first[a]!.total);
  else cats.sort((a, b) => Number(a) - Number(b));
  return barChart({
    id,
    title,
    yLabel: "% satisfied",
    yMax: 100,
    categories: key === "byCount" ? cats.map((c) => `${c} constr.`) : cats,
    notes: cats.map((c) => `n=${first[c]!.total}`),
    series: d.methods.map((m) => ({
      name: d.labels[m.name] ?? m.name,
      color: color(m.name),
      values: cats.map((c) => {
        const a = m[key][c]?.accuracy;
        return a === null || a === undefined ? null : 100 * a;
      }),
    })),
  });
}

/** Trailing moving average over `w` points (w = 1: unchanged). */
export function smooth(points: readonly (readonly [number, number])[], w: number): [number, number][] {
  return points.map((p, i) => {
    const from = Math.max(0, i - w + 1);
    let sum = 0;
    for (let j = from; j <= i; j++) sum += points[j]![1];
    return [p[0], sum / (i - from + 1)];
  });
}

/** About a fifteenth of the longest run, so per-step noise (small batches) does not hide the trend. */
const smoothingWindow = (cs: readonly Curves[]) =>
  Math.max(1, Math.round(Math.max(0, ...cs.map((c) => c.step.length)) / 15));

function trainingCharts(d: ReportData): string {
  const label = (m: string) => d.labels[m] ?? m;
  const pts = (c: Curves, ys: readonly number[]) => ys.map((y, i) => [c.step[i]!, y] as const);
  const loss = d.curves.map((c) =>
    lineChart({
      id: `loss-${c.method}`,
      title: `Training loss: ${label(c.method)} (mean of ${smoothingWindow([c])} steps)`,
      xLabel: "optimizer step",
      yLabel: c.method.startsWith("sft") ? "NLL per token" : "loss",
      series: [{ name: label(c.method), color: color(c.method), points: smooth(pts(c, c.loss), smoothingWindow([c])) }],
      ...(c.method.startsWith("sft") ? {} : { ref: Math.LN2 }),
    }),
  );
  const iopo = d.curves.find((c) => c.method === "iopo");
  const dpo = d.curves.find((c) => c.method === "dpo");
  const w = smoothingWindow(d.curves);
  const part = (c: Curves, name: string, col: string, f: (r: Rewards) => number) => ({
    name,
    color: col,
    points: smooth(pts(c, c.rewards.map(f)), w),
  });
  const margins = lineChart({
    id: "margins",
    title: `Reward margins, β·ρ differences (mean of ${w} steps)`,
    xLabel: "optimizer step",
    yLabel: "margin",
    ref: 0,
    series: [
      ...(iopo
        ? [
            part(iopo, "IOPO output pref. x1: a−b", "#d62728", (r) => r.a - r.b),
            part(iopo, "IOPO output pref. x2: c−d", "#ff9896", (r) => r.c - r.d),
            part(iopo, "IOPO input pref. y1: a−d", "#ff7f0e", (r) => r.a - r.d),
            part(iopo, "IOPO input pref. y2: c−b", "#ffbb78", (r) => r.c - r.b),
          ]
        : []),
      ...(dpo ? [{ name: "DPO margin", color: "#1f77b4", points: smooth(pts(dpo, dpo.margins), w) }] : []),
    ],
  });
  const acc = lineChart({
    id: "reward-accuracy",
    title: `Reward accuracy (share of records with z > 0; mean of ${w} steps)`,
    xLabel: "optimizer step",
    yLabel: "share of records",
    series: d.curves
      .filter((c) => c.accuracies.length > 0)
      .map((c) => ({ name: label(c.method), color: color(c.method), points: smooth(pts(c, c.accuracies), w) })),
  });
  return `<div class="charts">${loss.join("")}${margins}${acc}</div>`;
}

function examples(d: ReportData): string {
  const label = (m: string) => d.labels[m] ?? m;
  return d.examples
    .map((e) => {
      const outs = d.methods
        .map((m) => {
          const o = e.outputs[m.name];
          if (!o) return "";
          const v = o.verdicts
            .map((x) => {
              const cls = x.ok === true ? "ok" : x.ok === false ? "bad" : "na";
              const mark = x.ok === true ? "✓" : x.ok === false ? "✗" : "?";
              return `<li class="${cls}">${mark} ${esc(x.text)}${x.why ? ` <span class="note">(${esc(x.why)})</span>` : ""}</li>`;
            })
            .join("");
          return (
            `<div class="out" data-model="${esc(m.name)}"><b style="color:${color(m.name)}">${esc(label(m.name))}</b> ` +
            `<span class="${o.allOk ? "ok" : "bad"}">${o.allOk ? "all satisfied" : "not all satisfied"}</span>` +
            `${o.finish === "length" ? ' <span class="note">(hit the token limit)</span>' : ""}` +
            `<pre class="gen">${esc(o.response)}</pre><ul class="v">${v}</ul></div>`
          );
        })
        .join("");
      return `<div class="ex" data-id="${esc(e.id)}"><div class="note">${esc(e.id)} — prompt:</div><pre>${esc(e.prompt)}</pre><div class="outs">${outs}</div></div>`;
    })
    .join("");
}

function kv(title: string, o: Readonly<Record<string, number>>, unit = ""): string {
  const rows = Object.entries(o)
    .map(
      ([k, v]) =>
        `<tr><td class="l">${esc(k)}</td><td>${esc(Number.isInteger(v) ? String(v) : v.toPrecision(3))}${unit}</td></tr>`,
    )
    .join("");
  return `<table><caption>${esc(title)}</caption>${rows}</table>`;
}

// ---- exports ----

/** Phase seconds summed over seeds: "seed1-train-iopo" counts towards "train-iopo". */
export function phaseTotals(timings: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(timings)) {
    const key = k.replace(/^seed\d+-/, "");
    out[key] = (out[key] ?? 0) + v;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Number(v.toFixed(1))]));
}

export function renderReport(d: ReportData): string {
  const hash = createHash("sha256").update(SCRIPT).digest("base64");
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:`;
  const minutes = (d.totalSeconds / 60).toFixed(1);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(d.title)}</h1>
<div class="sub">IOPO, DPO, SFT and their controls in miniature — seeds ${esc(d.seeds.join(", "))}, profile ${esc(d.profile)}, generated ${esc(d.generatedAt)};
the phases took <b id="total-time">${d.totalSeconds.toFixed(0)} s (${minutes} min)</b> of wall time and ${d.totalCpuSeconds.toFixed(0)} s of CPU time
(on an otherwise idle 2-core machine the wall time lies between half the CPU time and the CPU time).
A tiny model trained on the offline world on CPU cores: the numbers show how the methods behave here, not what a 7B model reaches.</div>
<h2>Results</h2>
${resultsTable(d)}
<div class="note">IF-S: share of single-constraint items whose constraint is satisfied; IF-M: share of multi-constraint items with every
constraint satisfied; constraint level: share of all constraints satisfied. Greedy decoding; verdicts by the rule checkers. Tokens: prompt and
response tokens the run's loss was computed on, summed over its steps (the SFT row is the SFT stage every other row starts from; the other
rows count only their own stage). 4-gram repetition: share of generations in which a word 4-gram occurs three or more times.</div>
${orderingLines(d)}
${comparisonsTable(d)}
<div class="note">Paired bootstrap: held-out items are resampled with replacement, each with both methods and every seed (its counts are
averaged over seeds), so the interval reflects which instructions happened to be held out; seed-to-seed variation shows in the per-seed
columns. "higher" / "lower": the interval excludes 0; otherwise no difference is detectable at this size.</div>
${paperTable()}
<h2>Accuracy by taxonomy dimension and by constraint count (pooled over seeds)</h2>
<div class="charts">${breakdownChart(d, "by-dimension", "Constraint-level accuracy by dimension", "byDimension")}
${breakdownChart(d, "by-count", "Item accuracy by number of constraints", "byCount")}</div>
<h2>Training (seed ${d.curvesSeed})</h2>
<div class="note">Every method after SFT starts from the same SFT checkpoint with the same steps, learning-rate schedule, batch (records) and seed.
IOPO's margin z = a − b + c − d splits into output preference (the right response for each input: a − b for x1, c − d for x2) and
input preference (the right input for each response: a − d for y1, c − b for y2); the two output parts and the two input parts have the
same sum, so they are shown one by one. Click a legend entry to hide a series.</div>
${trainingCharts(d)}
<h2>Example generations (seed ${d.curvesSeed})</h2>
${examples(d)}
<h2>Run</h2>
<div class="side"><div>${kv("data and model", d.sizes)}</div><div>${kv("training", d.training)}</div>
<div>${kv(`phase times summed over seeds (s; total ${d.totalSeconds.toFixed(0)} s)`, phaseTotals(d.timings))}</div></div>
<script>${SCRIPT}</script>
</body></html>
`;
}
