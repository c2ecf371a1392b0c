// Taxonomy induction (`iopo construct taxonomy`): per simple instruction, proposed constraint types (resumable,
// proposals.jsonl); names normalised and counted; clusters merged without embeddings — equal normal forms, then
// the merger role on string-similar pairs; each cluster mapped onto the built-in 26 dimensions (by name, else by
// the mapper role) or kept as a new dimension; taxonomy.json + taxonomy.md + taxonomy_funnel.json.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { KIND_DIMENSION } from "../checks/rules/index.ts";
import { DataError } from "../errors.ts";
import { writeFileAtomic } from "../io/index.ts";
import {
  CATEGORIES,
  DIMENSIONS,
  type DimensionName,
  findDimension,
  type InducedDimension,
  type InducedTaxonomy,
  type Proposal,
  type ProposalRecord,
  ProposalRecordSchema,
} from "../schema/index.ts";
import type { SeedRecord, TaxonomyRoles, TypeCluster } from "./roles.ts";
import { type Funnel, runChunked } from "./runner.ts";
import { taxonomyMarkdown } from "./taxonomy-md.ts";

// ---- types ----

export interface TaxonomyOptions {
  readonly dir: string;
  readonly roles: TaxonomyRoles;
  readonly seeds: readonly SeedRecord[];
  /** Recorded in the run state so a resume with other seeds is refused. */
  readonly seedsPath: string;
  readonly seed: number;
  /** A new dimension needs at least this many proposals. @default 2 */
  readonly minCount?: number;
  /** Most string-similar cluster pairs the merger is asked about. @default 2000 */
  readonly maxPairs?: number;
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface InductionSummary {
  proposals: number;
  /** Distinct names after normalisation (string merging). */
  normal_forms: number;
  pairs_judged: number;
  merged_by_judge: number;
  clusters: number;
  mapped_by_name: number;
  mapped_by_judge: number;
  builtin_dimensions: number;
  new_dimensions: number;
  /** Unmapped clusters with fewer than minCount proposals (listed in taxonomy.md, not in taxonomy.json). */
  below_min_count: number;
  /** Merger and mapper replies that stayed invalid (treated as "different" and "no built-in dimension"). */
  failures: { same: number; map: number };
}

interface Cluster {
  key: string;
  members: Proposal[];
  seeds: string[];
}

// ---- normalisation ----

const STOP = new Set(["constraint", "requirement", "rule", "type", "the", "a", "an", "of", "on", "for", "and", "to"]);

function singular(t: string): string {
  if (t.length > 4 && t.endsWith("ies")) return `${t.slice(0, -3)}y`;
  if (t.length > 3 && t.endsWith("s") && !t.endsWith("ss")) return t.slice(0, -1);
  return t;
}

/** A name's normal form: NFKC, lower case, no punctuation, no "constraint"-like words, singular, sorted tokens. */
export function normalizeName(name: string): string {
  const s = name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/(约束|要求|限制)$/u, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
  const tokens = s
    .split(" ")
    .filter((t) => t && !STOP.has(singular(t)))
    .map(singular);
  return tokens.sort().join(" ");
}

/** Character-bigram Dice similarity of two strings (0–1). */
function dice(a: string, b: string): number {
  if (a === b) return 1;
  const grams = (s: string) => {
    const m = new Map<string, number>();
    for (let i = 0; i + 1 < s.length; i++) m.set(s.slice(i, i + 2), (m.get(s.slice(i, i + 2)) ?? 0) + 1);
    return m;
  };
  const ga = grams(a);
  const gb = grams(b);
  let both = 0;
  for (const [g, n] of ga) both += Math.min(n, gb.get(g) ?? 0);
  const total = Math.max(1, a.length - 1 + (b.length - 1));
  return (2 * both) / total;
}

/** Whether two normal forms are close enough to ask the merger: a shared word, or similar spelling. */
function similar(a: string, b: string): boolean {
  const ta = new Set(a.split(" "));
  return b.split(" ").some((t) => t.length > 2 && ta.has(t)) || dice(a, b) >= 0.6;
}

/** The most frequent value (first seen on ties). */
function mode(values: readonly string[]): string | undefined {
  const n = new Map<string, number>();
  for (const v of values) n.set(v, (n.get(v) ?? 0) + 1);
  let best: string | undefined;
  for (const [v, c] of n) if (best === undefined || c > n.get(best)!) best = v;
  return best;
}

function byFrequency(xs: readonly string[]): string[] {
  const n = new Map<string, number>();
  for (const v of xs) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n.keys()].sort((a, b) => n.get(b)! - n.get(a)!);
}

