// Benchmark: score the 541 IFEval GPT-4 responses (strict + loose) N times in-process; prints the one-time
// load cost, then the median scoring time (wall clock, and CPU time from process.cpuUsage, which is steadier on
// a shared machine) and responses/s, with per-text caches cleared before every run.
// Usage: npm run bench:ifeval [-- --runs 20] (reads ../shared/data/ifeval relative to the repo root).

import { readFileSync } from "node:fs";
import { clearLanguageCache, clearTextCaches, detectLanguage } from "../src/checks/ifeval/index.ts";
import { scoreIfeval } from "../src/evaluate/ifeval/index.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const DATA = new URL("../../shared/data/ifeval/", import.meta.url);
const read = (f: string) =>
  readFileSync(new URL(f, DATA), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const inputs = read("input_data.jsonl");
const responses = read("responses_gpt4.jsonl");
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

let t = performance.now();
detectLanguage("Loading the language profiles.");
const load = performance.now() - t;
t = performance.now();
scoreIfeval(inputs, responses);
const first = performance.now() - t;
const wall: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < RUNS; i++) {
  clearTextCaches();
  clearLanguageCache();
  const c = process.cpuUsage();
  t = performance.now();
  const { summary } = scoreIfeval(inputs, responses);
  wall.push(performance.now() - t);
  cpu.push(cpuMs(process.cpuUsage(c)));
  if (summary.prompt_strict.correct !== 417) throw new Error("unexpected score");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const span = (xs: number[]) => `min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`;
console.log(`langdetect profiles load: ${load.toFixed(0)} ms`);
console.log(`first run (loads punkt parameters, JIT warm-up): ${first.toFixed(0)} ms`);
console.log(`scoring 541 responses, strict + loose, ${RUNS} runs, caches cleared each run:`);
console.log(`  wall median ${median(wall).toFixed(1)} ms  (${span(wall)})  target < 100 ms`);
console.log(`  CPU  median ${median(cpu).toFixed(1)} ms  (${span(cpu)})`);
console.log(`  ${((541 / median(wall)) * 1000).toFixed(0)} responses/s (wall median)`);
