// Public surface of IFEval scoring: schemas of its files, the pure scorer (strict / loose, accuracies) and
// the file-level entry point used by `iopo ifeval score` and, later, `iopo eval ifeval`.

export type { ScoreFilesOptions } from "./load.ts";
export { scoreIfevalFiles } from "./load.ts";
export { type IfevalEvalOptions, type IfevalEvalResult, type IfevalRunSummary, runIfevalEval } from "./run.ts";
export type { Accuracy, IfevalInput, IfevalResponse, IfevalSummary, IfevalVerdict } from "./schema.ts";
export { IfevalInputSchema, IfevalKey, IfevalResponseSchema, IfevalVerdictSchema } from "./schema.ts";
export type { ScoreOptions, ScoreResult, ScoreSkip } from "./score.ts";
export { looseVariants, scoreIfeval, scoreOne, stripThinking, summarize } from "./score.ts";
