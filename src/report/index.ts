// Public surface of src/report: data-file statistics and the demo's HTML report with its inline SVG charts.
export * from "./html.ts";
export * from "./stats.ts";
export * from "./svg.ts";
