// Public surface of src/construct: TRACE construction stages, IOPO groups and DPO pairs, the offline world,
// the LLM roles, resumable runs, and the in-process dataset builder.
export { checkResponse, type InstructionVerdict } from "../checks/rules/index.ts";
export { type CountDistribution, countWeights, DEFAULT_COUNTS, drawCount } from "./distribution.ts";
export { GROUP_STAGES, type GroupResult, groupOne } from "./groups.ts";
export { buildOfflineDataset, type Dataset, type DatasetOptions, splitSeeds } from "./library.ts";
export { LlmRoles, type LlmRolesOptions, type Requester } from "./llm-roles.ts";
export { LlmTaxonomyRoles } from "./llm-taxonomy.ts";
export {
  describeSpec,
  generateSpec,
  inventWord,
  KEYWORD_POOLS,
  type KeywordPool,
  sampleSpecs,
  toConstraint,
} from "./offline/generators.ts";
export { type OfflineOptions, OfflineRoles, offlineSeeds } from "./offline/provider.ts";
export { type Reply, respond as offlineRespond } from "./offline/responder.ts";
export { Rng } from "./offline/rng.ts";
export { SEEDS, type Seed, VALIDATION_SEEDS } from "./offline/seeds.ts";
export { OfflineTaxonomyRoles } from "./offline/taxonomy.ts";
export {
  constructGroups,
  constructTrace,
  type GroupOptions,
  readSeeds,
  type TraceOptions,
  traceId,
} from "./pipeline.ts";
export { dedupe, QC_CODE, qcStage, staticProblems } from "./quality.ts";
export {
  type DropCode,
  drop,
  type GroupDraft,
  ok,
  QC_STAGES,
  type QcAspect,
  type RationalityVerdict,
  type Rewrite,
  type Roles,
  type SeedRecord,
  type StageResult,
  type TaxonomyRoles,
  type TypeCluster,
} from "./roles.ts";
export { type Counts, type Funnel, runChunked } from "./runner.ts";
export { type Reject, type StageCtx, TRACE_STAGES, type Trail, traceOne } from "./stages.ts";
export {
  constructTaxonomy,
  type InductionSummary,
  induce,
  normalizeName,
  type TaxonomyOptions,
} from "./taxonomy.ts";
export { readTaxonomy } from "./taxonomy-read.ts";
