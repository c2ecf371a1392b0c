// CFBench metrics as upstream computes them: per sample CSR (share of checklist items met, rounded to 2 decimals),
// ISR (every item met) and PSR (every primary item met and enough secondary ones); per split the plain mean of the
// per-sample values, rounded to 2 decimals (Python's round: half to even on the exact binary value). Also
// item-level breakdowns by constraint type, subtype and priority, and sample-level ones by source and split. Pure.

import type { JudgeRead } from "./parse.ts";
import { pyFloat } from "./parse.ts";
import { type Criterion, PRIMARY, type SampleMetric, SECONDARY } from "./schema.ts";

// ---- types ----

/** Mean CSR, ISR, PSR over a set of samples (fractions rounded to 2 decimals; null over zero samples). */
export interface SplitScores {
  readonly n: number;
  readonly CSR: number | null;
  readonly ISR: number | null;
  readonly PSR: number | null;
}

/** Checklist items met / judged, over strictly parsed samples (only those align scores with items). */
export interface ItemRate {
  readonly met: number;
  readonly total: number;
  readonly rate: number | null;
}

export interface ScoredSample {
  readonly split: string;
  readonly source: string;
  readonly criteria: readonly Criterion[];
  readonly read: JudgeRead;
  readonly metric: SampleMetric;
}

export interface Breakdowns {
  readonly by_split: Record<string, SplitScores>;
  readonly by_source: Record<string, SplitScores>;
  readonly by_type: Record<string, ItemRate>;
  readonly by_subtype: Record<string, ItemRate>;
  readonly by_priority: Record<string, ItemRate>;
}

// ---- helpers ----

/** Python's `round(x, digits)` for finite x of modest size: correctly rounded, ties to even on the exact value. */
export function pyRound(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const neg = x < 0;
  // 40 fractional digits show a double below 1e4 exactly enough to tell a true tie from a near one.
  const [int, frac] = Math.abs(x).toFixed(40).split(".") as [string, string];
  const keep = frac.slice(0, digits);
  const rest = frac.slice(digits);
  const half = `5${"0".repeat(rest.length - 1)}`;
  let up = rest > half;
  if (rest === half) up = Number((keep || int).at(-1)) % 2 === 1;
  let scaled = BigInt(int + keep);
  if (up) scaled += 1n;
  const s = scaled.toString().padStart(digits + 1, "0");
  const value = Number(digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s);
  return neg ? -value : value;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---- exports ----

/** CSR, ISR and PSR of one sample from its read scores (upstream's rules; see SOURCE.md "Metrics"). */
export function sampleMetric(
  read: Exclude<JudgeRead, { parsing: "error" }>,
  criteria: readonly Criterion[],
): SampleMetric {
  const s = read.scores.map((x) => pyFloat(x) ?? 0);
  const csr = pyRound(mean(s), 2);
  const isr = csr >= 1 ? 1 : 0;
  if (read.parsing === "-1") return { CSR: csr, ISR: isr, PSR: 0 };
  if (read.parsing === "0") return { CSR: csr, ISR: isr, PSR: csr > 0.8 ? 1 : 0 };
  const primary = s.filter((_, i) => criteria[i]![1] === PRIMARY);
  const secondary = s.filter((_, i) => criteria[i]![1] === SECONDARY);
  let psr: number;
  if (primary.includes(0)) psr = 0;
  else if (primary.length === 0) psr = csr > 0.8 ? 1 : 0;
  else if (secondary.length === 0) psr = 1;
  else psr = 0.5 + 0.5 * pyRound(mean(secondary), 2) > 0.8 ? 1 : 0;
  return { CSR: csr, ISR: isr, PSR: psr };
}

/** The mean of per-sample metrics, rounded as upstream's score sheet; null fields over zero samples. */
export function splitScores(metrics: readonly SampleMetric[]): SplitScores {
  if (metrics.length === 0) return { n: 0, CSR: null, ISR: null, PSR: null };
  const avg = (k: keyof SampleMetric) => pyRound(mean(metrics.map((m) => m[k])), 2);
  return { n: metrics.length, CSR: avg("CSR"), ISR: avg("ISR"), PSR: avg("PSR") };
}

/** easy, hard and all, as upstream's sheet lays them out. */
export function modelScores(samples: readonly { split: string; metric: SampleMetric }[]): {
  easy: SplitScores;
  hard: SplitScores;
  all: SplitScores;
} {
  const of = (split?: string) => splitScores(samples.filter((x) => !split || x.split === split).map((x) => x.metric));
  return { easy: of("easy"), hard: of("hard"), all: of() };
}

/** Breakdowns by split and source (sample level) and by type, subtype and priority (item level, strict parses). */
export function breakdowns(samples: readonly ScoredSample[]): Breakdowns {
  const groups = (key: (x: ScoredSample) => string) => {
    const m = new Map<string, SampleMetric[]>();
    for (const x of samples) m.set(key(x), [...(m.get(key(x)) ?? []), x.metric]);
    return Object.fromEntries([...m].sort((a, b) => a[0].localeCompare(b[0])).map(([k, v]) => [k, splitScores(v)]));
  };
  const items = {
    type: new Map<string, number[]>(),
    subtype: new Map<string, number[]>(),
    priority: new Map<string, number[]>(),
  };
  for (const x of samples) {
    if (x.read.parsing !== "1") continue;
    x.criteria.forEach((c, i) => {
      const met = pyFloat(x.read.parsing === "1" ? x.read.scores[i]! : "0") === 1 ? 1 : 0;
      const add = (m: Map<string, number[]>, k: string) =>
        m.set(
          k,
          [...(m.get(k) ?? [0, 0])].map((v, j) => v + (j === 0 ? met : 1)),
        );
      add(items.type, c[2] || "(none)");
      add(items.subtype, c[2] || c[3] ? `${c[2] || "(none)"}/${c[3] || "(none)"}` : "(none)");
      add(items.priority, c[1] || "(none)");
    });
  }
  const rates = (m: Map<string, number[]>) =>
    Object.fromEntries(
      [...m]
        .sort((a, b) => b[1][1]! - a[1][1]! || a[0].localeCompare(b[0]))
        .map(([k, [met, total]]) => [k, { met: met!, total: total!, rate: total ? met! / total! : null }]),
    );
  return {
    by_split: groups((x) => x.split),
    by_source: groups((x) => x.source),
    by_type: rates(items.type),
    by_subtype: rates(items.subtype),
    by_priority: rates(items.priority),
  };
}
