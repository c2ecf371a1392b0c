// `iopo ifeval score`: score IFEval responses (official google-research semantics, strict and loose), print the
// four accuracies and the per-instruction table (or JSON), optionally write verdict lines. Wiring only.

import type { Command } from "commander";
import { z } from "zod";
import { ifeval } from "../evaluate/index.ts";
import { checkInputFile, checkOutputFile, writeJsonlAtomic } from "../io/index.ts";
import { parseOptions } from "./util.ts";

type IfevalSummary = ifeval.IfevalSummary;
const { scoreIfevalFiles } = ifeval;

function pct(a: { correct: number; total: number; accuracy: number | null }): string {
  const value = a.accuracy === null ? "-".padStart(7) : `${(100 * a.accuracy).toFixed(2).padStart(6)}%`;
  return `${value}  (${a.correct}/${a.total})`;
}

function report(s: IfevalSummary): string {
  const lines = [
    `prompt-level strict       ${pct(s.prompt_strict)}`,
    `instruction-level strict  ${pct(s.instruction_strict)}`,
    `prompt-level loose        ${pct(s.prompt_loose)}`,
    `instruction-level loose   ${pct(s.instruction_loose)}`,
    "",
    `${"instruction id".padEnd(48)} ${"strict".padStart(22)} ${"loose".padStart(22)}`,
  ];
  for (const [id, a] of Object.entries(s.per_instruction))
    lines.push(`${id.padEnd(48)} ${pct(a.strict).padStart(22)} ${pct(a.loose).padStart(22)}`);
  return lines.join("\n");
}

const ScoreOptions = z.strictObject({
  input: z.string().min(1),
  responses: z.string().min(1),
  out: z.string().min(1).optional(),
  json: z.boolean().default(false),
  stripThinking: z.boolean().default(false),
  skipInvalid: z.boolean().default(false),
});

export function registerIfeval(program: Command): void {
  const ifeval = program.command("ifeval").description("IFEval: score responses with the 25 official rule checkers");
  ifeval
    .command("score")
    .description("score responses strictly and loosely; prints prompt/instruction accuracy and per-id accuracy")
    .requiredOption("--input <file>", "IFEval prompts, one {key, prompt, instruction_id_list, kwargs} per line")
    .requiredOption("--responses <file>", "responses, one {prompt, response} (official) or {key, response} per line")
    .option("--out <file>", "write verdict lines {key, instruction_id_list, follow_instruction_list_strict/loose}")
    .option("--json", "print one JSON object (prompt_strict, instruction_strict, prompt_loose, instruction_loose, …)")
    .option("--strip-thinking", "remove <think>…</think> reasoning before checking")
    .option("--skip-invalid", "skip (and count) bad lines, unknown ids, missing responses instead of stopping")
    .addHelpText(
      "after",
      "\nExample:\n  iopo ifeval score --input input_data.jsonl --responses responses.jsonl --out verdicts.jsonl",
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(ScoreOptions, raw, "ifeval score");
      // Paths first: a directory given as --out is refused before any scoring, and nothing is written.
      checkInputFile(flags.input, "--input");
      checkInputFile(flags.responses, "--responses");
      if (flags.out) checkOutputFile(flags.out, "--out");
      const result = await scoreIfevalFiles(flags.input, flags.responses, {
        stripThinking: flags.stripThinking,
        skipInvalid: flags.skipInvalid,
      });
      if (flags.out) await writeJsonlAtomic(flags.out, result.verdicts);
      if (flags.json) {
        const { per_group, ...summary } = result.summary;
        process.stdout.write(`${JSON.stringify({ ...summary, per_group, skipped: result.skipped.length })}\n`);
      } else process.stdout.write(`${report(result.summary)}\n`);
      if (result.skipped.length > 0) {
        const first = result.skipped.slice(0, 5).map((s) => `  ${s.path ?? ""}:${s.line}: ${s.message.split("\n")[0]}`);
        process.stderr.write(`skipped ${result.skipped.length} item(s):\n${first.join("\n")}\n`);
      }
    });
}
