// Public surface of src/evaluate: TRACE (LLM judge), IFEval (rule checkers) and CFBench (checklist judge)
// evaluation, the three-benchmark suite, and run comparison.
export * as cfbench from "./cfbench/index.ts";
export * from "./compare.ts";
export * as ifeval from "./ifeval/index.ts";
export * as trace from "./trace/index.ts";
