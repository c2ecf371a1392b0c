// Public surface of src/report: data-file statistics (and, later, the HTML report).
export * from "./stats.ts";
