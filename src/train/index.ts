// Public surface of src/train.

export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointDir,
  latestCheckpoint,
  loadCheckpoint,
  type Manifest,
  paramTableHash,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.ts";
export {
  chatEncoder,
  type Encoder,
  inferMaxLen,
  loadRecords,
  type RecordTexts,
  type TokenizedRecord,
  type TruncationReport,
  tokenizedFromIds,
  tokenizeRecords,
} from "./collate.ts";
export {
  defaultRefCache,
  loraOf,
  lossOf,
  scheduleOf,
  type TrainConfig,
  TrainConfigSchema,
  totalSteps,
} from "./config.ts";
export { Dual, logSigmoid } from "./dual.ts";
export { checkRunFits, logpsMemoryRun, memoryBudget } from "./fits.ts";
export { logpsReport, readTokenGroups } from "./logps.ts";
export * from "./losses.ts";
export { type Plan, type PlannedStep, planSteps, recordsPerStep } from "./plan.ts";
export { type MicroBatch, TrainPrograms } from "./program.ts";
export { RefCache, type RefStats, sequenceKey, weightsHash } from "./refcache.ts";
export { runTraining, truncationLine } from "./run.ts";
export * from "./schedule.ts";
export { microBatch, pairSizes, type StepOptions, type StepRun, stepOptions, TrainStep } from "./step.ts";
export { type StepMetrics, type TrainLogger, type TrainResult, train } from "./trainer.ts";
