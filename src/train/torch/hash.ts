// The weights hash of a model directory (refcache.ts weightsHash: config, then every table row's key and float32
// bytes), read one tensor at a time, so the torch engine keys the reference cache like the embedded engine without
// holding a 7B model in this process. Does not check shapes beyond what the hash needs (the ranks check them).

import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError } from "../../errors.ts";
import { type ModelConfig, openSafetensors, paramTable } from "../../model/index.ts";

// ---- helpers ----

/** tensor name → file of a model directory (single file or the shard index). */
async function weightFiles(dir: string): Promise<Map<string, string>> {
  const single = join(dir, "model.safetensors");
  const index = join(dir, "model.safetensors.index.json");
  if (
    await stat(single).then(
      () => true,
      () => false,
    )
  ) {
    const r = await openSafetensors(single);
    await r.close();
    return new Map(r.tensors.map((t) => [t.name, single]));
  }
  let map: Record<string, string>;
  try {
    map = (JSON.parse(await readFile(index, "utf8")) as { weight_map: Record<string, string> }).weight_map;
  } catch (err) {
    throw new CheckpointError("no readable weights in model directory", {
      path: dir,
      expected: "model.safetensors or model.safetensors.index.json with a weight_map",
      got: String(err),
      hint: "pass a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)",
    });
  }
  return new Map(Object.entries(map).map(([k, f]) => [k, join(dir, f)]));
}

// ---- exports ----

/** sha256 of config + weights in parameter-table order, equal to weightsHash(loadModelDir(dir)). */
export async function weightsHashOfDir(dir: string, cfg: ModelConfig): Promise<string> {
  const files = await weightFiles(dir);
  const h = createHash("sha256");
  h.update(JSON.stringify(cfg));
  const open = new Map<string, Awaited<ReturnType<typeof openSafetensors>>>();
  try {
    for (const row of paramTable(cfg)) {
      const file = files.get(row.key);
      if (!file)
        throw new CheckpointError("model weights lack a tensor", {
          path: dir,
          field: row.key,
          expected: `a tensor of shape [${row.shape.join(", ")}]`,
          hint: "the weights do not match config.json; re-export the model with its config",
        });
      if (!open.has(file)) open.set(file, await openSafetensors(file));
      const t = await open.get(file)!.read(row.key);
      h.update(row.key);
      h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    }
  } finally {
    for (const r of open.values()) await r.close();
  }
  return h.digest("hex");
}
