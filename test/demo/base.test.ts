import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  BASE_FILES,
  copyBase,
  DemoConfigSchema,
  demoConfig,
  readBaseInfo,
  SHIPPED_BASE_DIR,
  startingBase,
} from "../../src/demo/index.ts";
import { initModelPhase, layout } from "../../src/demo/phases.ts";
import { CheckpointError } from "../../src/errors.ts";
import { loadModelDir } from "../../src/model/index.ts";

/** Runs `fn` in a fresh temporary directory, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "iopo-base-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("demo base: a configuration saved before `base` existed reads as a new model", () => {
  const full = demoConfig("full", 0);
  const { base: _, ...old } = full;
  assert.equal(DemoConfigSchema.parse(old).base, "new");
  assert.equal(demoConfig("quick", 0).base, "new");
});

test("demo base: the shipped base has the full profile's model shape, and copies as a loadable model", async () => {
  const c = demoConfig("full", 0);
  const info = await readBaseInfo({ ...c, base: "shipped" });
  assert.deepEqual(info.model, c.model);
  assert.ok(info.steps > 0 && info.sft_examples > 0 && info.tokens.response > 0);
  await inTempDir(async (dir) => {
    const out = join(dir, "init");
    await copyBase(c, out);
    for (const f of [...BASE_FILES, "base.json"])
      assert.deepEqual(await readFile(join(out, f)), await readFile(join(SHIPPED_BASE_DIR, f)), f);
    // The run records what it started from; a new model (no base.json) has no base.
    assert.deepEqual(await startingBase(out), info);
    assert.equal(await startingBase(dir), null);
    const m = await loadModelDir(out);
    assert.equal(m.config.hidden_size, c.model.hidden);
    assert.equal(m.config.num_hidden_layers, c.model.layers);
    assert.equal(m.config.vocab_size, c.model.vocab_size);
  });
});

test("demo base: a missing or mismatched base is refused naming the file and the fields", async () => {
  const c = demoConfig("full", 0);
  await inTempDir(async (dir) => {
    await assert.rejects(
      readBaseInfo(c, dir),
      (e: unknown) => e instanceof CheckpointError && e.message.includes(join(dir, "base.json")),
    );
    await copyFile(join(SHIPPED_BASE_DIR, "base.json"), join(dir, "base.json"));
    await assert.rejects(
      readBaseInfo({ ...c, model: { ...c.model, hidden: 64, layers: 3 } }, dir),
      (e: unknown) =>
        e instanceof CheckpointError &&
        e.message.includes("expected hidden 64, layers 3") &&
        e.message.includes("got hidden 128, layers 2"),
    );
    await writeFile(join(dir, "base.json"), JSON.stringify({ script: "x" }));
    await assert.rejects(
      readBaseInfo(c, dir),
      (e: unknown) => e instanceof CheckpointError && e.message.includes("not a demo base description"),
    );
  });
});

test("demo base: a shipped-base run's init-model phase copies the base over a partial one, atomically", async () => {
  const c = demoConfig("full", 0);
  await inTempDir(async (dir) => {
    const L = layout(dir);
    // A copy cut off earlier: a truncated model file and no base.json. The phase replaces the directory whole.
    await mkdir(L.initModel(2), { recursive: true });
    await writeFile(join(L.initModel(2), "model.safetensors"), "truncated");
    const lines: string[] = [];
    await initModelPhase(c, L, 2, { info: (l) => lines.push(l), progress: () => {} });
    assert.match(lines.join("\n"), /the shipped base \(assets\/demo-base\/: 2 layers × 128 hidden, SFT 24,000 steps/);
    for (const f of [...BASE_FILES, "base.json"])
      assert.deepEqual(await readFile(join(L.initModel(2), f)), await readFile(join(SHIPPED_BASE_DIR, f)), f);
    assert.deepEqual((await readdir(join(dir, "seed-2", "models"))).sort(), ["init"]); // no temporary left
    assert.equal((await startingBase(L.initModel(2)))?.steps, 24_000);
  });
});

test("demo base: an incomplete base or a damaged base.json is refused naming what is wrong", async () => {
  const c = demoConfig("full", 0);
  await inTempDir(async (dir) => {
    for (const f of ["base.json", ...BASE_FILES.filter((f) => f !== "model.safetensors")])
      await copyFile(join(SHIPPED_BASE_DIR, f), join(dir, f));
    await assert.rejects(
      readBaseInfo(c, dir),
      (e: unknown) =>
        e instanceof CheckpointError && /incomplete/.test(e.message) && e.message.includes("got no model.safetensors"),
    );
    await writeFile(join(dir, "base.json"), "{ not json");
    for (const read of [() => readBaseInfo(c, dir), () => startingBase(dir)])
      await assert.rejects(
        read(),
        (e: unknown) => e instanceof CheckpointError && e.message.includes("got invalid JSON"),
      );
  });
});
