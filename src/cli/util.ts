// Small helpers shared by CLI commands: option validation and reporting skipped lines.

import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import type { Skipped } from "../io/index.ts";

/** Tell the user on stderr how many lines were skipped and where (first few in full). */
export function reportSkipped(path: string, skipped: readonly Skipped[]): void {
  if (skipped.length === 0) return;
  const lines = skipped.slice(0, 5).map((s) => `  ${s.message.split("\n")[0]}`);
  const more = skipped.length > 5 ? `\n  … and ${skipped.length - 5} more` : "";
  const where = skipped.map((s) => s.line).join(", ");
  process.stderr.write(
    `skipped ${skipped.length} invalid line(s) of ${path} (lines ${where}):\n${lines.join("\n")}${more}\n`,
  );
}

/** The HINT a data error carries in commands that accept --skip-invalid. */
export const SKIP_HINT =
  "fix that line, or rerun with --skip-invalid to skip invalid lines (they are counted and listed)";

/** Validate a command's options with its zod schema; the first problem becomes a ConfigError naming the flag. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, command: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const flag = issue.path.length
    ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
    : undefined;
  throw new ConfigError(flag ? `bad option ${flag}: ${issue.message}` : issue.message, {
    field: issue.path.join(".") || undefined,
    hint: `see \`iopo ${command} --help\``,
  });
}
