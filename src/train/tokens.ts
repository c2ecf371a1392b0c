// Pre-tokenized training data (`iopo train --format tokens`, benchmarks and parity checks): one JSON object of token
// ids per line — {"x1","y1","x2","y2"} for IOPO groups (the `iopo logps` format), {"prompt","chosen","rejected"}
// for pairs, {"prompt","response"} for SFT. No chat template and no EOS are added: the ids are trained as given.

import { z } from "zod";
import { DataError } from "../errors.ts";
import { readJsonl } from "../io/index.ts";
import { type IdRecord, PAIRS } from "./collate.ts";
import { LOSSES, type LossName } from "./losses.ts";

// ---- types ----

const Ids = z.array(z.number().int().nonnegative()).min(1);
const GroupIds = z.object({ id: z.string().optional(), x1: Ids, y1: Ids, x2: Ids, y2: Ids });
const PairIds = z.object({ id: z.string().optional(), prompt: Ids, chosen: Ids, rejected: Ids });
const ExampleIds = z.object({ id: z.string().optional(), prompt: Ids, response: Ids });
const TokenLine = z.union([GroupIds, PairIds, ExampleIds]);

export const TOKEN_LINE_HINT =
  'token lines are {"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]} (groups), {"prompt":[ids],"chosen":[ids],"rejected":[ids]} (pairs) or {"prompt":[ids],"response":[ids]} (SFT)';

// ---- exports ----

/** Read a tokens file as token-id records of the method's kind (sft-star: each group's two preferred examples). */
export async function loadTokenRecords(path: string, method: LossName): Promise<IdRecord[]> {
  const { kind, reads } = LOSSES[method];
  const out: IdRecord[] = [];
  for await (const { line, value: v } of readJsonl(path, TokenLine, { hint: TOKEN_LINE_HINT })) {
    const id = v.id ?? `line${line}`;
    const got = "x1" in v ? "group" : "chosen" in v ? "pair" : "example";
    if (got === "group" && "x1" in v && reads === "group") {
      if (kind === "group") out.push({ id, line, prompts: [v.x1, v.x2], responses: [v.y1, v.y2], pairs: PAIRS.group });
      else
        out.push(
          { id: `${id}#x1`, line, prompts: [v.x1], responses: [v.y1], pairs: PAIRS.example },
          { id: `${id}#x2`, line, prompts: [v.x2], responses: [v.y2], pairs: PAIRS.example },
        );
    } else if (got === "pair" && "chosen" in v && kind === "pair")
      out.push({ id, line, prompts: [v.prompt], responses: [v.chosen, v.rejected], pairs: PAIRS.pair });
    else if (got === "example" && "response" in v && kind === "example" && reads === "example")
      out.push({ id, line, prompts: [v.prompt], responses: [v.response], pairs: PAIRS.example });
    else
      throw new DataError(`--method ${method} trains on ${reads}s, and this line holds a ${got}`, {
        path,
        line,
        expected: `a ${reads} line`,
        got: `a ${got} line`,
        hint: TOKEN_LINE_HINT,
      });
  }
  if (out.length === 0)
    throw new DataError("no training records", { path, expected: "at least one token line", hint: TOKEN_LINE_HINT });
  return out;
}
