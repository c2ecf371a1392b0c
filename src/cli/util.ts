// Small helpers shared by CLI commands: reporting skipped lines.

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
