// Public surface of src/evaluate/trace: the judge prompts and reply parsers (the authors' protocol and this
// project's per-constraint one), the TRACE metrics and the evaluation job.
export * from "./authors.ts";
export * from "./judge.ts";
export * from "./metrics.ts";
export * from "./run.ts";
