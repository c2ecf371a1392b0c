// Public surface of src/evaluate/trace: the judge prompt and reply parser, and the TRACE metrics.
export * from "./judge.ts";
export * from "./metrics.ts";
export * from "./run.ts";
