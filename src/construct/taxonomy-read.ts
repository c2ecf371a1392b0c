// Read a user's taxonomy file (`--taxonomy <file.json>`: the format of TRACE's taxonomy.json — `categories` and
// `dimensions` with `category`, `name`, `zh`, `meaning`; extra fields allowed) into a `Taxonomy`, with errors that
// name the file, the line and the field. Also an id (path and content hash) for run states.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { DataError } from "../errors.ts";
import { Taxonomy, TaxonomyFileSchema } from "../schema/index.ts";

const HINT =
  'a JSON object {"categories": ["Content", …], "dimensions": [{"category": "Content", "name": "Inclusion", "zh": "包含约束", "meaning": "…"}, …]}; see ../shared/data/trace/taxonomy.json';

/** 1-based line of the `index`-th dimension (by its name's first occurrence after "dimensions"), if found. */
function lineOf(text: string, raw: unknown, index: number): number | undefined {
  const name = (raw as { dimensions?: { name?: unknown }[] }).dimensions?.[index]?.name;
  const start = text.indexOf('"dimensions"');
  if (typeof name !== "string" || start < 0) return undefined;
  const at = text.indexOf(JSON.stringify(name), start);
  return at < 0 ? undefined : text.slice(0, at).split("\n").length;
}

export async function readTaxonomy(path: string): Promise<{ taxonomy: Taxonomy; id: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new DataError("cannot read the taxonomy file", { path, got: String(err), hint: HINT });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataError("the taxonomy file is not JSON", { path, got: String(err), hint: HINT });
  }
  const parsed = TaxonomyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const line =
      issue.path[0] === "dimensions" && typeof issue.path[1] === "number"
        ? lineOf(text, raw, issue.path[1])
        : undefined;
    throw new DataError(`invalid taxonomy: ${issue.message}`, {
      path,
      line,
      field: issue.path.join(".") || undefined,
      hint: HINT,
    });
  }
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  return { taxonomy: Taxonomy.from(parsed.data), id: `${path}#${hash}` };
}
