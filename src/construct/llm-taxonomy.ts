// The LLM's taxonomy roles: propose constraint types for a simple instruction, judge whether two proposed types
// are the same, and map a type onto the built-in 26 dimensions (or none). One request each, zod-checked replies.

import { z } from "zod";
import { InvalidReply } from "../llm/index.ts";
import { DIMENSIONS, type DimensionName, findDimension, type Proposal, ProposalSchema } from "../schema/index.ts";
import { ask, jsonReply, type Lang, prompt, type Requester } from "./llm-common.ts";
import { ok, type SeedRecord, type StageResult, type TaxonomyRoles, type TypeCluster } from "./roles.ts";

// ---- helpers ----

const ProposeReply = z.object({ types: z.array(ProposalSchema).min(1) });
const SameReply = z.object({ same: z.boolean() });
const MapReply = z.object({ dimension: z.string().nullable() });

function describe(c: TypeCluster, lang: Lang): string {
  const names = c.aliases.slice(0, 5);
  if (lang === "zh") return `${c.name}${names.length ? `（又称：${names.join("、")}）` : ""}：${c.definition}`;
  return `${c.name}${names.length ? ` (also called: ${names.join(", ")})` : ""}: ${c.definition}`;
}

// ---- exports ----

export class LlmTaxonomyRoles implements TaxonomyRoles {
  readonly origin: string;
  private readonly r: Requester;
  private readonly lang: Lang;

  constructor(o: { readonly requester: Requester; readonly model: string; readonly lang?: Lang }) {
    this.r = o.requester;
    this.origin = `llm:${o.model}`;
    this.lang = o.lang ?? "en";
  }

  async propose(seed: SeedRecord, key: string): Promise<StageResult<Proposal[]>> {
    const text = seed.input === null ? seed.text : `${seed.text}\n# Inputs:\n${seed.input}`;
    const r = await ask(
      this.r,
      `propose:${key}`,
      prompt("propose", this.lang, { seed: text }),
      jsonReply(ProposeReply),
      "propose_failed",
    );
    return r.ok ? ok(r.value.types) : r;
  }

  same(a: TypeCluster, b: TypeCluster, key: string): Promise<StageResult<boolean>> {
    return ask(
      this.r,
      key,
      prompt("merge", this.lang, { a: describe(a, this.lang), b: describe(b, this.lang) }),
      (t) => jsonReply(SameReply)(t).same,
      "propose_failed",
    );
  }

  map(c: TypeCluster, key: string): Promise<StageResult<DimensionName | null>> {
    const dims = DIMENSIONS.map((d) =>
      this.lang === "en" ? `- ${d.name}: ${d.meaning}` : `- ${d.zh}: ${d.meaning_zh}`,
    ).join("\n");
    const parse = (t: string): DimensionName | null => {
      const v = jsonReply(MapReply)(t).dimension;
      if (v === null || v.trim() === "" || /^none$/i.test(v.trim())) return null;
      const d = findDimension(v);
      if (!d) throw new InvalidReply(`"${v}" is not one of the listed dimensions`);
      return d.name as DimensionName;
    };
    return ask(
      this.r,
      key,
      prompt("map", this.lang, { type: describe(c, this.lang), dimensions: dims }),
      parse,
      "propose_failed",
    );
  }
}
