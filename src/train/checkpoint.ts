// Self-describing checkpoints (STYLE 27): `<out>/checkpoint-<step>/` is a Hugging Face model directory (config,
// model.safetensors in the dtype config.json names, tokenizer files) — or, for LoRA, a PEFT adapter directory —
// plus `optimizer.safetensors` (AdamW moments), `master.safetensors` (the exact float32 weights when the model is
// stored in half precision), `trainer_state.json` and `manifest.json` (format, version, step, table hash). Written
// to a temporary sibling and renamed into place, so a crash never leaves a half checkpoint.

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CheckpointError } from "../errors.ts";
import {
  configDtype,
  type LoraSpec,
  loadModelDir,
  type ModelDir,
  type ModelParams,
  type ParamSpec,
  readSafetensors,
  SIDE_FILES,
  saveModelDir,
  writeAdapterFiles,
  writeSafetensors,
} from "../model/index.ts";

// ---- types ----

export const CHECKPOINT_FORMAT = "iopo-checkpoint";
export const CHECKPOINT_VERSION = 1;

/** Where the loop is: everything besides weights and moments that a resumed run needs to continue exactly. */
export const TrainerStateSchema = z.object({
  /** Optimizer steps done. */
  step: z.number().int().nonnegative(),
  /** Epoch of the next record (0-based) and its position in `order`. */
  epoch: z.number().int().nonnegative(),
  cursor: z.number().int().nonnegative(),
  /** This epoch's record order (a permutation of record indices). */
  order: z.array(z.number().int().nonnegative()),
  /** Shuffling generator state after drawing `order`. */
  rng: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  /** Total optimizer steps of the run (the schedule's horizon). */
  total_steps: z.number().int().positive(),
  /** Tokens trained on so far. */
  tokens: z.number().nonnegative(),
});
export type TrainerState = z.infer<typeof TrainerStateSchema>;

