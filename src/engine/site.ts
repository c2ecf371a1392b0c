// Provenance: the creation site of a node or an error, as `file:line` of the first stack frame outside src/engine.
// Only the stack string is read (it is source-mapped under tsx, so lines are the TypeScript lines).

const ENGINE_DIR = new URL(".", import.meta.url).pathname;

/** The first stack frame outside src/engine, as `file:line` (relative to the working directory when inside it). */
export function callerSite(): string {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = saved;
  for (const line of stack.split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1].replace(/^file:\/\//, "");
    if (file.startsWith(ENGINE_DIR) || file.includes("/node_modules/") || file.startsWith("node:")) continue;
    const cwd = `${process.cwd()}/`;
    return `${file.startsWith(cwd) ? file.slice(cwd.length) : file}:${m[2]}`;
  }
  return "<unknown>";
}
