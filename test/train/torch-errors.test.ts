// Bad input for `--engine torch`: no Python, no torch, a torch too old (each one error naming what to install,
// before any work), and a model directory the ranks cannot load (file, field, expected/got and a HINT, as the
// embedded engine's errors). The interpreters are real: /usr/bin/python3 run without site-packages, or with a
// stand-in `torch` module of an old version placed first on its path.

import assert from "node:assert/strict";
import { chmod, cp, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError, ConfigError } from "../../src/errors.ts";
import { readSafetensors, writeSafetensors } from "../../src/model/index.ts";
import { runTraining } from "../../src/train/index.ts";
import { checkTorch, trainTorch, weightsHashOfDir } from "../../src/train/torch/index.ts";
import { asGroups, config, golden, goldenDir, quietLogger, tmp } from "./helpers.ts";

async function withPython<T>(python: string, f: () => Promise<T>): Promise<T> {
  const saved = process.env.IOPO_PYTHON;
  process.env.IOPO_PYTHON = python;
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.IOPO_PYTHON;
    else process.env.IOPO_PYTHON = saved;
  }
}

async function script(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** A run through runTraining that must fail before doing anything: the run directory is never created. */
async function refusedBeforeWork(python: string): Promise<ConfigError> {
  const dir = await tmp("notorch");
  const out = join(dir, "run");
  const c = config({ method: "iopo", engine: "torch", out, model: join(dir, "no-model"), data: join(dir, "no-data") });
  const err = await withPython(python, () =>
    runTraining(c, quietLogger()).then(
      () => null,
      (e: unknown) => e,
    ),
  );
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  await assert.rejects(stat(out), "nothing was written");
  return err;
}

test("no Python: one error naming the interpreter and what to install, before any work", async () => {
  const err = await refusedBeforeWork("/nonexistent/python3");
  assert.match(err.message, /cannot run \/nonexistent\/python3/);
  assert.match(err.message, /no such file/);
  assert.match(err.message, /HINT: install PyTorch ≥ 1\.13: `apt-get install python3-torch libopenblas0-pthread`/);
  assert.match(err.message, /pip install torch/);
});

test("no torch: Python without site-packages is refused with what to install", async () => {
  const dir = await tmp("nosite");
  const python = await script(dir, "python3", 'exec /usr/bin/python3 -S "$@"');
  const err = await refusedBeforeWork(python);
  assert.match(err.message, /PyTorch is not installed for/);
  assert.match(err.message, /ModuleNotFoundError/);
  assert.match(err.message, /apt-get install python3-torch libopenblas0-pthread/);
});

test("torch too old: a torch 1.12 is refused; FSDP on torch 1.13 is refused", async () => {
  const dir = await tmp("oldtorch");
  await mkdir(join(dir, "fake", "torch"), { recursive: true });
  await writeFile(join(dir, "fake", "torch", "__init__.py"), '__version__ = "1.12.1"\n');
  const python = await script(
    dir,
    "python3",
    `PYTHONPATH="${join(dir, "fake")}:$PYTHONPATH" exec /usr/bin/python3 -S "$@"`,
  );
  const err = await refusedBeforeWork(python);
  assert.match(err.message, /PyTorch 1\.12\.1 is too old \[field --engine\]; expected torch ≥ 1\.13, got 1\.12\.1/);
  assert.match(err.message, /HINT: install PyTorch ≥ 1\.13/);
  // The real torch here is 1.13: FSDP needs 2.1.
  const info = await checkTorch({});
  if (!/^(1\.|2\.0)/.test(info.torch)) return; // a newer torch has FSDP: nothing to refuse
  await assert.rejects(checkTorch({ fsdp: true }), /--fsdp needs PyTorch ≥ 2\.1[\s\S]*HINT: drop --fsdp/);
  if (!info.cuda)
    await assert.rejects(checkTorch({ device: "cuda" }), /--device cuda: this PyTorch sees no CUDA device/);
});

test("a model directory the ranks cannot load: file, field, expected/got and a HINT", async () => {
  const { groups, policy } = await golden("llama-tiny");
  const dir = await tmp("badmodel");
  const model = join(dir, "model");
  await cp(`${goldenDir("llama-tiny")}policy`, model, { recursive: true });
  // model.norm.weight stored as [1, C] instead of [C].
  const { tensors } = await readSafetensors(join(model, "model.safetensors"));
  await writeSafetensors(
    join(model, "model.safetensors"),
    [...tensors].map(([name, t]) => ({
      name,
      shape: name === "model.norm.weight" ? [1, ...t.shape] : t.shape,
      data: t.data,
    })),
  );
  const out = join(dir, "run");
  const err = await trainTorch({
    config: config({ method: "sft", engine: "torch", out, model, max_steps: 1, batch: 3, accum: 1 }),
    modelConfig: policy.config,
    records: asGroups(groups).map((g, i) => ({ ...g, id: `e${i}`, seqs: g.seqs.slice(0, 1) })),
    logger: quietLogger(),
    refHash: await weightsHashOfDir(model, policy.config),
  }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof CheckpointError, `expected a CheckpointError, got ${String(err)}`);
  assert.match(err.message, new RegExp(`${join(model, "model.safetensors")}: tensor has the wrong shape`));
  assert.match(err.message, /\[field model\.norm\.weight\]; expected \[48\], got \[1, 48\]/);
  assert.match(err.message, /HINT: the weights do not match config\.json/);
});
