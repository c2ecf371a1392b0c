// `iopo export --model-dir <dir> --to gguf --out model.gguf [--dtype f32|f16|q8_0] [--base <dir>]`: a model
// directory (or a LoRA adapter, merged into its base) as one GGUF file for llama.cpp's server and Ollama.
// Wiring only: see src/export.

import type { Command } from "commander";
import { z } from "zod";
import { EXPORT_DTYPES, exportGguf } from "../export/index.ts";
import { parseOptions } from "./util.ts";

const DTYPES = Object.keys(EXPORT_DTYPES) as [keyof typeof EXPORT_DTYPES, ...(keyof typeof EXPORT_DTYPES)[]];

const OptionsSchema = z.strictObject({
  modelDir: z.string().min(1),
  base: z.string().min(1).optional(),
  to: z.enum(["gguf"], { message: `expected "gguf" (the only export format)` }),
  out: z.string().min(1),
  dtype: z.enum(DTYPES, { message: `expected one of ${DTYPES.join(", ")}` }).default("f32"),
  json: z.boolean().default(false),
});

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("write a model directory as a GGUF file (tokenizer and chat template included) for llama.cpp / Ollama")
    .requiredOption(
      "--model-dir <dir>",
      "model directory (config.json, model.safetensors, tokenizer.json), or a LoRA adapter directory (merged first)",
    )
    .option("--base <dir>", "base model of a LoRA adapter (default: the one adapter_config.json names)")
    .requiredOption("--to <format>", "export format: gguf")
    .requiredOption("--out <file>", "the .gguf file to write (replaced atomically if it exists)")
    .option("--dtype <type>", `weight type of matrices: ${DTYPES.join(" | ")} (norms and biases stay f32)`, "f32")
    .option("--json", "print one JSON summary object")
    .addHelpText(
      "after",
      "\nExample:\n  iopo export --model-dir runs/iopo/checkpoint-500 --to gguf --out model.gguf --dtype q8_0\n" +
        "  llama-server -m model.gguf --port 8080   # then: iopo eval … --base-url http://127.0.0.1:8080/v1",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(OptionsSchema, raw, "export");
      const started = Date.now();
      const r = await exportGguf(o.modelDir, o.out, { dtype: o.dtype, ...(o.base ? { base: o.base } : {}) });
      const summary = { ...r, dtype: o.dtype, seconds: (Date.now() - started) / 1000 };
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        const types = Object.entries(r.types)
          .filter(([, n]) => n > 0)
          .map(([t, n]) => `${n} ${t}`)
          .join(", ");
        process.stdout.write(
          `wrote ${r.path}: ${r.architecture}, ${r.tensors} tensors (${types}), ` +
            `${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${summary.seconds.toFixed(1)} s\n`,
        );
      }
    });
}
