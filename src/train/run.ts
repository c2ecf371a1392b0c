// A training run from files: load the model, reference, tokenizer and data; tokenize and report truncation; save
// the effective config in the run directory; train. The CLI is wiring around this; tests call train() directly
// for token-level inputs.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, ConfigError, DataError } from "../errors.ts";
import { detectFormat, JsonlAppender, readJsonFile, writeFileAtomic } from "../io/index.ts";
import { checkTokenizerFitsModel, loadModelConfig, loadModelDir, loadTokenizer, paramTable } from "../model/index.ts";
import { latestCheckpoint, paramTableHash } from "./checkpoint.ts";
import { chatEncoder, loadRecords, type TruncationReport, tokenizeRecords, truncateRecords } from "./collate.ts";
import { loraOf, type TrainConfig } from "./config.ts";
import { checkTrainingFits } from "./fits.ts";
import { LOSSES } from "./losses.ts";
import { weightsHash } from "./refcache.ts";
import { fileSha256, formatDifferences, type RunInputs, RunInputsSchema, resumeDifferences } from "./resume.ts";
import { loadTokenRecords } from "./tokens.ts";
import { checkTorch, trainTorch, weightsHashOfDir } from "./torch/index.ts";
import { type TrainLogger, type TrainResult, train } from "./trainer.ts";

// ---- types ----

export interface RunOptions {
  /** Resume even when the settings differ from the saved run (recorded in run_inputs.json). */
  readonly forceResume?: boolean;
}

// ---- helpers ----

/**
 * Refuse a `--resume` whose settings change the run (unless forced, which is recorded); returns what to save as
 * run_inputs.json. Only a run that has a checkpoint is checked: without one, a resume starts at step 0 anyway.
 */
async function checkResume(c: TrainConfig, now: RunInputs, force: boolean, logger: TrainLogger): Promise<RunInputs> {
  const inputsPath = join(c.out, "run_inputs.json");
  const found = await latestCheckpoint(c.out);
  // Checked here too (the trainer checks again), so a refused run never overwrites the saved identity.
  if (found && !c.resume)
    throw new ConfigError("the output directory already holds checkpoints", {
      path: found,
      hint: "pass --resume to continue that run, or choose another --out",
    });
  if (!found) return now;
  let saved: RunInputs;
  try {
    saved = await readJsonFile(inputsPath, RunInputsSchema);
  } catch {
    // A run from before run_inputs.json existed: its train_config.json is the config (no hashes).
    const legacy = await readFile(join(c.out, "train_config.json"), "utf8").catch(() => null);
    if (legacy === null) return now;
    saved = { config: JSON.parse(legacy) as Record<string, unknown>, forced_resumes: [] };
  }
  const diffs = resumeDifferences(saved, now);
  if (diffs.length === 0) return { ...now, forced_resumes: saved.forced_resumes };
  const list = formatDifferences(diffs);
  if (!force)
    throw new ConfigError(`--resume with settings that change the run: ${list}`, {
      path: inputsPath,
      expected: "the settings the run was started with (see train_config.json)",
      got: `${diffs.length} different: ${diffs.map((d) => d.field).join(", ")}`,
      hint: `rerun with the saved settings, choose a new --out for a new run, or add --force-resume to continue anyway (recorded in ${inputsPath})`,
    });
  logger.info(`--force-resume: continuing ${found} despite ${list}`);
  const record = { at: new Date().toISOString(), differences: diffs.map((d) => ({ ...d })) };
  return { ...now, forced_resumes: [...saved.forced_resumes, record] };
}

/**
 * The policy and reference as the engine needs them: the embedded engine loads their weights; --engine torch reads
 * only their configs and hashes the weights tensor by tensor (the ranks load them), so a 7B model never sits here.
 */
async function loadModels(c: TrainConfig) {
  if (c.engine === "torch") {
    const config = await loadModelConfig(c.model);
    const refConfig = c.ref ? await loadModelConfig(c.ref) : config;
    const modelHash = await weightsHashOfDir(c.model, config);
    const refHash = c.ref ? await weightsHashOfDir(c.ref, refConfig) : modelHash;
    return { config, refConfig, modelHash, refHash: c.ref ? refHash : undefined, loaded: null };
  }
  // A LoRA base is frozen: its BF16/F16 matrices stay in half precision (upcast per use in the graph).
  const model = await loadModelDir(c.model, { keepHalf: loraOf(c) !== null });
  const reference = c.ref ? await loadModelDir(c.ref) : model;
  return {
    config: model.config,
    refConfig: reference.config,
    modelHash: weightsHash(model.config, model.params),
    refHash: c.ref ? weightsHash(reference.config, reference.params) : undefined,
    loaded: { model, reference },
  };
}

// ---- exports ----

/** One line about truncation, printed at the start of every run. */
export function truncationLine(r: TruncationReport, maxLen: number): string {
  if (r.truncated === 0)
    return `truncation: none of ${r.records} records exceed --max-len ${maxLen} (longest ${r.longest} tokens)`;
  return (
    `truncation: ${r.truncated} of ${r.records} records cut to --max-len ${maxLen} ` +
    `(${r.promptTokensCut} prompt and ${r.responseTokensCut} response tokens dropped; longest now ${r.longest})`
  );
}

