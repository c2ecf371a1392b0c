// Public surface of src/schema: zod schemas and inferred types for every record the project reads or writes.
export * from "./instruction.ts";
export * from "./records.ts";
export * from "./taxonomy.ts";
export * from "./taxonomy-file.ts";
