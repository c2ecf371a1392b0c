// Child process for memory.test.ts: one forward + backward of the summed log-probs of a random model on the engine;
// prints the growth of peak RSS over the run as JSON. Args: hidden layers heads kvHeads mlp vocab B T R.

import * as E from "../../src/engine/index.ts";
import {
  batchFeeds,
  initParams,
  llamaInputs,
  newModelConfig,
  paramFeeds,
  sequenceLogps,
} from "../../src/model/index.ts";

const [hidden, layers, heads, kvHeads, intermediate, vocabSize, B, T, R] = process.argv
  .slice(2)
  .map(Number) as number[];
const cfg = newModelConfig({
  arch: "qwen2",
  vocabSize: vocabSize!,
  hidden: hidden!,
  layers: layers!,
  heads: heads!,
  kvHeads: kvHeads!,
  intermediate: intermediate!,
  bosTokenId: null,
  eosTokenId: 0,
  padTokenId: null,
});
const params = initParams(cfg, 0);
const g = E.trace(() => {
  const { params: p, batch } = llamaInputs(cfg);
  const loss = E.reduceSum(sequenceLogps(cfg, p, batch), [0]); // []
  const grads = E.grad(() => loss)(...p.values());
  return Object.fromEntries([["loss", loss], ...[...p.keys()].map((k, i) => [`d.${k}`, grads[i]!])]);
});
const prog = await E.Program.create(E.toOnnx(g.graph, g.result, "probe"), { threads: 1, spin: false });
const seqs = Array.from({ length: B! }, (_, b) => ({
  prompt: Array.from({ length: T! - R! }, (_, i) => (i * 7 + b) % vocabSize!),
  response: Array.from({ length: R! }, (_, i) => (i * 13 + b) % vocabSize!),
}));
const feeds = { ...batchFeeds(cfg, seqs), ...paramFeeds(params.table, params.tensors) };
const before = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
for (let i = 0; i < 2; i++) await prog.run(feeds);
const after = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ grown: after - before }));
