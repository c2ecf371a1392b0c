// Public surface of src/construct: TRACE construction stages, IOPO groups and DPO pairs, the offline world,
// the LLM roles, resumable runs, and the in-process dataset builder.
export { checkResponse, type InstructionVerdict } from "../checks/rules/index.ts";
export { type CountDistribution, countWeights, DEFAULT_COUNTS, drawCount } from "./distribution.ts";
export { buildOfflineDataset, type Dataset, type DatasetOptions, splitSeeds } from "./library.ts";
export { LlmRoles, type LlmRolesOptions, type Requester } from "./llm-roles.ts";
export { describeSpec, generateSpec, sampleSpecs, toConstraint } from "./offline/generators.ts";
export { type OfflineOptions, OfflineRoles, offlineSeeds } from "./offline/provider.ts";
export { type Reply, respond as offlineRespond } from "./offline/responder.ts";
export { Rng } from "./offline/rng.ts";
export { SEEDS, type Seed } from "./offline/seeds.ts";
export {
  constructGroups,
  constructTrace,
  type GroupOptions,
  readSeeds,
  type TraceOptions,
  traceId,
} from "./pipeline.ts";
export { type DropCode, drop, ok, type Rewrite, type Roles, type SeedRecord, type StageResult } from "./roles.ts";
export { type Funnel, runChunked } from "./runner.ts";
export {
  controlStage,
  GROUP_STAGES,
  groupOne,
  type Reject,
  type StageCtx,
  TRACE_STAGES,
  type Trail,
  traceOne,
} from "./stages.ts";