function view(members: readonly Proposal[]): TypeCluster {
  const names = byFrequency(members.map((m) => m.name.trim()));
  return { name: names[0]!, definition: mode(members.map((m) => m.definition)) ?? "", aliases: names.slice(1) };
}

const BUILTIN_FORMS = new Map<string, DimensionName>();
for (const d of DIMENSIONS) {
  BUILTIN_FORMS.set(normalizeName(d.name), d.name);
  BUILTIN_FORMS.set(normalizeName(d.zh), d.name);
}
const CHECKED = new Set<string>(Object.values(KIND_DIMENSION));

/** A dimension from its merged proposals; `order` ranks seed texts in the order the run met them. */
function dimensionOf(
  name: string,
  members: Proposal[],
  seeds: string[],
  builtin: DimensionName | null,
  order: ReadonlyMap<string, number>,
) {
  const d = builtin ? findDimension(builtin)! : undefined;
  const out: InducedDimension = {
    category: d?.category ?? mode(members.map((m) => m.category.trim())) ?? "Content",
    name: d?.name ?? name,
    zh: d?.zh ?? mode(members.flatMap((m) => (m.zh ? [m.zh] : []))) ?? "",
    meaning: d?.meaning ?? mode(members.map((m) => m.definition)) ?? "",
    frequency: members.length,
    examples: [...new Set(seeds)].sort((a, b) => order.get(a)! - order.get(b)!).slice(0, 3),
    example_constraints: [...new Set(members.map((m) => m.example).filter(Boolean))].slice(0, 3),
    aliases: byFrequency(members.map((m) => m.name.trim())),
    source: d ? "builtin" : "new",
    rule_checker: d ? CHECKED.has(d.name) : false,
  };
  return out;
}

// ---- exports ----

/** Merge proposals into clusters and dimensions (pure apart from the merger and mapper roles). */
export async function induce(
  records: readonly ProposalRecord[],
  roles: TaxonomyRoles,
  o: { minCount?: number; maxPairs?: number } = {},
): Promise<{ taxonomy: InducedTaxonomy; summary: InductionSummary; rare: InducedDimension[] }> {
  const byKey = new Map<string, Cluster>();
  let proposals = 0;
  const order = new Map<string, number>();
  for (const r of records) if (!order.has(r.seed)) order.set(r.seed, order.size);
  for (const r of records)
    for (const p of r.proposals) {
      const key = normalizeName(p.name) || p.name.trim().toLowerCase();
      const c = byKey.get(key) ?? { key, members: [], seeds: [] };
      c.members.push(p);
      c.seeds.push(r.seed);
      byKey.set(key, c);
      proposals++;
    }
  const clusters = [...byKey.values()].sort((a, b) => b.members.length - a.members.length || (a.key < b.key ? -1 : 1));
  // Union-find over string-similar pairs the merger calls the same type.
  const parent = clusters.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
  const failures = { same: 0, map: 0 };
  let judged = 0;
  let merged = 0;
  const maxPairs = o.maxPairs ?? 2000;
  for (let i = 0; i < clusters.length && judged < maxPairs; i++)
    for (let j = i + 1; j < clusters.length && judged < maxPairs; j++) {
      const [a, b] = [clusters[i]!, clusters[j]!];
      if (root(i) === root(j) || !similar(a.key, b.key)) continue;
      // Two names that map to different built-in dimensions by name are never the same type.
      const [ba, bb] = [BUILTIN_FORMS.get(a.key), BUILTIN_FORMS.get(b.key)];
      if (ba && bb && ba !== bb) continue;
      judged++;
      const r = await roles.same(view(a.members), view(b.members), `same:${a.key}|${b.key}`);
      if (!r.ok) failures.same++;
      else if (r.value) {
        parent[root(j)] = root(i);
        merged++;
      }
    }
  const groups = new Map<number, Cluster[]>();
  clusters.forEach((c, i) => {
    groups.set(root(i), [...(groups.get(root(i)) ?? []), c]);
  });
  // Map each merged cluster: by a member's name, else by the mapper.
  const builtin = new Map<DimensionName, { members: Proposal[]; seeds: string[] }>();
  const fresh: { name: string; members: Proposal[]; seeds: string[] }[] = [];
  let byName = 0;
  let byJudge = 0;
  for (const parts of groups.values()) {
    const members = parts.flatMap((p) => p.members);
    const seeds = parts.flatMap((p) => p.seeds);
    let dim = mode(parts.flatMap((p) => (BUILTIN_FORMS.has(p.key) ? [BUILTIN_FORMS.get(p.key)!] : [])));
    if (dim) byName++;
    else {
      const v = view(members);
      const r = await roles.map(v, `map:${parts[0]!.key}`);
      if (!r.ok) failures.map++;
      else if (r.value) {
        dim = r.value;
        byJudge++;
      }
    }
    if (dim) {
      const b = builtin.get(dim as DimensionName) ?? { members: [], seeds: [] };
      b.members.push(...members);
      b.seeds.push(...seeds);
      builtin.set(dim as DimensionName, b);
    } else fresh.push({ name: view(members).name, members, seeds });
  }
  const minCount = o.minCount ?? 2;
  const dims: InducedDimension[] = DIMENSIONS.flatMap((d) => {
    const b = builtin.get(d.name);
    return b ? [dimensionOf(d.name, b.members, b.seeds, d.name, order)] : [];
  });
  const newDims = fresh
    .map((f) => dimensionOf(f.name, f.members, f.seeds, null, order))
    .sort((a, b) => b.frequency - a.frequency || (a.name < b.name ? -1 : 1));
  const kept = newDims.filter((d) => d.frequency >= minCount);
  const rare = newDims.filter((d) => d.frequency < minCount);
  const categories: string[] = [...CATEGORIES];
  for (const d of kept) if (!categories.includes(d.category)) categories.push(d.category);
  const taxonomy: InducedTaxonomy = {
    description:
      `Induced from ${records.length} simple instructions (${proposals} proposals): ${dims.length} built-in ` +
      `dimensions matched, ${kept.length} new proposed (each with ≥ ${minCount} proposals).`,
    categories,
    dimensions: [...dims, ...kept],
  };
  const summary: InductionSummary = {
    proposals,
    normal_forms: clusters.length,
    pairs_judged: judged,
    merged_by_judge: merged,
    clusters: groups.size,
    mapped_by_name: byName,
    mapped_by_judge: byJudge,
    builtin_dimensions: dims.length,
    new_dimensions: kept.length,
    below_min_count: rare.length,
    failures,
  };
  return { taxonomy, summary, rare };
}

