// The demo's shipped base model (assets/demo-base/, written once by scripts/demo-base.ts): an instruction-tuned
// starting point, as the paper's runs start from an instruction-tuned model rather than from random weights. The full
// profile copies it as every seed's starting model; `base.json` records how it was made.

import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CheckpointError } from "../errors.ts";
import type { DemoConfig } from "./config.ts";

// ---- exports ----

/** The files of a model directory that make the base (no optimizer state, no trainer state). */
export const BASE_FILES = [
  "config.json",
  "generation_config.json",
  "model.safetensors",
  "special_tokens_map.json",
  "tokenizer.json",
  "tokenizer_config.json",
] as const;

export const DemoBaseInfoSchema = z.object({
  script: z.string(),
  construction_seed: z.number().int(),
  seeds: z.number().int(),
  max_chars: z.number().int(),
  sft_examples: z.number().int(),
  steps: z.number().int(),
  batch: z.number().int(),
  lr: z.number(),
  warmup: z.number(),
  tokens: z.object({ prompt: z.number(), response: z.number() }),
  final_loss: z.number(),
  model: z.object({
    arch: z.string(),
    vocab_size: z.number().int(),
    hidden: z.number().int(),
    layers: z.number().int(),
    heads: z.number().int(),
    kv_heads: z.number().int(),
    intermediate: z.number().int(),
  }),
});
export type DemoBaseInfo = z.infer<typeof DemoBaseInfoSchema>;

/** assets/demo-base/ of this package (the same from src/ and from the compiled dist/). */
export const SHIPPED_BASE_DIR = fileURLToPath(new URL("../../assets/demo-base/", import.meta.url));

/** How the shipped base was made, checked against the demo's model shape. */
export async function readBaseInfo(c: DemoConfig, dir = SHIPPED_BASE_DIR): Promise<DemoBaseInfo> {
  const path = join(dir, "base.json");
  if (!existsSync(path))
    throw new CheckpointError("the demo's base model is missing", {
      path,
      hint: "restore assets/demo-base/ from the repository, or rebuild it with npm run demo:base",
    });
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch {
    json = undefined;
  }
  const parsed = DemoBaseInfoSchema.safeParse(json);
  if (!parsed.success)
    throw new CheckpointError("not a demo base description", {
      path,
      field: parsed.error.issues[0]?.path.join("."),
      hint: "restore assets/demo-base/ from the repository, or rebuild it with npm run demo:base",
    });
  const info = parsed.data;
  const differs = (Object.keys(c.model) as (keyof DemoConfig["model"])[]).filter((k) => info.model[k] !== c.model[k]);
  if (differs.length > 0)
    throw new CheckpointError("the base model's shape differs from the demo's model", {
      path,
      expected: differs.map((k) => `${k} ${c.model[k]}`).join(", "),
      got: differs.map((k) => `${k} ${info.model[k]}`).join(", "),
      hint: "rebuild the base with npm run demo:base",
    });
  return info;
}

/** Copies the shipped base into `out` (a seed's starting model). */
export async function copyBase(c: DemoConfig, out: string, dir = SHIPPED_BASE_DIR): Promise<DemoBaseInfo> {
  const info = await readBaseInfo(c, dir);
  await mkdir(out, { recursive: true });
  // base.json too (the run records what it started from); model.safetensors last: its presence marks the phase
  // complete (src/demo/run.ts).
  for (const f of ["base.json", ...BASE_FILES.filter((f) => f !== "model.safetensors"), "model.safetensors"])
    await copyFile(join(dir, f), join(out, f));
  return info;
}

/** What a seed's starting model was made from: its base.json (a copy of the shipped base's), or null (a new model). */
export async function startingBase(initDir: string): Promise<DemoBaseInfo | null> {
  const path = join(initDir, "base.json");
  if (!existsSync(path)) return null;
  const parsed = DemoBaseInfoSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  return parsed.success ? parsed.data : null;
}
