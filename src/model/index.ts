// Public surface of src/model: config, parameter table, safetensors, HF model directories, tokenizer, init-model.
// (The engine helper appends the Llama forward graph exports below.)

export {
  type AddedTokenSpec,
  type BpeModel,
  byteLevelBpeTokenizerJson,
  bytesToUnicode,
  parseVocabAndMerges,
  QWEN2_SPLIT_PATTERN,
  type TrainBpeOptions,
  toByteLevel,
  trainByteLevelBpe,
} from "./bpe.ts";
export {
  checkSequenceLength,
  type ModelConfig,
  ModelConfigSchema,
  type ModelDims,
  modelDims,
  type NewConfigOptions,
  newModelConfig,
  parseModelConfig,
  RopeScalingSchema,
} from "./config.ts";
export { type CreateModelOptions, createModel, SPECIAL_TOKENS } from "./create.ts";
export { type GenerateOptions, type Generation, Generator, ModelProvider } from "./generate.ts";
export {
  configDtype,
  halfHeld,
  holdsHalf,
  loadModelConfig,
  loadModelDir,
  type ModelDir,
  type SaveOptions,
  SIDE_FILES,
  type SideFile,
  saveModelDir,
} from "./hfdir.ts";
export { initParams, makeRng } from "./init.ts";
export {
  type AttentionInputs,
  type BatchInputs,
  batchFeeds,
  batchInputs,
  causalBias,
  type DecoderOptions,
  decoder,
  forward,
  hidden,
  type KvCacheInputs,
  LORA_SCALE_KEY,
  llamaInputs,
  lmHead,
  type ParamNodes,
  paramFeeds,
  paramInputs,
  type ScoredSequence,
  sequenceLogps,
} from "./llama.ts";
export {
  type Adapter,
  AdapterConfigSchema,
  initLora,
  isAdapterDir,
  LORA_MODULES,
  type LoraModule,
  type LoraSpec,
  loadAdapter,
  loraModuleOf,
  loraTable,
  mergeLora,
  parseLoraTargets,
  saveAdapter,
  writeAdapterFiles,
} from "./lora.ts";
export {
  checkMemory,
  estimateMemory,
  formatBytes,
  MEMORY_FIT,
  type MemoryEstimate,
  type MemoryOption,
  type MemoryRun,
  memoryOptions,
} from "./memory.ts";
export {
  type PackedInputs,
  type PackedRow,
  packedFeeds,
  packedInputs,
  packedLogps,
  packRows,
  SPLIT_MIN_SCORES,
  splitPays,
} from "./packed.ts";
export {
  allocateParams,
  countParams,
  float32Tensors,
  getParam,
  type HalfTensor,
  type HeldTensor,
  isHalfTensor,
  type LoadedTensor,
  type ModelParams,
  numel,
  type ParamSpec,
  paramsFromTensors,
  paramTable,
} from "./params.ts";
export { Rng, type RngState } from "./rng.ts";
export {
  type RopeFrequencies,
  type RopeSpec,
  ropeFrequencies,
  ropeSpec,
  ropeTables,
  ropeTheta,
} from "./rope.ts";
export {
  decodeToF32,
  encodeHeader,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  openSafetensors,
  readSafetensors,
  type SafetensorsDtype,
  type SafetensorsReader,
  type TensorInfo,
  type TensorToWrite,
  type WritableDtype,
  writeSafetensors,
} from "./safetensors.ts";
export {
  CHATML_TEMPLATE,
  type ChatMessage,
  type ChatTemplateOptions,
  loadTokenizer,
  ModelTokenizer,
  PLAIN_CHAT_TEMPLATE,
  type TokenizerConfig,
} from "./tokenizer.ts";
export { checkTokenIds, checkTokenizerFitsModel } from "./vocab-check.ts";
