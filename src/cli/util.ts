// Small helpers shared by CLI commands: option validation and reporting skipped lines.

import { z } from "zod";
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

/** A whole-number flag given as text, at least `min`; the message names the flag. */
export const int = (name: string, min: number) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .int(`--${name} must be a whole number`)
    .min(min, `--${name} must be ≥ ${min}`);

/** A number flag given as text, in [min, max]; the message names the flag. */
export const num = (name: string, min: number, max: number) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .min(min, `--${name} must be ≥ ${min}`)
    .max(max, `--${name} must be ≤ ${max}`);

const kebab = (key: string) => key.replace(/_/g, "-").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Validate a command's options with its zod schema; the first problem becomes a ConfigError naming the flag (or,
 * with `file`, the key of that config file). Unknown keys are named; zod's "Invalid input" prefix is dropped.
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, command: string, file?: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const hint = `see \`iopo ${command} --help\``;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => (file ? JSON.stringify(k) : `--${kebab(k)}`)).join(", ");
    throw new ConfigError(file ? `unknown key(s) ${keys} in the config file` : `unknown option(s) ${keys}`, {
      path: file,
      expected: file ? "the snake_case names of the command's options" : "the command's options",
      got: keys,
      hint,
    });
  }
  const key = issue.path.length ? String(issue.path[0]) : undefined;
  const flag = key ? `--${kebab(key)}` : undefined;
  const message = issue.message.replace(/^Invalid input: /, "");
  const where = flag ? (message.startsWith(flag) ? "" : `bad option ${flag}: `) : "";
  throw new ConfigError(`${where}${message}`, {
    path: file,
    field: issue.path.join(".") || undefined,
    hint,
  });
}
