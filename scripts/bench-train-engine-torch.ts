// `npm run bench:train`'s third line: the same reference configuration (benchSetup: model, random records, one
// optimizer step over every record) through `iopo train --engine torch` (the Python ranks of python/iopo_torch, one
// rank, CPU fp32). Reports the median step time and tokens/s of the steps after warm-up, as the ranks time them
// (forward, backward, all-reduce, clip, AdamW), and the start-up time (torch import, model load, reference pass).

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BenchTrainOptions, benchSetup } from "../src/cli/bench-train.ts";
import { float32Tensors, saveModelDir } from "../src/model/index.ts";
import { weightsHash } from "../src/train/index.ts";
import { checkTorch, trainTorch } from "../src/train/torch/index.ts";

export interface EngineTorchBench {
  readonly torch: string;
  readonly step_ms_median: number;
  readonly tokens_per_s: number;
  readonly startup_s: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchEngineTorch(o: BenchTrainOptions): Promise<EngineTorchBench> {
  const info = await checkTorch({});
  const { cfg, config, records, params } = benchSetup(o);
  const dir = await mkdtemp(path.join(os.tmpdir(), "iopo-bench-torch-"));
  try {
    const model = path.join(dir, "model");
    await saveModelDir(model, {
      config: cfg,
      params: { table: params.table, tensors: float32Tensors(params.tensors) },
      files: {},
    });
    const steps: Record<string, number>[] = [];
    let first = 0;
    const t0 = performance.now();
    await trainTorch({
      config: {
        ...config,
        engine: "torch",
        model,
        out: path.join(dir, "run"),
        ref_cache: path.join(dir, "cache"),
        max_steps: o.warmup + o.steps,
        threads: o.threads || os.availableParallelism(),
      },
      modelConfig: cfg,
      records,
      logger: {
        info: () => {},
        step: (m) => {
          if (steps.length === 0) first = performance.now();
          steps.push(m);
        },
      },
      refHash: weightsHash(cfg, params),
    });
    const timed = steps.slice(o.warmup);
    const stepS = median(timed.map((m) => m.step_s!));
    return {
      torch: info.torch,
      step_ms_median: stepS * 1000,
      tokens_per_s: median(timed.map((m) => m.tokens_per_s!)),
      startup_s: (first - t0) / 1000 - steps[0]!.step_s!,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
