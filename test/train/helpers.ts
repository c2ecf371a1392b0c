// Shared test helpers for the trainer tests: golden fixtures as tokenized records, a silent logger, temp dirs.

import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadModelDir, type ModelDir } from "../../src/model/index.ts";
import { type TokenizedRecord, tokenizedFromIds } from "../../src/train/collate.ts";
import { type TrainConfig, TrainConfigSchema } from "../../src/train/config.ts";
import type { StepMetrics, TrainLogger } from "../../src/train/trainer.ts";

export interface GoldenGroup {
  x1: number[];
  y1: number[];
  x2: number[];
  y2: number[];
}

export const goldenDir = (name: string) => new URL(`../fixtures/golden/${name}/`, import.meta.url).pathname;

export async function golden(name: string): Promise<{
  // biome-ignore lint/suspicious/noExplicitAny: the fixture's JSON, read field by field in the tests
  expected: any;
  groups: GoldenGroup[];
  policy: ModelDir;
  reference: ModelDir;
}> {
  const dir = goldenDir(name);
  const expected = JSON.parse(await readFile(`${dir}expected.json`, "utf8"));
  const groups = (await readFile(`${dir}tokens.jsonl`, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as GoldenGroup);
  return {
    expected,
    groups,
    policy: await loadModelDir(`${dir}policy`),
    reference: await loadModelDir(`${dir}reference`),
  };
}

export const asGroups = (gs: GoldenGroup[]): TokenizedRecord[] =>
  gs.map((g, i) => tokenizedFromIds(`g${i}`, "group", [g.x1, g.x2], [g.y1, g.y2]));
export const asPairs = (gs: GoldenGroup[]): TokenizedRecord[] =>
  gs.map((g, i) => tokenizedFromIds(`p${i}`, "pair", [g.x1], [g.y1, g.y2]));

/** ‖got − want‖ / ‖want‖ of one tensor (the gradient comparisons of the training tests). */
export function relNormDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let e = 0; e < want.length; e++) {
    diff += (got[e]! - want[e]!) ** 2;
    norm += want[e]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(1e-12, Math.sqrt(norm));
}

export const tmp = (prefix: string) => mkdtemp(path.join(os.tmpdir(), `iopo-${prefix}-`));

export function config(o: Partial<TrainConfig> & Pick<TrainConfig, "method" | "out">): TrainConfig {
  return TrainConfigSchema.parse({ model: "(memory)", data: "(memory)", threads: 2, ...o });
}

export function quietLogger(): TrainLogger & { lines: string[]; steps: StepMetrics[] } {
  const lines: string[] = [];
  const steps: StepMetrics[] = [];
  return { lines, steps, info: (l) => lines.push(l), step: (m) => steps.push(m) };
}

// ---- hand-made data and a fresh tiny model ----

const TOPICS = [
  "rivers",
  "bread",
  "trains",
  "owls",
  "tea",
  "maps",
  "snow",
  "bees",
  "kites",
  "clocks",
  "stones",
  "ships",
];

/** IOPO groups: x1 asks for upper case, x2 for lower case; y1 follows x1 only, y2 follows x2 only. */
/** Write `caseGroups(n)` to `path` as JSONL (the groups file of a training test). */
export async function writeCaseGroups(path: string, n: number): Promise<void> {
  await writeFile(
    path,
    caseGroups(n)
      .map((g) => `${JSON.stringify(g)}\n`)
      .join(""),
  );
}

export function caseGroups(n: number): object[] {
  return Array.from({ length: n }, (_, i) => {
    const t = TOPICS[i % TOPICS.length]!;
    const x = (c: string) => ({
      id: `x-${i}-${c}`,
      description: `Write one sentence about ${t}.`,
      constraints: [{ text: `1. Use ${c} letters only.` }],
      input: null,
    });
    return {
      id: `g${i}`,
      x1: x("uppercase"),
      y1: `${t.toUpperCase()} ARE GOOD.`,
      x2: x("lowercase"),
      y2: `${t} are good.`,
    };
  });
}

export function corpus(): string[] {
  const gs = caseGroups(TOPICS.length) as { y1: string; y2: string }[];
  return [
    ...gs.flatMap((g) => [g.y1, g.y2]),
    "Write one sentence about things. Use uppercase letters only. Use lowercase letters only.",
  ];
}

export async function tinyModel(dir: string, seed = 0): Promise<ModelDir> {
  const { createModel, saveModelDir } = await import("../../src/model/index.ts");
  const m = createModel(corpus(), {
    arch: "qwen2",
    vocabSize: 320,
    hidden: 32,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    intermediate: 64,
    seed,
  });
  await saveModelDir(dir, m);
  return m;
}
