// Public surface of src/llm: providers, request engine, cache, retry policy, accounting, progress, generate job.
// Other folders import from here only.

export { Accounting, type AccountingReport, formatReport, percentile } from "./accounting.ts";
export { CACHE_SCHEMA_VERSION, type CachedResult, cacheKey, canonicalJson, ResponseCache } from "./cache.ts";
export {
  type Endpoint,
  type EngineOptions,
  type EngineOutcome,
  type EngineRequest,
  type ReplyParser,
  RequestEngine,
  type RunSummary,
} from "./engine.ts";
export {
  Aborted,
  AuthError,
  BadRequest,
  ConnectionError,
  fromHttp,
  type HeaderMap,
  InvalidReply,
  LlmError,
  RateLimited,
  redact,
  ServerError,
  Timeout,
  toHeaderMap,
} from "./errors.ts";
export {
  type GenerateJob,
  type GenerateJobResult,
  type GenerateOutcome,
  loadGenerateInput,
  runGenerateJob,
} from "./generate.ts";
export { checkGgufFile, GgufProvider, type GgufProviderOptions } from "./gguf.ts";
export { createHttpFetch } from "./http-fetch.ts";
export { normaliseFinish, OpenAIProvider, type OpenAIProviderOptions, parseBaseUrl, redactUrl } from "./openai.ts";
export { createProgress, type Progress, type ProgressCounts, progressLine } from "./progress.ts";
export { type CallOptions, type ChatProvider, type Clock, realClock, sleep } from "./provider.ts";
export { isRetryable, nextDelay, serverDelay } from "./retry.ts";
export {
  type ChatMessage,
  ChatMessageSchema,
  type ChatOptions,
  ChatOptionsSchema,
  type ChatResult,
  ChatResultSchema,
  type Failure,
  type FailureCause,
  FailureCauseSchema,
  FailureSchema,
  type Finish,
  type GenerateInput,
  GenerateInputSchema,
  type GenerateOutput,
  GenerateOutputSchema,
  type PriceTable,
  PriceTableSchema,
  type Usage,
} from "./schema.ts";
export { jsonReply, jsonSchemaOf, runStructured } from "./structured.ts";