export async function runTraining(
  config: TrainConfig,
  logger: TrainLogger,
  options: RunOptions = {},
): Promise<TrainResult & { truncation: TruncationReport }> {
  let c = config;
  const torchOnly = (["nproc", "nnodes", "device", "dtype", "fsdp", "print_launch"] as const).filter(
    (k) => c[k] !== undefined && c[k] !== false,
  );
  if (c.engine !== "torch" && torchOnly.length > 0)
    throw new ConfigError(`--${torchOnly[0]!.replace(/_/g, "-")} applies to --engine torch only`, {
      field: `--${torchOnly[0]!.replace(/_/g, "-")}`,
      hint: "add --engine torch (PyTorch ranks), or leave the flag out for the embedded engine",
    });
  // --engine torch: Python and torch are checked before any work.
  if (c.engine === "torch") await checkTorch({ device: c.device, fsdp: c.fsdp });
  // Embedded engine: refuse a run that cannot fit (sliding window, memory estimate) before the weights are read.
  const fit = c.engine !== "torch" ? await checkTrainingFits(c) : null;
  if (fit?.why) logger.info(fit.why);
  if (fit?.checkpoint) c = { ...c, grad_checkpointing: true };
  const models = await loadModels(c);
  const model = { config: models.config };
  if (paramTableHash(paramTable(models.refConfig)) !== paramTableHash(paramTable(models.config)))
    throw new CheckpointError("the reference model has another architecture than the policy", {
      path: c.ref,
      hint: "pass as --ref the checkpoint the policy started from (usually the SFT model)",
    });
  const tok = await loadTokenizer(c.model);
  checkTokenizerFitsModel(tok, model.config, c.model);
  const eosCfg = model.config.eos_token_id;
  const eos = tok.specialId("eos") ?? (Array.isArray(eosCfg) ? eosCfg[0] : eosCfg);
  if (eos === undefined || eos === null)
    throw new ConfigError("the model has no end-of-sequence token", {
      path: join(c.model, "tokenizer_config.json"),
      expected: "eos_token in tokenizer_config.json or eos_token_id in config.json",
    });
  // Before the data is read: a resume that changes the run is refused first, naming every difference.
  const identity = await checkResume(
    c,
    {
      config: { ...c },
      data_sha256: await fileSha256(c.data),
      model_sha256: models.modelHash,
      ...(models.refHash ? { ref_sha256: models.refHash } : {}),
      forced_resumes: [],
    },
    options.forceResume === true,
    logger,
  );
  const kind = LOSSES[c.method].kind;
  let loaded: ReturnType<typeof tokenizeRecords>;
  if (c.format === "tokens") loaded = truncateRecords(await loadTokenRecords(c.data, c.method), c.max_len, c.data);
  else {
    // Detected here, not in loadRecords, so the hint names train's flag (--format), not convert's (--from).
    const format = c.format ?? (await detectFormat(c.data, "--format"));
    if (format === "trace" || format === "instructions")
      throw new ConfigError(`${c.data} holds instructions without responses (${format} format); nothing to train on`, {
        path: c.data,
        field: "--format",
        expected: "groups, pairs, sft, llamafactory or trl records (with responses)",
        got: format,
        hint: "build training data from instructions with `iopo construct groups --run <dir>` (groups.jsonl, dpo_pairs.jsonl)",
      });
    loaded = tokenizeRecords(await loadRecords(c.data, c.method, format), chatEncoder(tok, eos), c.max_len, c.data);
  }
  const { records, report } = loaded;
  const vocab = model.config.vocab_size;
  for (const r of records)
    for (const q of r.seqs)
      for (const id of [...q.prompt, ...q.response])
        if (id >= vocab)
          throw new DataError("a token id is outside the model's vocabulary", {
            path: c.data,
            line: r.line,
            id: r.id,
            expected: `ids below vocab_size ${vocab} (${join(c.model, "config.json")})`,
            got: String(id),
            hint: "tokenize with this model's tokenizer, or pass the model the ids were made for",
          });
  const template =
    c.format === "tokens"
      ? "token ids as given"
      : tok.chatTemplate
        ? "the model's chat_template"
        : "plain layout (no chat_template)";
  logger.info(`data: ${records.length} ${kind} records from ${c.data}; template: ${template}`);
  logger.info(truncationLine(report, c.max_len));
  logger.info(`config: ${JSON.stringify(c)}`);
  await mkdir(c.out, { recursive: true });
  // A run killed mid-append leaves a torn last metrics line; the trainer trims metrics by step on resume.
  const torn = await JsonlAppender.open(join(c.out, "metrics.jsonl"));
  if (torn.repaired > 0) logger.info(`metrics.jsonl: cut a torn last line (${torn.repaired} bytes)`);
  await writeFileAtomic(join(c.out, "run_inputs.json"), `${JSON.stringify(identity, null, 2)}\n`);
  await writeFile(join(c.out, "train_config.json"), `${JSON.stringify(c, null, 2)}\n`);
  const result = models.loaded
    ? await train({ config: c, ...models.loaded, records, logger, handOver: true })
    : await trainTorch({
        config: c,
        modelConfig: models.config,
        records,
        logger,
        refHash: models.refHash ?? models.modelHash,
      });
  return { ...result, truncation: report };
}
