// Public surface of src/train.
export { Dual, logSigmoid } from "./dual.ts";
export * from "./losses.ts";
export * from "./schedule.ts";
