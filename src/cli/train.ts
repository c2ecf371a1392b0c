// `iopo train`: SFT, DPO and IOPO (and the paper's variants) on a Hugging Face model directory. Flags are generated
// from TrainConfigSchema (one spelling of every option); precedence: defaults < --config file < flags. Wiring only:
// the work is in src/train.

import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { checkInputDir, checkInputFile, checkOutputDir, readJsonFile } from "../io/index.ts";
import { LOSS_NAMES, runTraining, type StepMetrics, TrainConfigSchema, type TrainLogger } from "../train/index.ts";
import { exitOnStopSignals, resumeCommand } from "./backend.ts";
import { parseOptions } from "./util.ts";

// ---- helpers ----

const flag = (key: string) => key.replace(/_/g, "-");
const camel = (key: string) => key.replace(/_(\w)/g, (_, ch: string) => ch.toUpperCase());

/** The schema type under optional/default wrappers. */
function inner(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
  return cur;
}

function parseFlags(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(TrainConfigSchema.shape)) {
    const v = raw[camel(key)];
    if (v === undefined) continue;
    if (inner(schema as z.ZodType) instanceof z.ZodNumber) {
      const n = Number(v);
      if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n))
        throw new ConfigError(`--${flag(key)} must be a number`, {
          got: JSON.stringify(v),
          hint: "see `iopo train --help`",
        });
      out[key] = n;
    } else out[key] = v;
  }
  return out;
}

const fmt = (x: number | undefined, d = 4) => (x === undefined ? "-" : x.toFixed(d));
const clock = (s: number) => {
  const t = Math.max(0, Math.round(s));
  return `${Math.floor(t / 3600)}:${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}:${String(t % 60).padStart(2, "0")}`;
};

/** The terminal progress line: step, loss, margins, accuracy, tokens/s, ETA. */
export function progressLine(m: StepMetrics, total: number, etaS: number): string {
  const margins =
    m["rewards/output_margin_x1"] !== undefined
      ? `out ${fmt(m["rewards/output_margin_x1"])}/${fmt(m["rewards/output_margin_x2"])} in ${fmt(m["rewards/input_margin_y1"])}/${fmt(m["rewards/input_margin_y2"])}`
      : `margin ${fmt(m["rewards/margins"])}`;
  const acc = m["rewards/accuracies"] !== undefined ? ` acc ${fmt(m["rewards/accuracies"], 2)}` : "";
  return `step ${m.step}/${total} loss ${fmt(m.loss)} ${m["rewards/margins"] === undefined ? "" : `${margins}${acc} `}lr ${m.lr!.toExponential(2)} | ${Math.round(m.tokens_per_s!)} tok/s | ETA ${clock(etaS)}`;
}

function consoleLogger(json: boolean): TrainLogger {
  const tty = process.stderr.isTTY && !json;
  let lastPlain = 0;
  return {
    info: (line) => process.stderr.write(`${tty ? "\r\x1b[K" : ""}${line}\n`),
    step: (m, total, eta) => {
      const line = progressLine(m, total, eta);
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (m.step === total || Date.now() - lastPlain > 10_000 || m.step === 1) {
        lastPlain = Date.now();
        process.stderr.write(`${line}\n`);
      }
    },
  };
}

// ---- exports ----

export function registerTrain(program: Command): void {
  const cmd = program
    .command("train")
    .description(`train a model: ${LOSS_NAMES.join(" | ")} (checkpoints, metrics.jsonl and train_config.json in --out)`)
    .option("--config <file>", "JSON file of options (snake_case keys); flags override it")
    .option("--json", "print one JSON summary object at the end");
  for (const [key, schema] of Object.entries(TrainConfigSchema.shape)) {
    const t = inner(schema as z.ZodType);
    const desc = (schema as z.ZodType).description ?? "";
    const def = schema instanceof z.ZodDefault ? ` (default ${JSON.stringify(schema.parse(undefined))})` : "";
    // A boolean that defaults to true is switched off with --no-<flag> (commander's negation); one without a
    // default (the command decides when unset, e.g. --grad-checkpointing) takes both.
    if (t instanceof z.ZodBoolean) {
      const on = schema instanceof z.ZodDefault && schema.parse(undefined) === true;
      if (!on) cmd.option(`--${flag(key)}`, desc);
      if (on || schema instanceof z.ZodOptional) cmd.option(`--no-${flag(key)}`, `turn off: ${desc}`);
    } else cmd.option(`--${flag(key)} <${t instanceof z.ZodNumber ? "n" : "value"}>`, `${desc}${def}`);
  }
  cmd.addHelpText(
    "after",
    "\nExamples:\n" +
      "  iopo train --method iopo --model models/sft --data groups.jsonl --out runs/iopo --lr 5e-6 --epochs 3\n" +
      "  iopo train --method dpo --model models/sft --data pairs.jsonl --out runs/dpo --batch 2 --accum 4\n" +
      "  iopo train --method iopo --model models/sft --data groups.jsonl --out runs/iopo --resume",
  );
  cmd.option("--force-resume", "with --resume: continue even if settings differ from the saved run (recorded)");
  cmd.action(async (raw: Record<string, unknown>) => {
    const configPath = raw.config ? String(raw.config) : undefined;
    const file = configPath ? await readJsonFile(configPath, z.record(z.string(), z.unknown())) : {};
    const flags = parseFlags(raw);
    // A problem in a key that came from the config file names that file; one from a flag names the flag.
    const bad = TrainConfigSchema.safeParse({ ...file, ...flags });
    const fromFile =
      !bad.success &&
      (bad.error.issues[0]!.code === "unrecognized_keys" || !(String(bad.error.issues[0]!.path[0]) in flags));
    const c = parseOptions(TrainConfigSchema, { ...file, ...flags }, "train", fromFile ? configPath : undefined);
    checkOutputDir(c.out, "--out");
    checkInputFile(c.data, "--data");
    checkInputDir(c.model, "--model", "config.json");
    if (c.ref !== undefined) checkInputDir(c.ref, "--ref", "config.json");
    const json = Boolean(raw.json);
    const resume = [...(c.resume ? [] : ["--resume"])];
    const release = exitOnStopSignals(
      "train",
      `the checkpoints in ${c.out} are kept (a resume continues from the last one, bit-identically)`,
      resumeCommand(resume),
    );
    try {
      const r = await runTraining(c, consoleLogger(json), { forceResume: raw.forceResume === true });
      const summary = {
        steps: r.steps,
        checkpoint: r.checkpoint,
        reference: r.ref,
        truncation: r.truncation,
        last: r.last,
      };
      if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else process.stderr.write(`\ndone: ${r.steps} steps; final checkpoint ${r.checkpoint}\n`);
    } finally {
      release();
    }
  });
}
