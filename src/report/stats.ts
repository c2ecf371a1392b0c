// Statistics of a data file: items, constraints, distribution by count, taxonomy dimension and category (the
// built-in taxonomy or a user's), inputs and languages; for IOPO groups also the rewrite operations and the four
// relations. Pure accumulation; printing is separate.

import type { Item } from "../io/index.ts";
import { type Instruction, type RewriteOp, Taxonomy } from "../schema/index.ts";

// ---- types ----

export interface Stats {
  /** Records in the file (instructions, examples, pairs or groups). */
  items: number;
  /** Instructions counted (a group holds two: x1 and x2). */
  instructions: number;
  constraints: number;
  mean_constraints: number;
  /** Constraint count per instruction → instructions. */
  by_count: Record<string, number>;
  /** Taxonomy dimension → constraints; plus "unknown" (a label outside the taxonomy) and "untyped" (no label). */
  by_dimension: Record<string, number>;
  by_category: Record<string, number>;
  /** The labels counted as "unknown", with their counts. */
  unknown_labels: Record<string, number>;
  /** Instructions with an input. */
  with_input: number;
  with_input_share: number;
  languages: Record<string, number>;
  /** IOPO groups only: operation → groups. */
  by_op?: Record<string, number>;
  /** IOPO groups only: groups whose y2 also fails x1. */
  y2_fails_x1?: number;
  /** IOPO groups only: groups whose recorded relations are all four (y1⊨x1, y1⊭x2, y2⊨x2, y2⊭x1). */
  strict_groups?: number;
  /** The taxonomy's dimension → category (for printing). */
  dimension_categories: Record<string, string>;
}

// ---- accumulation ----

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

export class StatsAccumulator {
  private readonly s: Stats;
  private readonly taxonomy: Taxonomy;

  /** Counts by the dimensions of `taxonomy` (the built-in 26 when omitted); other labels count as "unknown". */
  constructor(taxonomy: Taxonomy = Taxonomy.builtin()) {
    this.taxonomy = taxonomy;
    this.s = {
      items: 0,
      instructions: 0,
      constraints: 0,
      mean_constraints: 0,
      by_count: {},
      by_dimension: Object.fromEntries(taxonomy.dimensions.map((d) => [d.name, 0])),
      by_category: Object.fromEntries(taxonomy.categories.map((c) => [c, 0])),
      unknown_labels: {},
      with_input: 0,
      with_input_share: 0,
      languages: {},
      dimension_categories: Object.fromEntries(taxonomy.dimensions.map((d) => [d.name, d.category])),
    };
  }

  addInstruction(instruction: Instruction): void {
    const s = this.s;
    s.instructions++;
    s.constraints += instruction.constraints.length;
    bump(s.by_count, String(instruction.constraints.length));
    if (instruction.input !== null) s.with_input++;
    bump(s.languages, instruction.lang ?? "unknown");
    for (const c of instruction.constraints) {
      const dim = this.taxonomy.classify(c);
      bump(s.by_dimension, dim);
      bump(s.by_category, this.taxonomy.categoryOf(dim) ?? dim);
      if (dim === "unknown") bump(s.unknown_labels, c.label ?? c.type ?? "");
    }
  }

  addItem(item: Item): void {
    this.s.items++;
    switch (item.kind) {
      case "instruction":
        this.addInstruction(item.value);
        break;
      case "example":
      case "pair":
        this.addInstruction(item.value.instruction);
        break;
      case "group": {
        const g = item.value;
        this.addInstruction(g.x1);
        this.addInstruction(g.x2);
        this.s.by_op ??= {};
        bump(this.s.by_op, (g.op ?? "unknown") satisfies RewriteOp | "unknown");
        this.s.y2_fails_x1 = (this.s.y2_fails_x1 ?? 0) + (g.y2_fails_x1 ? 1 : 0);
        const r = g.relations;
        const strict = r?.y1_x1 === true && !r.y1_x2 && r.y2_x2 && !r.y2_x1;
        this.s.strict_groups = (this.s.strict_groups ?? 0) + (strict ? 1 : 0);
      }
    }
  }

  result(): Stats {
    const s = structuredClone(this.s);
    s.mean_constraints = s.instructions ? s.constraints / s.instructions : 0;
    s.with_input_share = s.instructions ? s.with_input / s.instructions : 0;
    // Counts in numeric order for readability.
    s.by_count = Object.fromEntries(Object.entries(s.by_count).sort((a, b) => Number(a[0]) - Number(b[0])));
    return s;
  }
}

// ---- printing ----

const pct = (n: number, of: number) => (of ? `${((100 * n) / of).toFixed(1)}%` : "-");

/** A readable multi-section table of the statistics. */
export function formatStats(s: Stats, title: string): string {
  const rows: string[] = [];
  const line = (k: string, v: string) => rows.push(`  ${k.padEnd(50)} ${v}`);
  rows.push(title);
  line("records", String(s.items));
  if (s.instructions !== s.items) line("instructions (x1 and x2 of each group)", String(s.instructions));
  line("constraints", String(s.constraints));
  line("constraints per instruction (mean)", s.mean_constraints.toFixed(2));
  line("with an input", `${s.with_input} (${pct(s.with_input, s.instructions)})`);
  line(
    "languages",
    Object.entries(s.languages)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
  );
  if (s.by_op)
    line(
      "rewrite operations",
      Object.entries(s.by_op)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    );
  if (s.y2_fails_x1 !== undefined) line("groups where y2 also fails x1", String(s.y2_fails_x1));
  if (s.strict_groups !== undefined) line("groups recorded with all four relations (strict)", String(s.strict_groups));
  rows.push("", "  by constraint count");
  for (const [k, v] of Object.entries(s.by_count))
    line(`    ${k}`, `${String(v).padStart(6)}  ${pct(v, s.instructions)}`);
  rows.push("", "  by category");
  for (const [k, v] of Object.entries(s.by_category))
    line(`    ${k}`, `${String(v).padStart(6)}  ${pct(v, s.constraints)}`);
  rows.push("", "  by dimension");
  for (const [k, v] of Object.entries(s.by_dimension)) {
    const cat = s.dimension_categories[k] ?? "";
    line(`    ${k}${cat ? ` (${cat})` : ""}`, `${String(v).padStart(6)}  ${pct(v, s.constraints)}`);
  }
  if (Object.keys(s.unknown_labels).length > 0) {
    line(
      "  labels outside the taxonomy",
      Object.entries(s.unknown_labels)
        .map(([k, v]) => `${JSON.stringify(k)} ${v}`)
        .join(", "),
    );
  }
  return rows.join("\n");
}
