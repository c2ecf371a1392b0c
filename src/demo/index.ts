// Public surface of src/demo: the miniature reproduction as a library (configuration, phases, runner, results).
export {
  type DemoConfig,
  DemoConfigSchema,
  demoConfig,
  MODELS,
  type ModelName,
  PROFILES,
  type Profile,
} from "./config.ts";
export { type DataSummary, type DemoLogger, layout } from "./phases.ts";
export { reportData } from "./report-data.ts";
export {
  computeResults,
  formatResults,
  type Generation,
  GenerationSchema,
  type ModelResult,
  modelResult,
  type Results,
  scoresOf,
} from "./results.ts";
export { checkpointOf, type DemoOptions, PHASES, readDemoConfig, resultsFromDir, runDemo, writeReport } from "./run.ts";
