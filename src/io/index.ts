// Public surface of src/io: streaming JSONL with file:line errors, atomic writes, the TRACE prompt layout,
// and the format adapters (trace, llamafactory, trl, and the project's own JSONL formats).
export * from "./formats/index.ts";
export { readJsonArrayElements } from "./json-array.ts";
export * from "./jsonl.ts";
export * from "./layout.ts";
export * from "./paths.ts";
