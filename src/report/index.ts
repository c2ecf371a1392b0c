// Public surface of src/report: data-file statistics, the paired bootstrap, and the demo's HTML report with its
// inline SVG charts and tables.
export * from "./bootstrap.ts";
export * from "./html.ts";
export * from "./stats.ts";
export * from "./svg.ts";
export * from "./tables.ts";
