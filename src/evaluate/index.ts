// Public surface of src/evaluate: TRACE (LLM judge) and IFEval (rule checkers) evaluation, and run comparison.
export * from "./compare.ts";
export * as ifeval from "./ifeval/index.ts";
export * as trace from "./trace/index.ts";
