// A taxonomy as data (`taxonomy.json`: categories and dimensions, the format of TRACE's own file) and as a lookup
// (`Taxonomy`): which dimension a constraint counts under, built in or brought by a user. Also the shape of an
// induced taxonomy (`iopo construct taxonomy`). Reading files is the caller's job (construct's `readTaxonomy`).

import { z } from "zod";
import type { Constraint } from "./instruction.ts";
import { CATEGORIES, DIMENSIONS, type DimensionName, findDimension } from "./taxonomy.ts";

// ---- schemas ----

/** One dimension of a taxonomy file; extra fields are kept. */
export const TaxonomyDimensionSchema = z
  .object({
    category: z.string().min(1),
    name: z.string().min(1),
    zh: z.string().default(""),
    meaning: z.string().default(""),
  })
  .passthrough();
export type TaxonomyDimension = z.infer<typeof TaxonomyDimensionSchema>;

/** A taxonomy file: `categories` and `dimensions` (each dimension's category among them, names unique). */
export const TaxonomyFileSchema = z
  .object({
    categories: z.array(z.string().min(1)).min(1),
    dimensions: z.array(TaxonomyDimensionSchema).min(1),
  })
  .passthrough()
  .superRefine((t, ctx) => {
    const cats = new Set(t.categories);
    const seen = new Set<string>();
    t.dimensions.forEach((d, i) => {
      if (!cats.has(d.category))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["dimensions", i, "category"],
          message: `category ${JSON.stringify(d.category)} is not in "categories" (${t.categories.join(", ")})`,
        });
      const key = d.name.trim().toLowerCase();
      if (seen.has(key))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["dimensions", i, "name"],
          message: `dimension ${JSON.stringify(d.name)} appears twice`,
        });
      seen.add(key);
    });
  });
export type TaxonomyFile = z.infer<typeof TaxonomyFileSchema>;

/** A dimension of an induced taxonomy: the file fields plus what induction measured. */
export const InducedDimensionSchema = TaxonomyDimensionSchema.extend({
  /** Proposals merged into this dimension. */
  frequency: z.number().int().nonnegative(),
  /** Simple instructions whose proposals landed here (up to 3). */
  examples: z.array(z.string()),
  /** Example constraints the proposals gave (up to 3). */
  example_constraints: z.array(z.string()),
  /** The proposal names merged here, most frequent first. */
  aliases: z.array(z.string()),
  /** "builtin": one of the 26 dimensions; "new": proposed for the expert pass. */
  source: z.enum(["builtin", "new"]),
  /** Whether a rule checker exists for some form of this dimension. */
  rule_checker: z.boolean(),
});
export type InducedDimension = z.infer<typeof InducedDimensionSchema>;

export const InducedTaxonomySchema = z.object({
  description: z.string(),
  categories: z.array(z.string().min(1)),
  dimensions: z.array(InducedDimensionSchema),
});
export type InducedTaxonomy = z.infer<typeof InducedTaxonomySchema>;

/** One constraint type an LLM (or the offline world) proposes for a simple instruction. */
export const ProposalSchema = z.object({
  name: z.string().trim().min(1).max(120),
  /** Chinese name, when given. */
  zh: z.string().optional(),
  /** One of the categories, or a new one. */
  category: z.string().trim().min(1).default("Content"),
  definition: z.string().default(""),
  /** An example constraint of this type for the instruction. */
  example: z.string().default(""),
});
export type Proposal = z.infer<typeof ProposalSchema>;

/** One line of `proposals.jsonl`: a seed's proposals. */
export const ProposalRecordSchema = z.object({
  id: z.string(),
  seed_id: z.string(),
  seed: z.string(),
  proposals: z.array(ProposalSchema),
});
export type ProposalRecord = z.infer<typeof ProposalRecordSchema>;

// ---- lookup ----

/** Keys a label is found by: trimmed, lower-cased. */
const keyOf = (label: string) => label.trim().toLowerCase();

/** A taxonomy to classify constraints by: the built-in 26 dimensions, or a user's. */
export class Taxonomy {
  readonly categories: readonly string[];
  readonly dimensions: readonly TaxonomyDimension[];
  /** Whether this is the built-in taxonomy. */
  readonly builtin: boolean;
  private readonly byKey = new Map<string, TaxonomyDimension>();

  private constructor(file: TaxonomyFile, builtin: boolean) {
    this.categories = file.categories;
    this.dimensions = file.dimensions;
    this.builtin = builtin;
    for (const d of file.dimensions) {
      this.byKey.set(keyOf(d.name), d);
      if (d.zh) this.byKey.set(keyOf(d.zh), d);
    }
  }

  private static cached: Taxonomy | undefined;

  /** The built-in 5 categories and 26 dimensions. */
  static builtin(): Taxonomy {
    Taxonomy.cached ??= new Taxonomy(
      {
        categories: [...CATEGORIES],
        dimensions: DIMENSIONS.map((d) => ({ category: d.category, name: d.name, zh: d.zh, meaning: d.meaning })),
      },
      true,
    );
    return Taxonomy.cached;
  }

  /** A taxonomy from parsed file data (validate with `TaxonomyFileSchema` first). */
  static from(file: TaxonomyFile): Taxonomy {
    return new Taxonomy(file, false);
  }

  /** The dimension with this English name or Chinese label (case-insensitive), if the taxonomy has it. */
  find(label: string): TaxonomyDimension | undefined {
    return this.byKey.get(keyOf(label));
  }

  /** This taxonomy's dimension for a built-in one (by English name, then by Chinese label). */
  findBuiltin(name: DimensionName): TaxonomyDimension | undefined {
    const d = findDimension(name)!;
    return this.find(d.name) ?? this.find(d.zh);
  }

  /**
   * The dimension a constraint counts under: its type or label when this taxonomy has it; "unknown" for a
   * label (or type) outside the taxonomy; "untyped" when it has neither.
   */
  classify(c: Pick<Constraint, "type" | "label">): string {
    if (c.type !== undefined) return this.findBuiltin(c.type)?.name ?? "unknown";
    if (c.label !== undefined) return this.find(c.label)?.name ?? "unknown";
    return "untyped";
  }

  /** The category of one of this taxonomy's dimensions. */
  categoryOf(name: string): string | undefined {
    return this.find(name)?.category;
  }

  /**
   * How a constraint records a label: a built-in dimension goes to `type`; a dimension of this taxonomy that is
   * not built in goes to `label` under its name; anything else stays a raw `label` (counted as unknown).
   */
  tag(label: string): Pick<Constraint, "type" | "label"> {
    const d = this.find(label);
    if (!d) return { label };
    const b = findDimension(d.name) ?? (d.zh ? findDimension(d.zh) : undefined);
    return b ? { type: b.name as DimensionName } : { label: d.name };
  }
}
