// Public surface of src/export: a model directory as a GGUF file for llama.cpp / Ollama (writer, reader, f16 and
// Q8_0 number formats, tokenizer metadata).
export {
  GGUF_ALIGNMENT,
  type GgufFile,
  type GgufTensor,
  type GgufValue,
  readGguf,
  TENSOR_TYPE,
  type TensorDtype,
  writeGguf,
} from "./gguf-file.ts";
export {
  EXPORT_DTYPES,
  type ExportDtype,
  type ExportGgufOptions,
  type ExportGgufResult,
  exportGguf,
  ggufTensorName,
  loadExportable,
  permuteRope,
} from "./model-gguf.ts";
export { decodeF16, dequantizeQ8_0, encodeF16, f32ToF16, Q8_0_BLOCK, Q8_0_BYTES, quantizeQ8_0 } from "./quant.ts";
export { tokenizerMetadata } from "./tokenizer-gguf.ts";
