// `iopo init-model --out <dir> --vocab-from <files…>`: a new small Llama/Qwen2 model with a byte-level BPE
// tokenizer trained on the given text, written as a Hugging Face directory. Wiring only: see src/model/create.ts.

import { readdir, readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError, DataError } from "../errors.ts";
import { checkOutputDir } from "../io/index.ts";
import { countParams, createModel, saveModelDir } from "../model/index.ts";
import { parseOptions } from "./util.ts";

const Int = (min: number) => z.coerce.number().int().min(min);

/** Options with their defaults (a ~0.2M-parameter model). */
const OptionsSchema = z.strictObject({
  out: z.string().min(1),
  vocabFrom: z.array(z.string()).min(1),
  arch: z.enum(["llama", "qwen2"]).default("qwen2"),
  vocabSize: Int(259).default(1024),
  hidden: Int(2).default(64),
  layers: Int(1).default(2),
  heads: Int(1).default(4),
  kvHeads: Int(1).default(2),
  intermediate: Int(1).default(176),
  seed: Int(0).default(0),
  maxPosition: Int(1).default(2048),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function registerInitModel(program: Command): void {
  program
    .command("init-model")
    .description(
      "create a new small Llama/Qwen2 model (random weights, BPE tokenizer trained on text) as an HF directory",
    )
    .requiredOption("--out <dir>", "model directory to create")
    .requiredOption("--vocab-from <files...>", "text files the byte-level BPE tokenizer is trained on")
    .option("--arch <arch>", "llama | qwen2 (qwen2: q/k/v bias and tied embeddings)", "qwen2")
    .option("--vocab-size <n>", "tokenizer size incl. 3 special tokens (fewer if the text runs out of pairs)", "1024")
    .option("--hidden <n>", "hidden_size", "64")
    .option("--layers <n>", "num_hidden_layers", "2")
    .option("--heads <n>", "num_attention_heads", "4")
    .option("--kv-heads <n>", "num_key_value_heads (GQA)", "2")
    .option("--intermediate <n>", "intermediate_size of the SwiGLU MLP", "176")
    .option("--seed <n>", "seed of the weight initialisation", "0")
    .option("--max-position <n>", "max_position_embeddings", "2048")
    .option("--force", "replace an existing non-empty --out directory")
    .option("--json", "print one JSON summary object")
    .addHelpText(
      "after",
      "\nExample:\n  iopo init-model --out models/tiny --vocab-from data/*.txt --hidden 128 --layers 4",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(OptionsSchema, raw, "init-model");
      checkOutputDir(o.out, "--out");
      const entries = await readdir(o.out).catch(() => [] as string[]);
      if (entries.length > 0 && !o.force)
        throw new ConfigError("output directory is not empty", {
          path: o.out,
          hint: "choose another --out or add --force",
        });
      const texts: string[] = [];
      for (const file of o.vocabFrom) {
        const info = await stat(file).catch(() => null);
        if (!info?.isFile())
          throw new DataError("cannot read text file", {
            path: file,
            expected: "a text file (--vocab-from)",
            got: info ? "a directory" : "no such file",
            hint: "give the text files the tokenizer learns from, e.g. --vocab-from data/*.txt",
          });
        texts.push(await readFile(file, "utf8"));
      }
      const started = Date.now();
      const model = createModel(texts, { ...o, vocabSize: o.vocabSize });
      await saveModelDir(o.out, model);
      const summary = {
        out: o.out,
        arch: o.arch,
        vocab_size: model.config.vocab_size,
        parameters: countParams(model.params.table),
        tensors: model.params.table.length,
        seconds: (Date.now() - started) / 1000,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        process.stdout.write(
          `wrote ${o.out}: ${o.arch}, vocab ${summary.vocab_size}, ${summary.parameters.toLocaleString("en")} ` +
            `parameters in ${summary.tensors} tensors (${summary.seconds.toFixed(1)} s)\n`,
        );
    });
}
