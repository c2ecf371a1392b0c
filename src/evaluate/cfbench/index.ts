// Public surface of src/evaluate/cfbench: record schemas, the judge prompt, the reply parsers (strict, fallback
// fixed or as upstream), the metrics (CSR, ISR, PSR; easy / hard / all; breakdowns) and the evaluation job.

export {
  breakdowns,
  type ItemRate,
  modelScores,
  pyRound,
  type SplitScores,
  sampleMetric,
  splitScores,
} from "./metrics.ts";
export { type JudgeRead, type ParserKind, parseFallback, parseStrict, pyFloat, readJudgeReply } from "./parse.ts";
export { cfbenchJudgePrompt, JUDGE_ROUNDS, JUDGE_TEMPERATURE } from "./prompt.ts";
export { type CfbenchEvalOptions, type CfbenchEvalResult, type CfbenchRunScores, runCfbenchEval } from "./run.ts";
export {
  type CfbenchRecord,
  CfbenchRecordSchema,
  type Criterion,
  type JudgedRecord,
  JudgedRecordSchema,
  PRIMARY,
  type SampleMetric,
  SECONDARY,
} from "./schema.ts";
export {
  type CfbenchScores,
  formatCfbenchScores,
  type ModelResult,
  type SampleVerdict,
  scoreJudged,
  verdictOf,
} from "./score.ts";
