// metrics.jsonl of a training run, shared by both engines (trainer.ts and torch/engine.ts): the step's mean of the
// per-record metrics (TRL names), and trimming the file back to a checkpoint's step when a run resumes.

import { readFile, writeFile } from "node:fs/promises";

/** Mean of per-record metrics (TRL names). */
export function meanMetrics(per: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of per) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v / per.length;
  return out;
}

/** Keep metrics lines up to `step` (a resumed run rewrites what follows); a missing file is left missing. */
export async function trimMetrics(path: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return;
  }
  const keep = text.split("\n").filter((l) => l.trim() && (JSON.parse(l) as { step: number }).step <= step);
  await writeFile(path, keep.map((l) => `${l}\n`).join(""));
}
