// Benchmark: score the 541 IFEval GPT-4 responses (strict + loose) N times in-process; prints the one-time
// load cost, then the median scoring time and responses/s with per-text caches cleared before every run.
// Usage: npm run bench:ifeval [-- --runs 10] (reads ../shared/data/ifeval relative to the repo root).

import { readFileSync } from "node:fs";
import { clearLanguageCache, clearTextCaches } from "../src/checks/ifeval/index.ts";
import { scoreIfeval } from "../src/evaluate/ifeval/index.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const DATA = new URL("../../shared/data/ifeval/", import.meta.url);
const read = (f: string) =>
  readFileSync(new URL(f, DATA), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const inputs = read("input_data.jsonl");
const responses = read("responses_gpt4.jsonl");

let t = performance.now();
scoreIfeval(inputs, responses);
const first = performance.now() - t;
const times: number[] = [];
for (let i = 0; i < RUNS; i++) {
  clearTextCaches();
  clearLanguageCache();
  t = performance.now();
  const { summary } = scoreIfeval(inputs, responses);
  times.push(performance.now() - t);
  if (summary.prompt_strict.correct !== 417) throw new Error("unexpected score");
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(`first run (loads punkt + langdetect profiles, JIT warm-up): ${first.toFixed(0)} ms`);
console.log(`scoring 541 responses, strict + loose, ${RUNS} runs, caches cleared each run:`);
console.log(`  median ${median.toFixed(1)} ms  (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)})`);
console.log(`  ${((541 / median) * 1000).toFixed(0)} responses/s`);
