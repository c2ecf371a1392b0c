// The library entry point (`import … from "iopo"`): every folder's public surface as a namespace, plus the
// headline functions and the error tree by name. Each namespace is also its own subpath (`iopo/llm`, …; see the
// `exports` map of package.json). Re-exports only; the CLI lives in src/cli and is not part of this surface.

import { ifeval, trace } from "./evaluate/index.ts";

// ---- namespaces ----

export * as ifevalCheckers from "./checks/ifeval/index.ts";
export * as rules from "./checks/rules/index.ts";
export * as construct from "./construct/index.ts";
export * as engine from "./engine/index.ts";
export * as evaluate from "./evaluate/index.ts";
export * as gguf from "./export/index.ts";
export * as io from "./io/index.ts";
export * as llm from "./llm/index.ts";
export * as model from "./model/index.ts";
export * as report from "./report/index.ts";
export * as schema from "./schema/index.ts";
export * as train from "./train/index.ts";

// ---- headline names ----

export { checkResponse, type InstructionVerdict } from "./checks/rules/index.ts";
export { buildOfflineDataset, constructGroups, constructTrace } from "./construct/index.ts";
export {
  CheckpointError,
  ConfigError,
  DataError,
  IopoError,
  ProviderError,
  ShapeError,
} from "./errors.ts";
export { exportGguf } from "./export/index.ts";
export { type ChatProvider, GgufProvider, OpenAIProvider, RequestEngine } from "./llm/index.ts";
export { createModel, loadModelDir, loadTokenizer, saveModelDir } from "./model/index.ts";
export { runTraining, TrainConfigSchema, train as trainLoop } from "./train/index.ts";

// Evaluation's headline names come through its folder's surface (the `trace` and `ifeval` namespaces).
export type TraceScores = trace.TraceScores;
export const { traceScores, formatTraceScores } = trace;
export const { scoreIfeval, scoreIfevalFiles } = ifeval;
