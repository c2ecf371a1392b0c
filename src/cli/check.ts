// `iopo check --instruction <file> --response <file> [--json]`: the rule checkers' verdict per constraint.
// Wiring only; a constraint without a rule checker is reported as such (ok: null).

import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { checkResponse } from "../checks/rules/index.ts";
import { DataError } from "../errors.ts";
import { fsHint, readJsonFile } from "../io/index.ts";
import { InstructionSchema } from "../schema/index.ts";
import { parseOptions } from "./util.ts";

const OptionsSchema = z.strictObject({
  instruction: z.string().min(1),
  response: z.string().min(1),
  json: z.boolean().default(false),
});

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("Check a response against a structured instruction's constraints with the rule checkers")
    .requiredOption("--instruction <file>", "one structured instruction as JSON {id, description, constraints, input}")
    .requiredOption("--response <file>", "the response text")
    .option("--json", 'print {"constraints": [{"text", "type", "ok"}], "all_ok"}')
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseOptions(OptionsSchema, raw, "check");
      const x = await readJsonFile(
        opts.instruction,
        InstructionSchema,
        "the file must hold one structured instruction",
      );
      let response: string;
      try {
        response = await readFile(opts.response, "utf8");
      } catch (err) {
        throw new DataError("cannot read the response file", {
          path: opts.response,
          expected: "a text file (--response)",
          got: (err as Error).message,
          hint: fsHint((err as NodeJS.ErrnoException).code) ?? "check the path given to --response",
        });
      }
      const v = checkResponse(x, response);
      if (opts.json) {
        const constraints = v.constraints.map((c) => ({
          text: c.text,
          type: c.type ?? null,
          ok: c.ok,
          ...(c.note ? { note: c.note } : {}),
          ...(c.issues.length ? { issues: c.issues } : {}),
        }));
        process.stdout.write(`${JSON.stringify({ constraints, all_ok: v.all_ok })}\n`);
      } else {
        for (const c of v.constraints) {
          const mark = c.ok === null ? "  ? " : c.ok ? "  ✓ " : "  ✗ ";
          const why =
            c.ok === null ? ` (${c.note})` : c.issues.map((i) => ` — expected ${i.expected}, got ${i.got}`).join("");
          process.stdout.write(`${mark}${c.text}${why}\n`);
        }
        process.stdout.write(`all_ok: ${v.all_ok}\n`);
      }
      if (v.all_ok === false) process.exitCode = 1;
    });
}
