// Structured replies: a zod schema becomes a JSON-schema constraint for the provider and a validating parser;
// an invalid reply throws InvalidReply, which the engine retries and finally records as a failure with its reason.
// Never coerces or repairs a reply beyond stripping a Markdown code fence.

import { z } from "zod";
import type { EngineOutcome, EngineRequest, RequestEngine, RunSummary } from "./engine.ts";
import { InvalidReply } from "./errors.ts";

// ---- helpers ----

/** Strip one surrounding ```json … ``` fence, which many models add despite instructions. */
function unfence(text: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return m ? m[1]! : text;
}

// ---- exports ----

/** A parser for the engine: JSON.parse then `schema`; throws InvalidReply naming the first problem. */
export function jsonReply<S extends z.ZodType>(schema: S): (text: string) => z.infer<S> {
  return (text) => {
    let raw: unknown;
    try {
      raw = JSON.parse(unfence(text));
    } catch (err) {
      throw new InvalidReply(`reply is not JSON: ${(err as Error).message}`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidReply(
        `reply does not match the schema at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      );
    }
    return parsed.data;
  };
}

/** The JSON schema sent to providers for `schema` (part of the cache key, so a schema change misses the cache). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema) as Record<string, unknown>;
}

/** Run requests whose replies must match `schema`; outcomes carry the parsed `value`. */
export function runStructured<S extends z.ZodType>(
  engine: RequestEngine,
  requests: Iterable<EngineRequest>,
  schema: S,
  onResult?: (outcome: EngineOutcome<z.infer<S>>) => void,
): Promise<RunSummary> {
  const json_schema = jsonSchemaOf(schema);
  const withSchema = function* () {
    for (const r of requests) yield { ...r, options: { ...r.options, json_schema } };
  };
  return engine.run(withSchema(), onResult, jsonReply(schema));
}
