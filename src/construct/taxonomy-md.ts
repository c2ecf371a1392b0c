// taxonomy.md: the induced taxonomy as a page for the expert pass — what was merged, per category the dimensions
// with their frequency, aliases, example and rule-checker status, the rare proposals left out, and the built-in
// dimensions no proposal reached. Pure string building.

import { DIMENSIONS, type InducedDimension, type InducedTaxonomy } from "../schema/index.ts";
import type { InductionSummary } from "./taxonomy.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function row(d: InducedDimension): string {
  const aliases = d.aliases.slice(0, 5).join(", ") + (d.aliases.length > 5 ? ", …" : "");
  return `| ${cell(d.name)} | ${cell(d.zh)} | ${d.source} | ${d.frequency} | ${d.rule_checker ? "yes" : "no"} | ${cell(aliases)} | ${cell(d.example_constraints[0] ?? "")} |`;
}

export function taxonomyMarkdown(t: InducedTaxonomy, s: InductionSummary, rare: readonly InducedDimension[]): string {
  const out = [
    "# Induced constraint taxonomy",
    "",
    t.description,
    "",
    `Proposals ${s.proposals} → ${s.normal_forms} distinct names after normalisation → ${s.pairs_judged} similar ` +
      `pairs judged, ${s.merged_by_judge} merged → ${s.clusters} clusters → ${s.mapped_by_name} mapped to a built-in ` +
      `dimension by name, ${s.mapped_by_judge} by the mapper → ${s.builtin_dimensions} built-in and ` +
      `${s.new_dimensions} new dimensions (${s.below_min_count} rare clusters left out). Invalid replies: merger ` +
      `${s.failures.same}, mapper ${s.failures.map}.`,
    "",
    "Review each dimension: merge, rename or drop new ones, and give every kept one a category, a Chinese name and a",
    "definition. The edited taxonomy.json is what `iopo construct trace --taxonomy` reads.",
  ];
  for (const c of t.categories) {
    const dims = t.dimensions.filter((d) => d.category === c);
    if (dims.length === 0) continue;
    out.push(
      "",
      `## ${c}`,
      "",
      "| dimension | 中文 | source | proposals | rule checker | names merged | example |",
      "|---|---|---|---|---|---|---|",
    );
    for (const d of dims) out.push(row(d));
  }
  if (rare.length > 0) {
    out.push(
      "",
      "## Rare proposals (left out)",
      "",
      "| name | 中文 | source | proposals | rule checker | names | example |",
    );
    out.push("|---|---|---|---|---|---|---|", ...rare.map(row));
  }
  const reached = new Set(t.dimensions.map((d) => d.name));
  const missing = DIMENSIONS.filter((d) => !reached.has(d.name)).map((d) => `${d.name} (${d.zh})`);
  if (missing.length > 0) out.push("", "## Built-in dimensions no proposal reached", "", missing.join(", "));
  return `${out.join("\n")}\n`;
}