export const ManifestSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  step: z.number().int().nonnegative(),
  /** sha256 of the parameter table (keys and shapes): a checkpoint only resumes the same architecture. */
  param_table_hash: z.string(),
  /** AdamW step count (bias correction). */
  adam_t: z.number().int().nonnegative(),
  /** The run's effective training config. */
  config: z.record(z.string(), z.unknown()),
  /** Last step's loss, for a quick look. */
  loss: z.number().nullable(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** What a checkpoint's weights are: a whole model, or a LoRA adapter over a base (named in adapter_config.json). */
export type CheckpointWeights =
  | { readonly kind: "model"; readonly model: ModelDir }
  | {
      readonly kind: "adapter";
      readonly spec: LoraSpec;
      readonly params: ModelParams;
      readonly base: string;
      readonly files: ModelDir["files"];
    };

export interface LoadedCheckpoint {
  readonly dir: string;
  /** The trained tensors in float32, exactly as they were (table order). */
  readonly weights: Float32Array[];
  readonly manifest: Manifest;
  readonly state: TrainerState;
  readonly m: Float32Array[];
  readonly v: Float32Array[];
}

// ---- helpers ----

const STEP_DIR = /^checkpoint-(\d+)$/;
const MASTER = "master.safetensors";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The trained tensors of a checkpoint, in float32: the master copy, the adapter, or the model's own file. */
async function readTrained(dir: string, table: readonly ParamSpec[]): Promise<Float32Array[]> {
  const file = (await exists(join(dir, MASTER)))
    ? join(dir, MASTER)
    : (await exists(join(dir, "adapter_model.safetensors")))
      ? join(dir, "adapter_model.safetensors")
      : null;
  if (!file) return (await loadModelDir(dir)).params.tensors;
  const { tensors } = await readSafetensors(file);
  return table.map((row) => {
    const t = tensors.get(row.key) ?? tensors.get(`base_model.model.${row.key}`);
    if (!t) throw new CheckpointError("checkpoint weights lack a tensor", { path: file, field: row.key });
    return t.data;
  });
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new CheckpointError("cannot read checkpoint file", {
      path,
      got: String(err),
      hint: "resume from an earlier checkpoint-<step> directory or start over without --resume",
    });
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, path: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new CheckpointError("checkpoint file has the wrong format", {
      path,
      field: r.error.issues[0]?.path.join("."),
      expected: `${CHECKPOINT_FORMAT} version ${CHECKPOINT_VERSION}`,
      got: r.error.issues[0]?.message,
      hint: "this checkpoint was written by another version of iopo; start a new run with a fresh --out",
    });
  return r.data;
}

// ---- exports ----

/** sha256 of the parameter table's keys and shapes. */
export function paramTableHash(table: readonly ParamSpec[]): string {
  return createHash("sha256")
    .update(table.map((r) => `${r.key}:${r.shape.join("x")}`).join(";"))
    .digest("hex");
}

export const checkpointDir = (out: string, step: number): string => join(out, `checkpoint-${step}`);

/** Write `<out>/checkpoint-<step>` atomically. */
export async function saveCheckpoint(
  out: string,
  weights: CheckpointWeights,
  moments: { m: readonly Float32Array[]; v: readonly Float32Array[]; t: number },
  state: TrainerState,
  config: Record<string, unknown>,
  loss: number | null,
): Promise<string> {
  const dir = checkpointDir(out, state.step);
  const tmp = join(out, `.checkpoint-${state.step}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  let table: readonly ParamSpec[];
  if (weights.kind === "model") {
    const { model } = weights;
    table = model.params.table;
    await saveModelDir(tmp, model); // in the dtype config.json names
    // Half-precision weights lose bits: keep the float32 masters, so a resume continues exactly.
    if (configDtype(model.config) !== "F32")
      await writeSafetensors(
        join(tmp, MASTER),
        table.map((r, i) => ({ name: r.key, shape: r.shape, data: model.params.tensors[i]! })),
      );
  } else {
    table = weights.params.table;
    await mkdir(tmp, { recursive: true });
    await writeAdapterFiles(tmp, weights.spec, weights.params, weights.base);
    for (const name of SIDE_FILES)
      if (weights.files[name] !== undefined)
        await writeFile(join(tmp, name), `${JSON.stringify(weights.files[name], null, 2)}\n`);
  }
  await writeSafetensors(join(tmp, "optimizer.safetensors"), [
    ...table.map((r, i) => ({ name: `exp_avg.${r.key}`, shape: r.shape, data: moments.m[i]! })),
    ...table.map((r, i) => ({ name: `exp_avg_sq.${r.key}`, shape: r.shape, data: moments.v[i]! })),
  ]);
  await writeFile(join(tmp, "trainer_state.json"), `${JSON.stringify(state)}\n`);
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: state.step,
    param_table_hash: paramTableHash(table),
    adam_t: moments.t,
    config,
    loss,
  };
  await writeFile(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}

/** The checkpoint directory with the highest step that has a manifest, or null. */
export async function latestCheckpoint(out: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    return null;
  }
  const steps = names
    .map((n) => STEP_DIR.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const s of steps) {
    const ok = await stat(join(checkpointDir(out, s), "manifest.json")).then(
      () => true,
      () => false,
    );
    if (ok) return checkpointDir(out, s);
  }
  return null;
}

/** Read a checkpoint's manifest, trainer state and moments, checked against `table`. */
export async function loadCheckpoint(dir: string, table: readonly ParamSpec[]): Promise<LoadedCheckpoint> {
  const manifestPath = join(dir, "manifest.json");
  const manifest = parse(ManifestSchema, await readJson(manifestPath), manifestPath);
  if (manifest.param_table_hash !== paramTableHash(table))
    throw new CheckpointError("checkpoint is of another architecture", {
      path: manifestPath,
      expected: `parameter table ${paramTableHash(table).slice(0, 12)}`,
      got: manifest.param_table_hash.slice(0, 12),
      hint: "resume with the same --model the run started from",
    });
  const statePath = join(dir, "trainer_state.json");
  const state = parse(TrainerStateSchema, await readJson(statePath), statePath);
  const optPath = join(dir, "optimizer.safetensors");
  const { tensors } = await readSafetensors(optPath);
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new CheckpointError("optimizer state lacks a tensor", { path: optPath, field: name });
    return t.data;
  };
  return {
    dir,
    manifest,
    state,
    weights: await readTrained(dir, table),
    m: table.map((r) => get(`exp_avg.${r.key}`)),
    v: table.map((r) => get(`exp_avg_sq.${r.key}`)),
  };
}
