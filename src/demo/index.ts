// Public surface of src/demo: the miniature reproduction as a library (configuration, phases, runner, results).
export {
  BASE_FILES,
  copyBase,
  copyDirAtomic,
  type DemoBaseInfo,
  DemoBaseInfoSchema,
  readBaseInfo,
  SHIPPED_BASE_DIR,
  startingBase,
} from "./base.ts";
export {
  BASE_METHODS,
  type DemoConfig,
  DemoConfigSchema,
  demoConfig,
  EXTRA_METHODS,
  METHOD_SPECS,
  METHODS,
  type MethodName,
  MODELS,
  type ModelName,
  PROFILES,
  type Profile,
  type ProfileOptions,
} from "./config.ts";
export { type DataSummary, type DemoLogger, layout } from "./phases.ts";
export { reportData } from "./report-data.ts";
export {
  COMPARISONS,
  type Comparison,
  computeResults,
  formatResults,
  type Generation,
  GenerationSchema,
  METRICS,
  type MethodSummary,
  type Metric,
  type ModelResult,
  modelResult,
  pairedItems,
  type Results,
  repeats4gram,
  scoresOf,
  type TokenCount,
} from "./results.ts";
export {
  checkpointOf,
  type DemoOptions,
  phasesOf,
  readDemoConfig,
  resultsFromDir,
  runDemo,
  seedsOf,
  tokensOf,
  writeReport,
} from "./run.ts";