/** The whole command: proposals (resumable), then induction; writes taxonomy.json, taxonomy.md and the funnel. */
export async function constructTaxonomy(
  o: TaxonomyOptions,
): Promise<{ funnel: Funnel; summary: InductionSummary; taxonomy: InducedTaxonomy }> {
  const funnel = await runChunked({
    dir: o.dir,
    name: "taxonomy",
    config: { command: "taxonomy", origin: o.roles.origin, seed: o.seed, seeds: o.seedsPath, n: o.seeds.length },
    total: o.seeds.length,
    outputs: ["proposals"],
    rejectsFile: "taxonomy_rejects.jsonl",
    funnelFile: "taxonomy_funnel.json",
    stages: ["propose"],
    concurrency: o.concurrency ?? 8,
    onProgress: o.onProgress,
    work: async (i) => {
      const s = o.seeds[i]!;
      const id = `q${String(i).padStart(6, "0")}`;
      const r = await o.roles.propose(s, id);
      if (!r.ok)
        return {
          out: { proposals: [] },
          rejects: [{ id, stage: "propose", code: r.code, reason: r.reason, source_ids: [s.id] }],
          trail: [{ stage: "propose", outcome: "drop", code: r.code, reason: r.reason }],
        };
      const rec: ProposalRecord = { id, seed_id: s.id, seed: s.text, proposals: r.value };
      return { out: { proposals: [rec] }, rejects: [], trail: [{ stage: "propose", outcome: "ok" }] };
    },
  });
  const path = join(o.dir, "proposals.jsonl");
  const records: ProposalRecord[] = [];
  const text = await readFile(path, "utf8");
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const parsed = ProposalRecordSchema.safeParse(JSON.parse(line));
    if (!parsed.success)
      throw new DataError("invalid proposal record", { path, line: i + 1, got: parsed.error.issues[0]!.message });
    records.push(parsed.data);
  });
  const { taxonomy, summary, rare } = await induce(records, o.roles, o);
  const full = { ...funnel, induction: summary };
  await writeFileAtomic(join(o.dir, "taxonomy.json"), `${JSON.stringify(taxonomy, null, 2)}\n`);
  await writeFileAtomic(join(o.dir, "taxonomy.md"), taxonomyMarkdown(taxonomy, summary, rare));
  await writeFileAtomic(join(o.dir, "taxonomy_funnel.json"), `${JSON.stringify(full, null, 2)}\n`);
  return { funnel: full, summary, taxonomy };
}
