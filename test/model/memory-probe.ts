// Child process for memory.test.ts and checkpoint.test.ts: the growth of peak RSS over two forward + backward runs
// of a training step (train/step.ts, as `iopo train` runs it: gradients written into the step's own buffers, ONNX
// Runtime's memory pattern off) on a random model, printed as JSON. The step's weights, gradient buffers and AdamW
// moments exist before the measurement starts. Args: hidden layers heads kvHeads mlp vocab B T R [checkpoint 0|1].

import { initParams } from "../../src/model/index.ts";
import { lossParams, resolveLoss, TrainStep, tokenizedFromIds } from "../../src/train/index.ts";
import { probeShape } from "./probe-shape.ts";

const [hidden, layers, heads, kvHeads, intermediate, vocabSize, B, T, R, checkpoint] = process.argv
  .slice(2)
  .map(Number) as number[];
const cfg = probeShape(hidden!, layers!, heads!, kvHeads!, intermediate!, vocabSize!);
const params = initParams(cfg, 0);
const step = await TrainStep.create(cfg, params.table, params.tensors, resolveLoss(lossParams({ name: "sft" })), {
  batch: B!,
  clip: 0,
  threads: 1,
  adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  checkpoint: checkpoint === 1,
});
const records = Array.from({ length: B! }, (_, b) =>
  tokenizedFromIds(
    `r${b}`,
    "example",
    [Array.from({ length: T! - R! }, (_, i) => (i * 7 + b) % vocabSize!)],
    [Array.from({ length: R! }, (_, i) => (i * 13 + b) % vocabSize!)],
  ),
);
const ref = records.map(() => new Float64Array(1));
const before = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
for (let i = 0; i < 2; i++) await step.gradients(records, ref);
const after = process.resourceUsage().maxRSS * 1024;
await step.close();
console.log(JSON.stringify({ grown: after - before }));
