// The project's own JSONL formats, one schema each: instructions, SFT examples, DPO pairs, IOPO groups.

import type { z } from "zod";
import { ExampleSchema, InstructionSchema, IopoGroupSchema, PreferencePairSchema } from "../../schema/index.ts";
import { readJsonl, writeJsonlAtomic } from "../jsonl.ts";
import type { Format, Item, ItemKind } from "./item.ts";

function projectFormat(kind: ItemKind, schema: z.ZodType, description: string): Format {
  return {
    description,
    kinds: [kind],
    async *read(path, options) {
      for await (const { line, value } of readJsonl(path, schema, options)) yield { kind, value, line } as Item;
    },
    async write(path, items) {
      async function* values() {
        for await (const item of items) yield item.value;
      }
      return { written: await writeJsonlAtomic(path, values()), extra: [] };
    },
  };
}

export const instructionsFormat = projectFormat("instruction", InstructionSchema, "iopo instructions JSONL");
export const sftFormat = projectFormat("example", ExampleSchema, "iopo SFT examples JSONL (instruction, response)");
export const pairsFormat = projectFormat(
  "pair",
  PreferencePairSchema,
  "iopo DPO pairs JSONL (instruction, chosen, rejected)",
);
export const groupsFormat = projectFormat(
  "group",
  IopoGroupSchema,
  "iopo IOPO groups JSONL (x1, y1, x2, y2, op, lineage)",
);
