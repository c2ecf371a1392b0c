// Output and input paths checked up front: a directory where a file is expected (and vice versa), a parent that
// is a file, a read-only location. Checked before any work so a long run never fails at its last write; and one
// mapping from Node's fs error codes to an IopoError with a HINT (no "unexpected error" stack for EACCES).

import { accessSync, constants, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError, DataError, type IopoError } from "../errors.ts";

// ---- helpers ----

const HINTS: Readonly<Record<string, string>> = {
  EACCES: "no permission: check the owner and mode (ls -ld) or choose a writable location",
  EPERM: "the operation is not permitted there: choose another location",
  EROFS: "the file system is read-only: choose a writable location",
  EISDIR: "a directory is in the way: give a file path",
  ENOTDIR: "a part of the path is a file, not a directory: fix the path",
  ENOENT: "check the path (it does not exist)",
  ENOSPC: "the disk is full: free space or choose another location",
  EMFILE: "too many open files: raise `ulimit -n`",
};

const stat = (p: string) => {
  try {
    return statSync(p);
  } catch {
    return null;
  }
};

/** The nearest existing ancestor of `path` (itself if it exists). */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!stat(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function checkWritableDir(dir: string, path: string, flag: string): void {
  const info = stat(dir);
  if (info && !info.isDirectory())
    throw new ConfigError(`${flag}: a part of the path is a file, not a directory`, {
      path,
      expected: "a path under a directory",
      got: `${dir} is a file`,
      hint: `choose another ${flag}, or move ${dir} away`,
    });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ConfigError(`${flag}: cannot write there`, {
      path,
      expected: "a writable directory",
      got: `no write permission on ${dir} (EACCES)`,
      hint: `choose a writable location for ${flag}, or fix the permissions of ${dir} (ls -ld ${dir})`,
    });
  }
}

// ---- exports ----

/** An fs error (errno code) as an IopoError naming the path, with a HINT; other errors are returned unchanged. */
export function fileError(err: unknown, path: string, expected: string): IopoError | unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (!code) return err;
  return new DataError(`cannot access the file (${code})`, {
    path,
    expected,
    got: (err as Error).message.replace(/^[A-Z]+: /, ""),
    hint: HINTS[code] ?? "check the path and its permissions",
    cause: err,
  });
}

/** The HINT for an fs error code, if there is one. */
export const fsHint = (code: string | undefined): string | undefined => (code ? HINTS[code] : undefined);

/** Refuse an output file path that is a directory, sits under a file, or cannot be written. */
export function checkOutputFile(path: string, flag = "--out"): void {
  const info = stat(path);
  if (info?.isDirectory())
    throw new ConfigError(`${flag} is a directory`, {
      path,
      expected: "a file path",
      got: "an existing directory",
      hint: `give a file name, e.g. ${flag} ${path.replace(/\/$/, "")}/out.jsonl`,
    });
  checkWritableDir(info ? dirname(resolve(path)) : existingAncestor(dirname(resolve(path))), path, flag);
}

/** Refuse an output directory path that is a file, sits under a file, or cannot be written. */
export function checkOutputDir(path: string, flag = "--out"): void {
  const info = stat(path);
  if (info && !info.isDirectory())
    throw new ConfigError(`${flag} is a file`, {
      path,
      expected: "a directory path",
      got: "an existing file",
      hint: `give a directory, e.g. ${flag} ${path}.d, or remove the file`,
    });
  checkWritableDir(info ? resolve(path) : existingAncestor(path), path, flag);
}

/** Refuse an input path that does not exist or is not a file. */
export function checkInputFile(path: string, flag: string): void {
  const info = stat(path);
  if (!info)
    throw new DataError(`cannot read file given to ${flag}`, {
      path,
      expected: "an existing file",
      got: "no such file",
      hint: `check the path given to ${flag}`,
    });
  if (info.isDirectory())
    throw new DataError(`cannot read file given to ${flag}: it is a directory`, {
      path,
      expected: "a file",
      got: "a directory",
      hint: `give a file inside it to ${flag}`,
    });
}

/** Refuse an input directory that does not exist, is a file, or lacks `holds` (e.g. config.json of a model). */
export function checkInputDir(path: string, flag: string, holds?: string): void {
  const info = stat(path);
  if (!info?.isDirectory())
    throw new DataError(`cannot read the directory given to ${flag}`, {
      path,
      expected: "an existing directory",
      got: info ? "a file" : "no such directory",
      hint: `check the path given to ${flag}`,
    });
  if (holds !== undefined && !stat(join(path, holds)))
    throw new DataError(`the directory given to ${flag} has no ${holds}`, {
      path,
      expected: `a directory holding ${holds}`,
      got: "no such file in it",
      hint: `give ${flag} a model directory (config.json, model.safetensors, tokenizer.json), e.g. one made by iopo init-model or iopo train`,
    });
}
