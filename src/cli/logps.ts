// `iopo logps`: the parity tool — summed response log-probs, IOPO/DPO losses and (with --grad) the gradient norms
// of the mean IOPO loss for token-id groups, as one JSON object. Wiring only; the work is in src/train/logps.ts.

import type { Command } from "commander";
import { z } from "zod";
import { checkInputDir, checkInputFile } from "../io/index.ts";
import { loadModelConfig, loadModelDir } from "../model/index.ts";
import { checkRunFits, logpsMemoryRun, logpsReport, memoryBudget, readTokenGroups } from "../train/index.ts";
import { parseOptions } from "./util.ts";

const Options = z.object({
  model: z.string(),
  ref: z.string().optional(),
  tokens: z.string(),
  beta: z.coerce.number({ message: "--beta must be a number" }).positive("--beta must be > 0").default(0.1),
  grad: z.boolean().default(false),
  sharedPrefix: z.boolean().default(true),
  json: z.boolean().default(false),
});

export function registerLogps(program: Command): void {
  program
    .command("logps")
    .description(
      "log-probs, the loss of every group method, DPO and gradient norms for token-id groups (parity checks against PyTorch)",
    )
    .requiredOption("--model <dir>", "policy model directory (config.json + model.safetensors)")
    .option("--ref <dir>", "reference model directory (default: the policy itself)")
    .requiredOption("--tokens <file>", 'JSONL of {"x1":[ids],"y1":[ids],"x2":[ids],"y2":[ids]} (no chat template)')
    .option("--beta <b>", "β of the losses (default 0.1)")
    .option("--grad", "also the gradient of the mean IOPO loss: grad_norm and grad_norms per HF tensor")
    .option("--no-shared-prefix", "compute the gradient with four separate sequences per group (same values)")
    .option("--json", "print JSON (the only output form; accepted for scripts)")
    .addHelpText(
      "after",
      "\nExample:\n  iopo logps --model policy/ --ref reference/ --tokens tokens.jsonl --grad --json",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(Options, raw, "logps");
      checkInputDir(o.model, "--model", "config.json");
      if (o.ref) checkInputDir(o.ref, "--ref", "config.json");
      checkInputFile(o.tokens, "--tokens");
      const config = await loadModelConfig(o.model);
      const groups = await readTokenGroups(o.tokens, config.vocab_size);
      // Before the weights are read: the longest packed or separate sequence and the memory of one pass over all
      // groups (scoring, or with --grad the gradient of the whole model).
      checkRunFits(
        config,
        logpsMemoryRun(groups, o.grad, o.ref !== undefined),
        "the longest group sequence",
        memoryBudget(),
        o.model,
        "split --tokens into smaller files (all groups run as one batch), or leave out --grad",
      );
      const policy = await loadModelDir(o.model);
      const reference = o.ref ? await loadModelDir(o.ref) : undefined;
      const report = await logpsReport(policy, groups, {
        reference,
        beta: o.beta,
        grad: o.grad,
        sharedPrefix: o.sharedPrefix,
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
    });
}
