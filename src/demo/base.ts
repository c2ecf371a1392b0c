// The demo's shipped base model (assets/demo-base/, written once by scripts/demo-base.ts): an instruction-tuned
// starting point, as the paper's runs start from an instruction-tuned model rather than from random weights. The full
// profile copies it as every seed's starting model; `base.json` records how it was made.

import { existsSync } from "node:fs";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CheckpointError } from "../errors.ts";
import { writeDirAtomic } from "../io/index.ts";
import { type DemoConfig, DemoConfigSchema } from "./config.ts";

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
  model: DemoConfigSchema.shape.model,
});
export type DemoBaseInfo = z.infer<typeof DemoBaseInfoSchema>;

/** assets/demo-base/ of this package (the same from src/ and from the compiled dist/). */
export const SHIPPED_BASE_DIR = fileURLToPath(new URL("../../assets/demo-base/", import.meta.url));

const RESTORE = "restore assets/demo-base/ from the repository, or rebuild it with npm run demo:base";

/** A base.json read and checked (file missing → null). */
async function readInfo(path: string): Promise<DemoBaseInfo | null> {
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new CheckpointError("not a demo base description", {
      path,
      got: `invalid JSON (${String(e)})`,
      hint: RESTORE,
    });
  }
  const parsed = DemoBaseInfoSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError("not a demo base description", {
      path,
      field: issue?.path.join(".") || undefined,
      got: issue?.message,
      hint: RESTORE,
    });
  }
  return parsed.data;
}

/** Copy `files` of `from` into the directory `to` atomically (it replaces `to` whole: never a partial copy). */
export async function copyDirAtomic(from: string, files: readonly string[], to: string): Promise<void> {
  try {
    await writeDirAtomic(to, async (tmp) => {
      for (const f of files) await copyFile(join(from, f), join(tmp, f));
    });
  } catch (err) {
    throw new CheckpointError("cannot copy the model directory", { path: to, got: String(err), cause: err });
  }
}

/** How the shipped base was made, checked against the demo's model shape, and that its files are there. */
export async function readBaseInfo(c: DemoConfig, dir = SHIPPED_BASE_DIR): Promise<DemoBaseInfo> {
  const path = join(dir, "base.json");
  const info = await readInfo(path);
  if (!info) throw new CheckpointError("the demo's base model is missing", { path, hint: RESTORE });
  const differs = (Object.keys(c.model) as (keyof DemoConfig["model"])[]).filter((k) => info.model[k] !== c.model[k]);
  if (differs.length > 0)
    throw new CheckpointError("the base model's shape differs from the demo's model", {
      path,
      expected: differs.map((k) => `${k} ${c.model[k]}`).join(", "),
      got: differs.map((k) => `${k} ${info.model[k]}`).join(", "),
      hint: "rebuild the base with npm run demo:base",
    });
  const missing = BASE_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0)
    throw new CheckpointError("the demo's base model is incomplete", {
      path: dir,
      expected: BASE_FILES.join(", "),
      got: `no ${missing.join(", ")}`,
      hint: RESTORE,
    });
  return info;
}

/** Copies the shipped base, with its base.json (the run records what it started from), into `out` atomically. */
export async function copyBase(c: DemoConfig, out: string, dir = SHIPPED_BASE_DIR): Promise<DemoBaseInfo> {
  const info = await readBaseInfo(c, dir);
  await copyDirAtomic(dir, ["base.json", ...BASE_FILES], out);
  return info;
}

/** What a seed's starting model was made from: its base.json (a copy of the shipped base's), or null (a new model). */
export function startingBase(initDir: string): Promise<DemoBaseInfo | null> {
  return readInfo(join(initDir, "base.json"));
}
