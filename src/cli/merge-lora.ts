// `iopo merge-lora --model <base> --adapter <dir> --out <dir>`: fold a LoRA adapter (PEFT layout, trained here or by
// peft) into its base: W + (α/r)·B·A, written as a Hugging Face model directory in the base's dtype. Wiring only:
// see src/model/lora.ts.

import type { Command } from "commander";
import { z } from "zod";
import { checkOutputDir } from "../io/index.ts";
import { loadAdapter, loadModelDir, mergeLora, saveModelDir } from "../model/index.ts";
import { parseOptions } from "./util.ts";

const OptionsSchema = z.strictObject({
  model: z.string().min(1),
  adapter: z.string().min(1),
  out: z.string().min(1),
  json: z.boolean().default(false),
});

export function registerMergeLora(program: Command): void {
  program
    .command("merge-lora")
    .description("fold a LoRA adapter into its base model: a merged Hugging Face model directory")
    .requiredOption("--model <dir>", "the base model directory the adapter was trained on")
    .requiredOption("--adapter <dir>", "the adapter directory (adapter_config.json + adapter_model.safetensors)")
    .requiredOption("--out <dir>", "the merged model directory to write")
    .option("--json", "print one JSON summary object")
    .addHelpText(
      "after",
      "\nExample:\n  iopo merge-lora --model models/sft --adapter runs/iopo-lora/checkpoint-300 --out models/iopo",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(OptionsSchema, raw, "merge-lora");
      checkOutputDir(o.out, "--out");
      const base = await loadModelDir(o.model);
      const adapter = await loadAdapter(o.adapter, base.config);
      await saveModelDir(o.out, { ...base, params: mergeLora(base.params, adapter) });
      const summary = {
        out: o.out,
        rank: adapter.spec.rank,
        alpha: adapter.spec.alpha,
        modules: adapter.params.table.length / 2,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        process.stderr.write(
          `merged ${summary.modules} adapted modules (r ${summary.rank}, α ${summary.alpha}) into ${o.out}\n`,
        );
    });
}
