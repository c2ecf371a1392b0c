// A training run from files: load the model, reference, tokenizer and data; tokenize and report truncation; save
// the effective config in the run directory; train. The CLI is wiring around this; tests call train() directly
// for token-level inputs.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { loadModelDir, loadTokenizer } from "../model/index.ts";
import { paramTableHash } from "./checkpoint.ts";
import { chatEncoder, loadRecords, type TruncationReport, tokenizeRecords } from "./collate.ts";
import type { TrainConfig } from "./config.ts";
import { LOSSES } from "./losses.ts";
import { type TrainLogger, type TrainResult, train } from "./trainer.ts";

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
  c: TrainConfig,
  logger: TrainLogger,
): Promise<TrainResult & { truncation: TruncationReport }> {
  const model = await loadModelDir(c.model);
  const reference = c.ref ? await loadModelDir(c.ref) : model;
  if (paramTableHash(reference.params.table) !== paramTableHash(model.params.table))
    throw new CheckpointError("the reference model has another architecture than the policy", {
      path: c.ref,
      hint: "pass as --ref the checkpoint the policy started from (usually the SFT model)",
    });
  const tok = await loadTokenizer(c.model);
  const eosCfg = model.config.eos_token_id;
  const eos = tok.specialId("eos") ?? (Array.isArray(eosCfg) ? eosCfg[0] : eosCfg);
  if (eos === undefined || eos === null)
    throw new ConfigError("the model has no end-of-sequence token", {
      path: join(c.model, "tokenizer_config.json"),
      expected: "eos_token in tokenizer_config.json or eos_token_id in config.json",
    });
  const kind = LOSSES[c.method].kind;
  const texts = await loadRecords(c.data, kind, c.format);
  const { records, report } = tokenizeRecords(texts, chatEncoder(tok, eos), c.max_len);
  logger.info(
    `data: ${records.length} ${kind} records from ${c.data}; template: ${tok.chatTemplate ? "the model's chat_template" : "plain layout (no chat_template)"}`,
  );
  logger.info(truncationLine(report, c.max_len));
  logger.info(`config: ${JSON.stringify(c)}`);
  await mkdir(c.out, { recursive: true });
  await writeFile(join(c.out, "train_config.json"), `${JSON.stringify(c, null, 2)}\n`);
  const result = await train({ config: c, model, reference, records, logger });
  return { ...result, truncation: report };
}
